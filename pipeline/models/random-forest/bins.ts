/**
 * Quantile bins for the `random-forest` family: each feature is cut once, before any tree
 * grows, at no more than `maxBins - 1` thresholds, so a tree's split search scans at most
 * `maxBins` bins instead of every distinct value.
 */

/**
 * Thresholds cutting `values` into at most `maxBins` bins of about equal counts, ascending.
 * With no more distinct values than bins, every gap between two neighbouring values gets a
 * threshold, so nothing is lost. A threshold lies between two neighbouring distinct values
 * (at their midpoint, or at the lower one where the midpoint rounds to the upper): a row with
 * value `x` goes left of threshold `t` exactly when `x <= t`, in training and in prediction.
 */
export function quantileThresholds(values: Float64Array, maxBins: number): Float64Array {
  const n = values.length;
  if (n === 0) return new Float64Array(0);
  const sorted = Float64Array.from(values).sort();
  // Distinct values and how many rows hold each.
  const distinct: number[] = [];
  const counts: number[] = [];
  for (let i = 0; i < n; i++) {
    const v = sorted[i] as number;
    if (distinct.length > 0 && distinct[distinct.length - 1] === v) {
      counts[counts.length - 1] = (counts[counts.length - 1] as number) + 1;
    } else {
      distinct.push(v);
      counts.push(1);
    }
  }
  const thresholds: number[] = [];
  const between = (a: number, b: number): number => {
    const mid = a + (b - a) / 2;
    return mid < b ? mid : a;
  };
  if (distinct.length <= maxBins) {
    for (let i = 0; i + 1 < distinct.length; i++) {
      thresholds.push(between(distinct[i] as number, distinct[i + 1] as number));
    }
    return Float64Array.from(thresholds);
  }
  // Equal-frequency cuts: a threshold after the distinct value that carries the running count
  // past the next multiple of n / maxBins. A heavy value fills its own bin.
  let seen = 0;
  for (let i = 0; i + 1 < distinct.length && thresholds.length < maxBins - 1; i++) {
    seen += counts[i] as number;
    if (seen * maxBins >= (thresholds.length + 1) * n) {
      thresholds.push(between(distinct[i] as number, distinct[i + 1] as number));
    }
  }
  return Float64Array.from(thresholds);
}

/** The bin of `x`: how many thresholds lie below it (so `x <= thresholds[b]` for bins up to b). */
export function binOf(x: number, thresholds: Float64Array): number {
  let lo = 0;
  let hi = thresholds.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((thresholds[mid] as number) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
