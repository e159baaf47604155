/**
 * Quantile bins of a reference, and where values fall in them: the bins PSI is computed over,
 * the reference profile stores and the report plots. Numpy's conventions, so a numpy PSI over
 * the same values agrees: edges are `np.quantile(reference, k / bins)` (linear) for
 * k = 0…bins, and a value's bin is `np.searchsorted(edges[1:-1], x, side='right')` — bin i is
 * [edgeᵢ, edgeᵢ₊₁), the first bin also takes values below the reference's minimum and the last
 * values above its maximum.
 */
import { quantileLinear } from '../stats.ts';

/** The `bins + 1` edges of `bins` quantile bins of ascending values. */
export function quantileEdges(sorted: ArrayLike<number>, bins: number): number[] {
  if (!Number.isInteger(bins) || bins < 1) throw new RangeError(`bins must be ≥ 1, got ${bins}`);
  const edges: number[] = [];
  for (let k = 0; k <= bins; k++) edges.push(quantileLinear(sorted, k / bins));
  return edges;
}

/** The bin of `x` among `edges` (see the module's conventions). */
export function binIndex(edges: readonly number[], x: number): number {
  // The number of inner edges ≤ x: a binary search over edges[1 … length-2].
  let lo = 1;
  let hi = edges.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((edges[mid] as number) <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/** How many of `values` fall in each bin. */
export function binCounts(values: ArrayLike<number>, edges: readonly number[]): number[] {
  const counts = new Array<number>(edges.length - 1).fill(0);
  for (let i = 0; i < values.length; i++) {
    const b = binIndex(edges, values[i] as number);
    counts[b] = (counts[b] as number) + 1;
  }
  return counts;
}

/** Counts as shares of their total (all zeros when the total is 0). */
export function toShares(counts: readonly number[]): number[] {
  let total = 0;
  for (const c of counts) total += c;
  return counts.map((c) => (total === 0 ? 0 : c / total));
}
