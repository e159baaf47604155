import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { macroF1Of } from './metrics.ts';
import {
  binomialHalfCdf,
  mcnemarExact,
  percentileBootstrap,
  quantileLinear,
  seededRandom,
} from './stats.ts';

interface BootstrapCase {
  name: string;
  statistic: string;
  classes: number;
  yTrue: number[];
  production: number[];
  candidate: number[];
  estimate: number;
  low: number;
  high: number;
}

/** scipy's answers, written by pipeline/fixtures/make_stats_reference.py (CI has no scipy). */
const reference = JSON.parse(
  readFileSync(new URL('./fixtures/stats-reference.json', import.meta.url), 'utf8'),
) as {
  scipy: string;
  mcnemar: { b: number; c: number; pValue: number }[];
  bootstrap: { resamples: number; cases: BootstrapCase[] };
};

describe('mcnemarExact', () => {
  it('matches scipy.stats.binomtest to 1e-9 on every reference pair, ties and b + c = 0 included', () => {
    expect(reference.mcnemar.length).toBeGreaterThanOrEqual(8);
    expect(reference.mcnemar.some((r) => r.b + r.c === 0)).toBe(true);
    expect(reference.mcnemar.some((r) => r.b === r.c && r.b > 0)).toBe(true);
    let maxError = 0;
    for (const { b, c, pValue } of reference.mcnemar) {
      const ours = mcnemarExact(b, c).pValue;
      maxError = Math.max(maxError, Math.abs(ours - pValue));
      expect(Math.abs(ours - pValue), `b=${b} c=${c}`).toBeLessThanOrEqual(1e-9);
      // Tiny p-values must be right in relative terms too, not just below 1e-9.
      if (pValue > 1e-300) expect(Math.abs(ours / pValue - 1), `b=${b} c=${c}`).toBeLessThan(1e-9);
    }
    expect(maxError).toBeLessThanOrEqual(1e-9);
  });

  it('is symmetric in b and c and 1 without discordant rows', () => {
    expect(mcnemarExact(0, 0).pValue).toBe(1);
    expect(mcnemarExact(7, 7).pValue).toBe(1);
    expect(mcnemarExact(2, 11).pValue).toBe(mcnemarExact(11, 2).pValue);
  });

  it('refuses counts that are not whole numbers ≥ 0', () => {
    expect(() => mcnemarExact(-1, 3)).toThrow(RangeError);
    expect(() => mcnemarExact(1.5, 3)).toThrow(RangeError);
  });
});

describe('binomialHalfCdf', () => {
  it('sums the exact binomial tail (tolerance 1e-15 against exact fractions)', () => {
    // P(X <= 2), n = 10: (1 + 10 + 45) / 1024.
    expect(Math.abs(binomialHalfCdf(2, 10) - 56 / 1024)).toBeLessThan(1e-15);
    expect(binomialHalfCdf(-1, 10)).toBe(0);
    expect(binomialHalfCdf(10, 10)).toBe(1);
  });
});

describe('quantileLinear', () => {
  it('interpolates between order statistics as numpy does (exact)', () => {
    expect(quantileLinear([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantileLinear([1, 2, 3, 4], 0.025)).toBeCloseTo(1.075, 12);
    expect(quantileLinear([5], 0.9)).toBe(5);
  });
});

describe('seededRandom', () => {
  it('gives the same numbers for the same seed and others for another seed', () => {
    const a = seededRandom(7);
    const b = seededRandom(7);
    const c = seededRandom(8);
    const xs = Array.from({ length: 5 }, () => a());
    expect(Array.from({ length: 5 }, () => b())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c())).not.toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
  });
});

function statisticOf(kase: BootstrapCase): (rows: readonly number[]) => number {
  if (kase.statistic.startsWith('accuracy')) {
    const d = kase.yTrue.map(
      (t, i) => (kase.candidate[i] === t ? 1 : 0) - (kase.production[i] === t ? 1 : 0),
    );
    return (rows) => rows.reduce((s, i) => s + (d[i] as number), 0) / rows.length;
  }
  return (rows) =>
    macroF1Of(kase.yTrue, kase.candidate, rows, kase.classes) -
    macroF1Of(kase.yTrue, kase.production, rows, kase.classes);
}

describe('percentileBootstrap against scipy.stats.bootstrap(method="percentile", paired)', () => {
  for (const kase of reference.bootstrap.cases) {
    it(`agrees within 0.01 at each end: ${kase.statistic}, ${kase.name}`, () => {
      expect(kase.yTrue.length).toBeGreaterThanOrEqual(200);
      const interval = percentileBootstrap(kase.yTrue.length, statisticOf(kase), {
        resamples: 2000,
        seed: 7,
        confidence: 0.95,
      });
      expect(Math.abs(interval.estimate - kase.estimate)).toBeLessThan(1e-12);
      expect(Math.abs(interval.low - kase.low)).toBeLessThanOrEqual(0.01);
      expect(Math.abs(interval.high - kase.high)).toBeLessThanOrEqual(0.01);
    });
  }

  it('gives the same interval for the same seed and says how it was made', () => {
    const kase = reference.bootstrap.cases[0] as BootstrapCase;
    const options = { resamples: 500, seed: 3, confidence: 0.9 };
    const a = percentileBootstrap(kase.yTrue.length, statisticOf(kase), options);
    const b = percentileBootstrap(kase.yTrue.length, statisticOf(kase), options);
    expect(b).toEqual(a);
    expect(a).toMatchObject({ method: 'percentile', prng: 'mulberry32', resamples: 500, seed: 3 });
    const other = percentileBootstrap(kase.yTrue.length, statisticOf(kase), {
      ...options,
      seed: 4,
    });
    expect([other.low, other.high]).not.toEqual([a.low, a.high]);
  });

  it('gives a zero-width interval when the models never disagree', () => {
    const interval = percentileBootstrap(50, () => 0, {
      resamples: 100,
      seed: 1,
      confidence: 0.95,
    });
    expect([interval.low, interval.high]).toEqual([0, 0]);
  });
});
