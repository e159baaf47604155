/**
 * How a tree of a `random-forest` judges a node and a split: the impurity of class weights, and
 * a score that orders candidate splits as the children's weighted impurity does.
 */

/** Gini impurity or entropy (in nats) of class weights summing to `total`. */
export function impurityOf(
  counts: Float64Array,
  total: number,
  k: number,
  entropy: boolean,
): number {
  if (total <= 0) return 0;
  let s = 0;
  if (entropy) {
    for (let c = 0; c < k; c++) {
      const p = (counts[c] as number) / total;
      if (p > 0) s -= p * Math.log(p);
    }
    return s;
  }
  for (let c = 0; c < k; c++) {
    const p = (counts[c] as number) / total;
    s += p * p;
  }
  return 1 - s;
}

/**
 * A score that orders splits as the weighted impurity of the children does, reversed (higher
 * is better), without the parent's constant terms: for Gini, sum of squared class weights over
 * each side's weight; for entropy, minus the children's weighted entropy.
 */
export function splitScore(
  left: Float64Array,
  counts: Float64Array,
  leftTotal: number,
  rightTotal: number,
  k: number,
  entropy: boolean,
): number {
  if (entropy) {
    let s = leftTotal * Math.log(leftTotal) + rightTotal * Math.log(rightTotal);
    for (let c = 0; c < k; c++) {
      const l = left[c] as number;
      const r = (counts[c] as number) - l;
      if (l > 0) s -= l * Math.log(l);
      if (r > 0) s -= r * Math.log(r);
    }
    return -s;
  }
  let sl = 0;
  let sr = 0;
  for (let c = 0; c < k; c++) {
    const l = left[c] as number;
    const r = (counts[c] as number) - l;
    sl += l * l;
    sr += r * r;
  }
  return sl / leftTotal + sr / rightTotal;
}
