import { describe, expect, it } from 'vitest';
import { compactJson } from './json.ts';
import { splitRows } from './split.ts';

function rows(n: number, classes: number): { rowKeys: string[]; y: number[] } {
  const y = Array.from({ length: n }, (_, i) => i % classes);
  return { rowKeys: y.map((c, i) => compactJson([i, i * 0.5, c])), y };
}

describe('splitRows', () => {
  const spec = { holdout: 0.3, folds: 5, seed: 42 };

  it('partitions every row into exactly one of training and hold-out, and training into folds', () => {
    const data = rows(300, 3);
    const split = splitRows(data, spec);
    expect(new Set([...split.train, ...split.holdout]).size).toBe(300);
    expect(split.train.length + split.holdout.length).toBe(300);
    expect(split.folds.flat().sort((a, b) => a - b)).toEqual(split.train);
  });

  it('holds out close to the configured fraction (within 0.08 at 300 rows)', () => {
    const split = splitRows(rows(300, 3), spec);
    expect(Math.abs(split.holdout.length / 300 - 0.3)).toBeLessThan(0.08);
  });

  it('keeps a row on its side when rows are added and the order changes', () => {
    const before = rows(120, 3);
    const after = rows(200, 3);
    after.rowKeys.reverse();
    after.y.reverse();
    const a = splitRows(before, spec);
    const b = splitRows(after, spec);
    const heldBefore = new Set(a.holdout.map((i) => before.rowKeys[i]));
    const heldAfter = new Set(b.holdout.map((i) => after.rowKeys[i]));
    for (const key of before.rowKeys) expect(heldAfter.has(key)).toBe(heldBefore.has(key));
  });

  it('changes the split with the seed', () => {
    const data = rows(200, 2);
    expect(splitRows(data, { ...spec, seed: 1 }).holdout).not.toEqual(
      splitRows(data, spec).holdout,
    );
  });

  it('stratifies folds: each class is spread over the folds within one row', () => {
    const data = rows(150, 3);
    const split = splitRows(data, spec);
    for (let c = 0; c < 3; c++) {
      const perFold = split.folds.map((f) => f.filter((i) => data.y[i] === c).length);
      expect(Math.max(...perFold) - Math.min(...perFold)).toBeLessThanOrEqual(1);
    }
  });

  it('puts identical rows on the same side', () => {
    const data = {
      rowKeys: ['["x",0]', '["x",0]', '["y",0]', '["z",1]', '["w",1]', '["v",1]'],
      y: [0, 0, 0, 1, 1, 1],
    };
    const split = splitRows(data, { holdout: 0.5, folds: 2, seed: 3 });
    expect(split.holdout.includes(0)).toBe(split.holdout.includes(1));
  });

  it('gives every class at least one hold-out and one training row', () => {
    const data = { rowKeys: ['a', 'b', 'c', 'd'], y: [0, 0, 1, 1] };
    for (const seed of [0, 1, 2, 3, 4, 5]) {
      const split = splitRows(data, { holdout: 0.01, folds: 2, seed });
      expect(new Set(split.holdout.map((i) => data.y[i]))).toEqual(new Set([0, 1]));
      const high = splitRows(data, { holdout: 0.99, folds: 2, seed });
      expect(new Set(high.train.map((i) => data.y[i]))).toEqual(new Set([0, 1]));
    }
  });
});
