/**
 * What the drift reference and the card's profile both compute of a feature's values: the
 * distinct values of a sorted column, and the mean and population standard deviation (numpy's
 * `np.std`, ddof 0), two passes for accuracy.
 */

/** Distinct values of ascending values. */
export function countDistinct(sorted: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < sorted.length; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) n++;
  return n;
}

/** The mean and the population standard deviation (ddof 0). */
export function moments(values: ArrayLike<number>): { mean: number; std: number } {
  const n = values.length;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += values[i] as number;
  const mean = sum / n;
  let squares = 0;
  for (let i = 0; i < n; i++) squares += ((values[i] as number) - mean) ** 2;
  return { mean, std: Math.sqrt(squares / n) };
}
