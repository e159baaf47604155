/**
 * Drift's statistics, each equal to its scipy 1.10 / numpy 1.24 counterpart to within 1e-9
 * (`stats.test.ts` checks them against `fixtures/scipy.json`, which `fixtures/make-fixtures.py`
 * writes with scipy): the two-sample Kolmogorov–Smirnov test, the Wasserstein distance, the χ²
 * goodness-of-fit test, Evidently's two-proportion Z-test, the Jensen–Shannon distance and the
 * population stability index. Sums run in numpy's order ({@link numpySum}), so the distances
 * and the χ² statistic are bit-identical to scipy's.
 *
 * The two-sample functions take ascending arrays: sorting is the caller's, so a caller that
 * compares many windows with one reference sorts the reference once ({@link sortedCopy}). They
 * check the order (one pass) and refuse NaN, which has no place in an order.
 */
import { ksTwoSampleAsymptotic, ksTwoSampleExact } from './kolmogorov.ts';
import { chiSquareSf, normalSf, numpySum, numpySummer } from './special.ts';

/** The values as a new ascending Float64Array (a NaN sorts last, and the two-sample functions refuse it). */
export function sortedCopy(values: ArrayLike<number>): Float64Array {
  return Float64Array.from(values).sort();
}

function checkSorted(values: ArrayLike<number>, name: string): void {
  if (values.length === 0)
    throw new RangeError(`${name} is empty: a two-sample statistic needs values on both sides`);
  for (let i = 1; i < values.length; i++) {
    if (!((values[i - 1] as number) <= (values[i] as number))) {
      throw new RangeError(
        `${name} is not in ascending order at index ${i} (${values[i - 1]} then ${values[i]}), or holds NaN: sort it first (sortedCopy) and drop missing values`,
      );
    }
  }
  if (Number.isNaN(values[0])) throw new RangeError(`${name} holds NaN: drop missing values first`);
}

/** The two-sample KS test's outcome; `method` says how the p-value was computed. */
export interface KsResult {
  /** D = sup |F₁ − F₂|; on the exact path scipy's h/lcm(n₁, n₂), the same value rounded. */
  statistic: number;
  pValue: number;
  /** `exact`: the exact null distribution; `asymp`: kstwo.sf(D, round(n₁n₂/(n₁ + n₂))). */
  method: 'exact' | 'asymp';
}

/** Above this many values in either sample, 'auto' goes straight to the asymptotic p-value. */
const MAX_EXACT_N = 10_000;

/**
 * `scipy.stats.ks_2samp(a, b)` with its defaults (two-sided, method 'auto'): exact when both
 * samples have at most 10,000 values, unless that computation falls outside [0, 1] (scipy
 * then warns and goes on as below); else `kstwo.sf(D, round(n₁n₂/(n₁ + n₂)))`, halves rounded
 * to even as numpy does. One merge over the two ascending arrays: O(n₁ + n₂).
 *
 * @param sortedA ascending values, no NaN (the caller sorts: see the module's note)
 * @param sortedB ascending values, no NaN
 */
export function ksTwoSample(sortedA: ArrayLike<number>, sortedB: ArrayLike<number>): KsResult {
  checkSorted(sortedA, 'the first sample');
  checkSorted(sortedB, 'the second sample');
  const n1 = sortedA.length;
  const n2 = sortedB.length;
  let maxS = -Infinity;
  let minS = Infinity;
  let i = 0;
  let j = 0;
  // At each distinct value v: the two empirical CDFs there, as scipy's searchsorted(…, 'right').
  while (i < n1 || j < n2) {
    const v =
      i < n1 && (j >= n2 || (sortedA[i] as number) <= (sortedB[j] as number))
        ? (sortedA[i] as number)
        : (sortedB[j] as number);
    while (i < n1 && (sortedA[i] as number) <= v) i++;
    while (j < n2 && (sortedB[j] as number) <= v) j++;
    const diff = i / n1 - j / n2;
    if (diff > maxS) maxS = diff;
    if (diff < minS) minS = diff;
  }
  return ksOfStatistic(Math.max(Math.min(Math.max(-minS, 0), 1), maxS), n1, n2);
}

