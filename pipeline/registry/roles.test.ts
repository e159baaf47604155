import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../errors.ts';
import { repoRoot } from '../testing/runtimes.ts';
import type { HistoryEntry, ProductionHistory } from './history.ts';
import { planRoleChange } from './plan-role-change.ts';
import { planPromotion, planRollback } from './plan.ts';
import type { ModelState } from './registry.ts';
import {
  parseWeight,
  pinsFor,
  promotedRoles,
  rolesOf,
  rolledBackRoles,
  type Roles,
} from './roles.ts';
import { cardSchema, pinsSchema, type Card } from './schema.ts';

const card: Card = cardSchema.parse(
  JSON.parse(
    await readFile(path.join(repoRoot, 'registry/iris/versions/1/card.json'), 'utf8'),
  ) as unknown,
);
const BASE = 'b'.repeat(40);

/** iris with v1..v4 registered and `pins` as its pins.json. */
function state(pins: Roles | undefined): ModelState {
  return {
    model: 'iris',
    commit: BASE,
    pins: pins === undefined ? undefined : pinsFor('iris', pins),
    cards: [1, 2, 3, 4].map((version) => ({ ...card, model: 'iris', version })),
  };
}

function written(plan: { files: { content: string }[] }): unknown {
  return JSON.parse(plan.files[0]?.content ?? 'null');
}

describe('pins with roles', () => {
  it('writes format 1 with production alone and format 2 with a canary or a shadow', () => {
    expect(pinsFor('iris', { production: 2 })).toEqual({
      formatVersion: 1,
      model: 'iris',
      production: 2,
    });
    expect(pinsFor('iris', { production: 2, shadow: { version: 3 } })).toEqual({
      formatVersion: 2,
      model: 'iris',
      production: 2,
      shadow: { version: 3 },
    });
    expect(rolesOf(pinsSchema.parse({ formatVersion: 1, model: 'iris', production: 1 }))).toEqual({
      production: 1,
    });
    expect(rolesOf(undefined)).toEqual({ production: null });
  });

  it('ends the canary on promotion, and a shadow only of the promoted version', () => {
    const roles = { production: 1, canary: { version: 2, weight: 0.1 }, shadow: { version: 3 } };
    expect(promotedRoles(roles, 2)).toEqual({
      roles: { production: 2, shadow: { version: 3 } },
      ended: { canary: 2 },
    });
    expect(promotedRoles(roles, 3)).toEqual({
      roles: { production: 3 },
      ended: { canary: 2, shadow: 3 },
    });
  });

  it('keeps the canary and the shadow on a rollback, but one of the restored version', () => {
    const roles = { production: 3, canary: { version: 2, weight: 0.1 }, shadow: { version: 4 } };
    expect(rolledBackRoles(roles, 1)).toEqual({ ...roles, production: 1 });
    expect(rolledBackRoles(roles, 2)).toEqual({ production: 2, shadow: { version: 4 } });
  });

  it('reads a weight strictly between 0 and 1, and refuses anything else as a usage error', () => {
    expect(parseWeight('0.1')).toBe(0.1);
    expect(parseWeight('.999')).toBe(0.999);
    for (const text of [undefined, '', '0', '1', '-0.1', '1.5', 'ten', 'NaN', 'Infinity']) {
      expect(() => parseWeight(text), String(text)).toThrow(UsageError);
    }
    expect(() => parseWeight(undefined)).toThrow(/^a canary needs --weight/);
  });
});

