/**
 * The fixed-size summary of a feature's current values, for windows beyond `--max-rows`: its
 * size depends on the reference, never on the window.
 *
 * - Kolmogorov–Smirnov (≤ 1,000 reference rows): a counter at each distinct reference value
 *   and one in each gap between them. Both CDFs are steps, the reference's constant inside a
 *   gap, so the largest gap between them is reached at a reference value or just before it:
 *   the statistic D is EXACT (its p-value then follows from D and the two sizes).
 * - Wasserstein: a count and a sum of the values in each of {@link WASSERSTEIN_BINS} quantile
 *   bins of the reference, and below and above its range. The distance is computed with each
 *   bin's values at their mean; that moves no value by more than half its bin's width, so the
 *   error is at most Σ (countₖ / n) · widthₖ / 2 (reported, divided by the norm, as
 *   `errorBound`). Beyond the reference's range the reference CDF is 0 or 1, where a count and
 *   a sum give the distance exactly.
 * - Categorical features and PSI: counts, exact.
 */
import { binIndex, quantileEdges } from './bins.ts';
import type { CategoricalPlan, NumericalPlan } from './reference.ts';

/** Quantile bins of the reference for the Wasserstein sketch (edges merged where they repeat). */
export const WASSERSTEIN_BINS = 1024;

/** KS's exact statistic from counts at and between the distinct reference values. */
export class KsSketch {
  readonly #values: Float64Array;
  /** Reference rows ≤ each distinct value. */
  readonly #refAtOrBelow: Float64Array;
  readonly #refRows: number;
  /** Current values equal to distinct value j. */
  readonly #at: Float64Array;
  /** Current values in the gap before distinct value j (the last: above every value). */
  readonly #before: Float64Array;
  rows = 0;

  constructor(plan: NumericalPlan) {
    const distinct: number[] = [];
    const atOrBelow: number[] = [];
    const s = plan.sorted;
    for (let i = 0; i < s.length; i++) {
      if (i + 1 < s.length && s[i + 1] === s[i]) continue;
      distinct.push(s[i] as number);
      atOrBelow.push(i + 1);
    }
    this.#values = Float64Array.from(distinct);
    this.#refAtOrBelow = Float64Array.from(atOrBelow);
    this.#refRows = s.length;
    this.#at = new Float64Array(distinct.length);
    this.#before = new Float64Array(distinct.length + 1);
  }

  add(x: number): void {
    const v = this.#values;
    let lo = 0;
    let hi = v.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((v[mid] as number) < x) lo = mid + 1;
      else hi = mid;
    }
    if (lo < v.length && v[lo] === x) this.#at[lo] = (this.#at[lo] as number) + 1;
    else this.#before[lo] = (this.#before[lo] as number) + 1;
    this.rows++;
  }

  /** The two-sample KS statistic D of the values added against the reference. */
  statistic(): number {
    const n = this.rows;
    let current = 0;
    let d = 0;
    for (let j = 0; j < this.#values.length; j++) {
      const refBefore = j === 0 ? 0 : (this.#refAtOrBelow[j - 1] as number) / this.#refRows;
      current += this.#before[j] as number;
      d = Math.max(d, Math.abs(refBefore - current / n));
      current += this.#at[j] as number;
      d = Math.max(d, Math.abs((this.#refAtOrBelow[j] as number) / this.#refRows - current / n));
    }
    return d;
  }

  get bytes(): number {
    return (this.#values.length * 4 + 1) * 8;
  }
}

/** Wasserstein's distance within a stated error, from counts and sums in quantile bins. */
export class WassersteinSketch {
  readonly #plan: NumericalPlan;
  readonly #edges: number[];
  /** [below, bin 0 … bin k-1, above] */
  readonly #counts: Float64Array;
  readonly #sums: Float64Array;
  rows = 0;

  constructor(plan: NumericalPlan) {
    this.#plan = plan;
    const edges = quantileEdges(plan.sorted, WASSERSTEIN_BINS);
    this.#edges = edges.filter((e, i) => i === 0 || e !== edges[i - 1]);
    if (this.#edges.length === 1) this.#edges.push(this.#edges[0] as number);
    const slots = this.#edges.length + 1;
    this.#counts = new Float64Array(slots);
    this.#sums = new Float64Array(slots);
  }

  add(x: number): void {
    const e = this.#edges;
    const slot =
      x < (e[0] as number) ? 0 : x > (e[e.length - 1] as number) ? e.length : 1 + binIndex(e, x);
    this.#counts[slot] = (this.#counts[slot] as number) + 1;
    this.#sums[slot] = (this.#sums[slot] as number) + x;
    this.rows++;
  }

  /** The normed distance with each bin's values at their mean, and its largest error. */
  estimate(): { distance: number; errorBound: number } {
    const points: number[] = [];
    const weights: number[] = [];
    let bound = 0;
    const last = this.#counts.length - 1;
    for (let slot = 0; slot <= last; slot++) {
      const c = this.#counts[slot] as number;
      if (c === 0) continue;
      points.push((this.#sums[slot] as number) / c);
      weights.push(c);
      if (slot > 0 && slot < last) {
        const width = (this.#edges[slot] as number) - (this.#edges[slot - 1] as number);
        bound += (c / this.rows) * (width / 2);
      }
    }
    const norm = Math.max(this.#plan.std, 0.001);
    const distance = weightedWasserstein(
      this.#plan.sorted,
      Float64Array.from(points),
      Float64Array.from(weights),
    );
    return { distance: distance / norm, errorBound: bound / norm };
  }

  get bytes(): number {
    return (this.#edges.length + this.#counts.length * 2) * 8;
  }
}

/** Counts per category; beyond {@link MAX_NEW_CATEGORIES} unseen values share one key. */
export const MAX_NEW_CATEGORIES = 1000;
export const OTHER_CATEGORY = '(other)';

export class CategoryCounts {
  readonly counts = new Map<string, number>();
  #unseen = 0;
  readonly #known: Set<string>;

  constructor(plan: CategoricalPlan) {
    this.#known = new Set(plan.categories);
  }

  add(key: string): void {
    let k = key;
    if (!this.#known.has(k) && !this.counts.has(k)) {
      if (this.#unseen >= MAX_NEW_CATEGORIES) k = OTHER_CATEGORY;
      else this.#unseen++;
    }
    this.counts.set(k, (this.counts.get(k) ?? 0) + 1);
  }

  get bytes(): number {
    return this.counts.size * 64;
  }
}

/**
 * ∫|F_a − F_b| of the reference `a` (every value weight 1) and weighted points `b` (ascending,
 * weights > 0): scipy's `wasserstein_distance(a, b, v_weights=weights)`, step by step over the
 * merged values.
 */
export function weightedWasserstein(
  a: Float64Array,
  b: Float64Array,
  weights: Float64Array,
): number {
  let total = 0;
  for (const w of weights) total += w;
  let i = 0;
  let j = 0;
  let fa = 0;
  let fb = 0;
  let distance = 0;
  let x = Math.min(a[0] as number, b[0] as number);
  while (i < a.length || j < b.length) {
    const next = Math.min(
      i < a.length ? (a[i] as number) : Infinity,
      j < b.length ? (b[j] as number) : Infinity,
    );
    distance += Math.abs(fa - fb) * (next - x);
    x = next;
    while (i < a.length && a[i] === x) i++;
    fa = i / a.length;
    while (j < b.length && b[j] === x) fb += (weights[j++] as number) / total;
  }
  return distance;
}
