import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDataset } from '../dataset.ts';
import { seededRandom } from '../stats.ts';
import { repoRoot } from '../testing/runtimes.ts';
import { binCounts, quantileEdges, toShares } from './bins.ts';
import { DEFAULT_DRIFT_OPTIONS } from './options.ts';
import { profileReference } from './profile.ts';
import { ProfileBins } from './profile-psi.ts';
import { psi, sortedCopy } from './stats.ts';

const FEATURES = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];
const iris = parseDataset(await readFile(path.join(repoRoot, 'data', 'iris.csv'), 'utf8'), {
  path: 'data/iris.csv',
  features: FEATURES,
  label: 'species',
});
const train = Array.from({ length: iris.rows }, (_, i) => i).filter((i) => i % 3 !== 0);
const profile = profileReference({
  dataset: iris,
  train,
  holdoutConfusion: iris.classes.map(() => iris.classes.map(() => 1)),
});

/** `n` iris rows drawn at random, `shift` of each feature's spread added to sepal_width. */
function window(n: number, seed: number, shift: number): Record<string, number>[] {
  const random = seededRandom(seed);
  return Array.from({ length: n }, () => {
    const x = iris.X[Math.floor(random() * iris.rows)] as number[];
    const row = Object.fromEntries(FEATURES.map((f, j) => [f, x[j] as number]));
    row.sepal_width = (row.sepal_width as number) + shift * 0.44;
    return row;
  });
}

/** PSI as `pinml drift` computes it from the training rows themselves. */
function fromTrainingRows(rows: readonly Record<string, number>[], feature: string): number {
  const j = FEATURES.indexOf(feature);
  const reference = sortedCopy(Float64Array.from(train, (i) => iris.X[i]?.[j] as number));
  const edges = quantileEdges(reference, 10);
  const current = Float64Array.from(rows, (r) => r[feature] as number);
  return psi(toShares(binCounts(reference, edges)), toShares(binCounts(current, edges)));
}

describe("PSI against a card's reference profile", () => {
  it('equals the PSI `pinml drift` computes from the training rows, feature by feature', () => {
    for (const [seed, shift] of [
      [1, 0],
      [2, 1],
      [3, 2.5],
    ] as const) {
      const rows = window(400, seed, shift);
      const bins = new ProfileBins(profile);
      for (const r of rows) expect(bins.add(r)).toBe(true);
      const result = bins.result(DEFAULT_DRIFT_OPTIONS);
      expect(result?.rows).toBe(400);
      for (const f of result?.features ?? []) {
        // The profile's shares are rounded to 12 significant digits.
        expect(Math.abs(f.psi - fromTrainingRows(rows, f.feature))).toBeLessThan(1e-9);
      }
    }
  });

  it('grades the worst feature: none for traffic like the training rows, medium, high for a shift', () => {
    const calm = new ProfileBins(profile);
    for (const r of window(600, 4, 0)) calm.add(r);
    expect(calm.result(DEFAULT_DRIFT_OPTIONS)?.severity).toBe('none');
    const shifted = new ProfileBins(profile);
    for (const r of window(600, 5, 2)) shifted.add(r);
    const result = shifted.result(DEFAULT_DRIFT_OPTIONS);
    expect(result?.severity).toBe('high');
    const worst = result?.features.reduce((a, b) => (a.psi > b.psi ? a : b));
    expect(worst?.feature).toBe('sepal_width');
    expect(worst?.psi).toBeGreaterThanOrEqual(DEFAULT_DRIFT_OPTIONS.psiHigh);
    // 15 % of the rows with sepal_width 4.5 (above the training rows' range): medium.
    const medium = new ProfileBins(profile);
    window(600, 6, 0).forEach((r, k) => medium.add(k < 90 ? { ...r, sepal_width: 4.5 } : r));
    const m = medium.result(DEFAULT_DRIFT_OPTIONS);
    expect(m?.severity).toBe('medium');
    expect(m?.features.find((f) => f.feature === 'sepal_width')?.psi).toBeGreaterThan(0.1);
  });

  it('skips rows of another signature and gives nothing below minRows', () => {
    const bins = new ProfileBins(profile);
    expect(bins.add({ sepal_length: 5, sepal_width: 3, petal_length: 1 })).toBe(false);
    expect(bins.add({ ...window(1, 7, 0)[0], petal_width: Number.NaN })).toBe(false);
    for (const r of window(29, 8, 0)) bins.add(r);
    expect(bins.rows).toBe(29);
    expect(bins.result(DEFAULT_DRIFT_OPTIONS)).toBeNull();
    bins.add(window(1, 9, 0)[0] as Record<string, number>);
    expect(bins.result(DEFAULT_DRIFT_OPTIONS)?.rows).toBe(30);
  });
});
