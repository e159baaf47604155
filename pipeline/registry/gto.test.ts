import { describe, expect, it } from 'vitest';
import { GTO_TAG, parseGtoTag, planGtoTags, versionTag } from './gto.ts';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const C = 'c'.repeat(40);
const versions = [
  { version: 1, commit: A },
  { version: 2, commit: B },
  { version: 3, commit: C },
];

describe("GTO's tags for the registry", () => {
  it("names versions and stages in GTO's format, which GTO's own pattern parses", () => {
    expect(versionTag('iris', 3)).toBe('iris@v3.0.0');
    expect(parseGtoTag('iris@v3.0.0')).toEqual({ artifact: 'iris', version: 'v3.0.0', cancel: false });
    expect(parseGtoTag('iris#prod#4')).toEqual({ artifact: 'iris', stage: 'prod', cancel: false, counter: 4 });
    expect(parseGtoTag('iris#prod!#5')).toEqual({ artifact: 'iris', stage: 'prod', cancel: true, counter: 5 });
    expect(parseGtoTag('churn/eu@v1.0.0')?.artifact).toBe('churn/eu');
    for (const bad of ['v1.2.0', 'iris@3', 'iris@v3', 'Iris@v1.0.0', 'iris#prod#x', '9iris@v1.0.0'])
      expect(GTO_TAG.test(bad), bad).toBe(false);
  });

  it('tags every version on its registration commit, then the production stage on its version', () => {
    const plan = planGtoTags({ model: 'iris', versions, pins: { production: 2 }, tags: [] });
    expect(plan).toEqual({
      tags: [
        { name: 'iris@v1.0.0', commit: A, message: 'Registering artifact iris version v1.0.0' },
        { name: 'iris@v2.0.0', commit: B, message: 'Registering artifact iris version v2.0.0' },
        { name: 'iris@v3.0.0', commit: C, message: 'Registering artifact iris version v3.0.0' },
        {
          name: 'iris#prod#1',
          commit: B,
          message: 'Assigning stage prod to artifact iris version v2.0.0',
        },
      ],
    });
  });

  it('counts up over the model’s tags, writes nothing twice, and unassigns a removed pin', () => {
    const tags = [
      { name: 'iris@v1.0.0', commit: A },
      { name: 'iris@v2.0.0', commit: B },
      { name: 'iris@v3.0.0', commit: C },
      { name: 'iris#prod#1', commit: B },
      { name: 'iris#canary#2', commit: C },
      { name: 'wine#prod#9', commit: A }, // another model's counter does not count
    ];
    // Unchanged: nothing to write.
    expect(planGtoTags({ model: 'iris', versions, pins: { production: 2, canary: 3 }, tags })).toEqual({ tags: [] });
    // A rollback to v1 and the canary removed.
    const plan = planGtoTags({ model: 'iris', versions, pins: { production: 1, canary: null }, tags });
    expect(plan).toMatchObject({
      tags: [
        { name: 'iris#prod#3', commit: A },
        { name: 'iris#canary!#4', commit: C, message: 'Unassigning stage canary from artifact iris version v3.0.0' },
      ],
    });
    // After the rollback's tag, GTO reads v1 in prod: nothing more.
    const after = [...tags, { name: 'iris#prod#3', commit: A }, { name: 'iris#canary!#4', commit: C }];
    expect(planGtoTags({ model: 'iris', versions, pins: { production: 1, canary: null }, tags: after })).toEqual({ tags: [] });
  });

  it("skips a model whose name GTO's pattern refuses, saying why", () => {
    const plan = planGtoTags({ model: 'iris.v2', versions, pins: { production: 1 }, tags: [] });
    expect(plan.skipped).toMatch(/GTO tags skipped for "iris\.v2"/);
    expect(planGtoTags({ model: '1iris', versions, pins: {}, tags: [] }).skipped).toBeDefined();
  });
});