/**
 * The KS result for a statistic `d` of samples of `n1` and `n2` values, by ks_2samp's `auto`
 * method (exact up to 10,000 values a side, else asymptotic; the exact one falling back as
 * scipy's does): what {@link ksTwoSample} returns once it has D, and what a sketch that knows
 * D exactly reports.
 */
export function ksOfStatistic(d: number, n1: number, n2: number): KsResult {
  if (Math.max(n1, n2) <= MAX_EXACT_N) {
    const exact = ksTwoSampleExact(n1, n2, d);
    if (exact.pValue >= 0 && exact.pValue <= 1) return { ...exact, method: 'exact' };
    const pValue = ksTwoSampleAsymptotic(exact.statistic, n1, n2);
    return { statistic: exact.statistic, pValue, method: 'asymp' };
  }
  return { statistic: d, pValue: ksTwoSampleAsymptotic(d, n1, n2), method: 'asymp' };
}

/**
 * `scipy.stats.wasserstein_distance(a, b)` (unweighted): ∫|F₁ − F₂|, summed over the merged
 * values' steps in numpy's order, so bit-identical to scipy's. O(n₁ + n₂), 64 KiB of memory.
 *
 * @param sortedA ascending values, no NaN (the caller sorts: see the module's note)
 * @param sortedB ascending values, no NaN
 */
export function wasserstein(sortedA: ArrayLike<number>, sortedB: ArrayLike<number>): number {
  checkSorted(sortedA, 'the first sample');
  checkSorted(sortedB, 'the second sample');
  const n1 = sortedA.length;
  const n2 = sortedB.length;
  const sum = numpySummer();
  // pa/pb walk the merged values; ia/ib count the values ≤ the current one (searchsorted right).
  let pa = 0;
  let pb = 0;
  let ia = 0;
  let ib = 0;
  let v = 0;
  for (let k = 0; k < n1 + n2; k++) {
    const w =
      pb >= n2 || (pa < n1 && (sortedA[pa] as number) <= (sortedB[pb] as number))
        ? (sortedA[pa++] as number)
        : (sortedB[pb++] as number);
    if (k > 0) {
      while (ia < n1 && (sortedA[ia] as number) <= v) ia++;
      while (ib < n2 && (sortedB[ib] as number) <= v) ib++;
      sum.push(Math.abs(ia / n1 - ib / n2) * (w - v));
    }
    v = w;
  }
  return sum.total();
}

/** A χ² goodness-of-fit test's outcome. */
export interface ChiSquareResult {
  statistic: number;
  pValue: number;
  /** k − 1 for k categories. */
  degreesOfFreedom: number;
}

/**
 * `scipy.stats.chisquare(observed, f_exp = expectedShares · Σ observed)`: Pearson's statistic
 * Σ (o − e)²/e and its χ² survival with k − 1 degrees of freedom. As scipy: a category with
 * expected share 0 and observed count > 0 makes the statistic ∞ and the p-value 0; one with
 * share 0 and count 0 makes both NaN (0/0), as does an `observed` total of 0; a single
 * category gives statistic 0 and p NaN (0 degrees of freedom). Throws, as scipy does, when the shares do not sum to
 * 1 within 1e-8 (relative), or when the lengths differ.
 */
export function chiSquare(
  observed: ArrayLike<number>,
  expectedShares: ArrayLike<number>,
): ChiSquareResult {
  const k = observed.length;
  if (expectedShares.length !== k) {
    throw new RangeError(
      `chiSquare: ${k} observed counts but ${expectedShares.length} expected shares`,
    );
  }
  const total = numpySum(observed);
  const expected = Float64Array.from(expectedShares, (s) => s * total);
  const expectedTotal = numpySum(expected);
  const relativeDiff = Math.abs(total - expectedTotal) / Math.min(total, expectedTotal);
  if (relativeDiff > 1e-8) {
    throw new RangeError(
      `chiSquare: the expected shares sum to ${expectedTotal / total}, not 1 (scipy's tolerance is 1e-8): normalise them`,
    );
  }
  const terms = Float64Array.from(observed, (o, i) => {
    const diff = o - (expected[i] as number);
    return (diff * diff) / (expected[i] as number);
  });
  const statistic = numpySum(terms);
  return { statistic, pValue: chiSquareSf(statistic, k - 1), degreesOfFreedom: k - 1 };
}

