/**
 * Paired statistics for comparing two classifiers on the same rows, built on
 * `simple-statistics` (which has neither a McNemar test nor bootstrap intervals):
 *
 * - the exact McNemar test on the discordant pairs, two-sided, through the binomial
 *   distribution (the lower tail summed in log space over `simple-statistics`' `gammaln`);
 * - percentile bootstrap intervals, resampling rows with replacement (so pairs stay paired)
 *   through `simple-statistics`' `sampleWithReplacement` and a seeded PRNG (mulberry32).
 *
 * Reference values come from scipy (`pipeline/fixtures/make_stats_reference.py`).
 */
import { gammaln, sampleWithReplacement } from 'simple-statistics';

/** The exact McNemar test on the counts of discordant pairs. */
export interface McNemarResult {
  /** Rows the first model got right and the second wrong. */
  b: number;
  /** Rows the first model got wrong and the second right. */
  c: number;
  /** Two-sided exact p-value: `min(1, 2·P(X ≤ min(b, c)))`, X ~ Binomial(b + c, ½); 1 when b + c = 0. */
  pValue: number;
}

/** `ln Σ exp(xs)` without overflow. */
function logSumExp(xs: readonly number[]): number {
  const max = Math.max(...xs);
  if (max === -Infinity) return -Infinity;
  let sum = 0;
  for (const x of xs) sum += Math.exp(x - max);
  return max + Math.log(sum);
}

/**
 * P(X ≤ k) for X ~ Binomial(n, ½), summed in log space so it stays exact where `2⁻ⁿ`
 * underflows (n > 1074). `simple-statistics`' `binomialDistribution` would do for small n,
 * but it stops at a cumulative 1 − 10⁻⁴ and refuses tables of 10⁶ cells.
 */
export function binomialHalfCdf(k: number, n: number): number {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`n must be a whole number ≥ 0, got ${n}`);
  if (k < 0) return 0;
  if (k >= n) return 1;
  const logFactN = gammaln(n + 1);
  const logHalfPowN = -n * Math.LN2;
  const terms: number[] = [];
  for (let i = 0; i <= Math.floor(k); i++) {
    terms.push(logFactN - gammaln(i + 1) - gammaln(n - i + 1) + logHalfPowN);
  }
  return Math.min(1, Math.exp(logSumExp(terms)));
}

/**
 * The exact (binomial) McNemar test of whether two models err at the same rate on paired
 * rows, from the discordant counts alone: under the null hypothesis each discordant row is
 * a fair coin, so `min(b, c)` is Binomial(b + c, ½) and the two-sided p-value doubles its
 * lower tail (capped at 1). Matches `scipy.stats.binomtest(min(b, c), b + c).pvalue`.
 */
export function mcnemarExact(b: number, c: number): McNemarResult {
  for (const [name, v] of [
    ['b', b],
    ['c', c],
  ] as const) {
    if (!Number.isInteger(v) || v < 0)
      throw new RangeError(`${name} must be a count ≥ 0, got ${v}`);
  }
  const n = b + c;
  const pValue = n === 0 || b === c ? 1 : Math.min(1, 2 * binomialHalfCdf(Math.min(b, c), n));
  return { b, c, pValue };
}

/**
 * mulberry32: a small, fast 32-bit PRNG with a single seed, returning numbers in [0, 1).
 * Plenty for resampling indices; not for anything secret.
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The q-quantile of sorted values with linear interpolation between order statistics
 * (Hyndman–Fan type 7, numpy's default `linear`, which scipy's percentile bootstrap uses).
 * `simple-statistics`' `quantileSorted` picks order statistics without interpolating.
 */
export function quantileLinear(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) throw new RangeError('quantile of no values');
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  const a = sorted[lo] as number;
  const b = sorted[hi] as number;
  return a + (h - lo) * (b - a);
}

export interface BootstrapOptions {
  /** Number of resamples (e.g. 2000). */
  resamples: number;
  /** Seed of the PRNG that draws the rows. */
  seed: number;
  /** Two-sided confidence level, e.g. 0.95. */
  confidence: number;
}

/** A percentile bootstrap interval and how it was made. */
export interface BootstrapInterval {
  /** The statistic on the rows as they are. */
  estimate: number;
  low: number;
  high: number;
  confidence: number;
  resamples: number;
  seed: number;
  method: 'percentile';
  prng: 'mulberry32';
}

/**
 * Percentile bootstrap interval of a statistic over `n` paired rows: draws `resamples`
 * samples of n row indices with replacement and takes the `(1 − confidence)/2` and
 * `(1 + confidence)/2` quantiles of the statistic over them. `statistic` receives the row
 * indices of a sample (the identity for the estimate), so every measure of a row moves
 * together. Same inputs and seed → the same interval.
 */
export function percentileBootstrap(
  n: number,
  statistic: (rows: readonly number[]) => number,
  options: BootstrapOptions,
): BootstrapInterval {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`need at least one row, got ${n}`);
  if (!Number.isInteger(options.resamples) || options.resamples < 1) {
    throw new RangeError(`resamples must be a whole number ≥ 1, got ${options.resamples}`);
  }
  if (!(options.confidence > 0 && options.confidence < 1)) {
    throw new RangeError(`confidence must be in (0, 1), got ${options.confidence}`);
  }
  const all = Array.from({ length: n }, (_, i) => i);
  const random = seededRandom(options.seed);
  const values: number[] = [];
  for (let r = 0; r < options.resamples; r++) {
    values.push(statistic(sampleWithReplacement(all, n, random)));
  }
  values.sort((a, b) => a - b);
  const tail = (1 - options.confidence) / 2;
  return {
    estimate: statistic(all),
    low: quantileLinear(values, tail),
    high: quantileLinear(values, 1 - tail),
    confidence: options.confidence,
    resamples: options.resamples,
    seed: options.seed,
    method: 'percentile',
    prng: 'mulberry32',
  };
}