describe('planRoleChange', () => {
  it('plans a canary on its standing branch with the trailer, from the tip it was read at', () => {
    const plan = planRoleChange(state({ production: 1 }), {
      role: 'canary',
      version: 2,
      weight: 0.1,
    });
    expect(plan).toMatchObject({
      kind: 'canary',
      branch: 'pinml/canary-iris',
      base: BASE,
      from: null,
      to: 2,
      title: 'Canary iris@2 at 10% of traffic',
    });
    if ('status' in plan) throw new Error('unchanged');
    expect(plan.message).toBe(
      'pinml: canary iris@2 at 10% of traffic\n\nNo canary before; production stays iris@1.\n\n' +
        'Pinml-Model: iris\nPinml-Canary: 2@0.1\n',
    );
    expect(written(plan)).toEqual({
      formatVersion: 2,
      model: 'iris',
      production: 1,
      canary: { version: 2, weight: 0.1 },
    });
  });

  it('replaces a shadow and keeps the canary, and ends either one', () => {
    const now = state({ production: 1, canary: { version: 2, weight: 0.5 }, shadow: { version: 3 } });
    const shadow = planRoleChange(now, { role: 'shadow', version: 4 });
    expect(shadow).toMatchObject({ kind: 'shadow', branch: 'pinml/shadow-iris', from: 3, to: 4 });
    if ('status' in shadow) throw new Error('unchanged');
    expect(shadow.message).toContain('Replaces iris@3 as the shadow; production stays iris@1.');
    expect(shadow.message).toMatch(/\nPinml-Shadow: 4\n$/);
    expect(written(shadow)).toMatchObject({ canary: { version: 2, weight: 0.5 }, shadow: { version: 4 } });

    const off = planRoleChange(now, { role: 'canary', off: true });
    expect(off).toMatchObject({ title: 'End the canary iris@2', from: 2, to: null });
    if ('status' in off) throw new Error('unchanged');
    expect(off.message).toMatch(/\nPinml-Canary: off\n$/);
    expect(written(off)).toEqual({
      formatVersion: 2,
      model: 'iris',
      production: 1,
      shadow: { version: 3 },
    });
  });

  it('is unchanged when the role is set so already, or there is none to end', () => {
    const now = state({ production: 1, canary: { version: 2, weight: 0.1 } });
    expect(planRoleChange(now, { role: 'canary', version: 2, weight: 0.1 })).toEqual({
      status: 'unchanged',
      model: 'iris',
      reason: 'iris@2 is the canary at 10% already',
    });
    expect(planRoleChange(now, { role: 'canary', version: 2, weight: 0.2 })).toMatchObject({
      from: 2,
      to: 2,
    });
    expect(planRoleChange(now, { role: 'shadow', off: true })).toMatchObject({
      status: 'unchanged',
      reason: 'iris has no shadow',
    });
  });

  it('refuses production itself, an unregistered version, no production, and a weight out of range', () => {
    const now = state({ production: 1 });
    expect(() => planRoleChange(now, { role: 'shadow', version: 1 })).toThrow(
      'iris@1 is production already: a shadow is another version',
    );
    expect(() => planRoleChange(now, { role: 'shadow', version: 7 })).toThrow(
      'iris@7 is not registered (versions: v1, v2, v3, v4)',
    );
    expect(() => planRoleChange(state(undefined), { role: 'shadow', version: 2 })).toThrow(
      'iris has no production version: promote one before giving it a shadow',
    );
    expect(() => planRoleChange(now, { role: 'canary', version: 2, weight: 1 })).toThrow(UsageError);
  });

  it('leaves a promotion without roles writing format 1, and one with a shadow keeping it', () => {
    const plain = planPromotion(state({ production: 1 }), 2);
    if ('status' in plain) throw new Error('unchanged');
    expect(written(plain)).toEqual({ formatVersion: 1, model: 'iris', production: 2 });
    expect(plain.message).not.toContain('Ends');
    const kept = planPromotion(state({ production: 1, shadow: { version: 4 } }), 2);
    if ('status' in kept) throw new Error('unchanged');
    expect(written(kept)).toMatchObject({ formatVersion: 2, shadow: { version: 4 } });
  });
});

describe('planRollback with roles', () => {
  const who = { name: 'Ada', email: 'ada@example.com', timestamp: 0, timezoneOffset: 0 };
  const entry = (oid: string, before: number | null, after: number): HistoryEntry => ({
    kind: 'promote',
    commit: oid.repeat(40),
    merge: true,
    before,
    after,
    subject: `Merge pull request #${after}`,
    author: who,
    committer: who,
  });
  const history: ProductionHistory = {
    entries: [entry('1', null, 1), entry('2', 1, 2)],
    stack: [entry('1', null, 1), entry('2', 1, 2)],
    rolledBack: [],
  };
  const now = state({ production: 2, canary: { version: 3, weight: 0.1 }, shadow: { version: 1 } });

  it('reverts with git when no context is given or pins.json is as the promotion left it', () => {
    const before = pinsFor('iris', { production: 1 });
    for (const plan of [
      planRollback(now, history),
      planRollback(now, history, { changedSince: false, before }),
    ]) {
      expect(plan).toMatchObject({ revert: { commit: '2'.repeat(40), mainline: 1 }, files: [] });
    }
  });

  it('writes the production field alone after later role changes, under git revert’s line', () => {
    const plan = planRollback(now, history, { changedSince: true, before: undefined });
    expect(plan.revert).toBeUndefined();
    expect(plan).toMatchObject({ from: 2, to: 1, title: 'Roll back iris from v2 to v1' });
    expect(written(plan)).toEqual({
      formatVersion: 2,
      model: 'iris',
      production: 1,
      canary: { version: 3, weight: 0.1 },
    });
    expect(plan.message.split('\n')[0]).toBe('Revert "Merge pull request #2"');
    expect(plan.message).toContain(`\n\nThis reverts commit ${'2'.repeat(40)}.\n\n`);
    expect(plan.message).toMatch(/\n\nPinml-Model: iris\nPinml-Production: 1\n$/);
  });

  it('writes the field alone rather than give the rolled-back version its old role back', () => {
    const promoted = state({ production: 2 });
    const before = pinsFor('iris', { production: 1, canary: { version: 2, weight: 0.1 } });
    const plan = planRollback(promoted, history, { changedSince: false, before });
    expect(plan.message).toContain('a revert would make iris@2 the canary again');
    expect(written(plan)).toEqual({ formatVersion: 1, model: 'iris', production: 1 });
  });
});