/** A two-proportion Z-test's outcome. */
export interface ZTestResult {
  /** z = (p₁ − p₂)/√(P(1 − P)(1/n₁ + 1/n₂)); 0 when both samples are constant and equal. */
  statistic: number;
  pValue: number;
}

/**
 * Evidently's two-proportion Z-test (`proportions_diff_z_stat_ind`, `proportions_diff_z_test`):
 * the pooled proportion P, z as above and the two-sided p = 2·(1 − Φ(|z|)), computed here as
 * 2·Φc(|z|) with an accurate erfc ({@link normalSf}), which keeps small p-values that 1 − Φ
 * rounds to 0 (Evidently's form loses them below ~1e-16; the two agree within 1e-16 elsewhere).
 * When both samples are constant and equal (P is 0 or 1) the p-value is 1, as Evidently's.
 */
export function twoProportionZ(
  refCount: number,
  refTotal: number,
  curCount: number,
  curTotal: number,
): ZTestResult {
  if (!(refTotal > 0 && curTotal > 0)) {
    throw new RangeError(`twoProportionZ: totals must be > 0, got ${refTotal} and ${curTotal}`);
  }
  const p1 = refCount / refTotal;
  const p2 = curCount / curTotal;
  const pooled = (p1 * refTotal + p2 * curTotal) / (refTotal + curTotal);
  if (pooled === 0 || pooled === 1) return { statistic: 0, pValue: 1 };
  const z = (p1 - p2) / Math.sqrt(pooled * (1 - pooled) * (1 / refTotal + 1 / curTotal));
  return { statistic: z, pValue: 2 * normalSf(Math.abs(z)) };
}

/** Σ x·ln(x/y), scipy's `rel_entr` term by term (0 for x = 0, ∞ for y = 0 < x), in numpy's order. */
function relativeEntropy(p: Float64Array, m: Float64Array): number {
  const terms = p.map((x, i) => {
    const y = m[i] as number;
    if (Number.isNaN(x) || Number.isNaN(y)) return Number.NaN;
    if (x > 0 && y > 0) return x * Math.log(x / y);
    return x === 0 && y >= 0 ? 0 : Infinity;
  });
  return numpySum(terms);
}

/**
 * `scipy.spatial.distance.jensenshannon(p, q)` (natural log): both normalised to sum 1 first,
 * as scipy does, then √((KL(p‖m) + KL(q‖m))/2) with m = (p + q)/2. NaN if either sums to 0.
 */
export function jensenShannon(p: ArrayLike<number>, q: ArrayLike<number>): number {
  if (p.length !== q.length)
    throw new RangeError(`jensenShannon: lengths differ (${p.length} and ${q.length})`);
  const ps = numpySum(p);
  const qs = numpySum(q);
  const pn = Float64Array.from(p, (x) => x / ps);
  const qn = Float64Array.from(q, (x) => x / qs);
  const m = pn.map((x, i) => (x + (qn[i] as number)) / 2);
  return Math.sqrt((relativeEntropy(pn, m) + relativeEntropy(qn, m)) / 2);
}

/**
 * The population stability index Σ (c − r)·ln(c/r) over the bins of `bins.ts`, a share of 0
 * (on either side) counted as `epsilon` (Evidently's 1e-4), summed in numpy's order.
 */
export function psi(
  referenceShares: ArrayLike<number>,
  currentShares: ArrayLike<number>,
  epsilon = 1e-4,
): number {
  if (referenceShares.length !== currentShares.length) {
    throw new RangeError(
      `psi: ${referenceShares.length} reference bins but ${currentShares.length} current bins`,
    );
  }
  const terms = Float64Array.from(referenceShares, (share, i) => {
    const r = share === 0 ? epsilon : share;
    const c = currentShares[i] === 0 ? epsilon : (currentShares[i] as number);
    return (c - r) * Math.log(c / r);
  });
  return numpySum(terms);
}
