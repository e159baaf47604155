import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { jitteredRows } from './jittered-rows.ts';

const iris = await readFile(path.join(import.meta.dirname, '..', '..', 'data', 'iris.csv'), 'utf8');
const existing = iris
  .trim()
  .split('\n')
  .slice(1)
  .map((l) => l.split(','));

describe('jitteredRows', () => {
  it('makes the same rows from the same seed, and other rows from another seed', () => {
    const a = jitteredRows(iris, { count: 36, label: 'species', seed: 2026 });
    expect(jitteredRows(iris, { count: 36, label: 'species', seed: 2026 })).toEqual(a);
    expect(jitteredRows(iris, { count: 36, label: 'species', seed: 2027 })).not.toEqual(a);
  });

  it('cycles through the classes so their counts stay balanced', () => {
    const rows = jitteredRows(iris, { count: 36, label: 'species', seed: 1 });
    const counts: Record<string, number> = {};
    for (const row of rows) {
      const label = row.split(',')[4] as string;
      counts[label] = (counts[label] ?? 0) + 1;
    }
    expect(counts).toEqual({ setosa: 12, versicolor: 12, virginica: 12 });
  });

  it('moves every number of a row of its class by at most the jitter, one decimal, above zero', () => {
    const rows = jitteredRows(iris, { count: 90, label: 'species', seed: 3, jitter: 0.2 });
    for (const row of rows) {
      const cells = row.split(',');
      expect(cells.slice(0, 4).every((c) => /^\d+\.\d$/.test(c) && Number(c) > 0)).toBe(true);
      // Within the jitter plus half a unit of the last decimal (rounding) of some row of its class.
      const near = existing.some(
        (e) =>
          e[4] === cells[4] &&
          [0, 1, 2, 3].every((c) => Math.abs(Number(e[c]) - Number(cells[c])) <= 0.2 + 0.05 + 1e-9),
      );
      expect(near, row).toBe(true);
    }
  });

  it('refuses a label column the dataset does not have', () => {
    expect(() => jitteredRows(iris, { count: 1, label: 'variety', seed: 1 })).toThrow(
      'the dataset has no column "variety"',
    );
  });
});
