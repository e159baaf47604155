/**
 * The special functions behind drift's p-values, ported from scipy.special / Cephes and
 * accurate to about 1e-15 relative where the tests read them (smirnov: about n·1e-16): the
 * log-gamma function, the regularized upper incomplete gamma function (χ² survival), erfc
 * (normal survival), the one-sided Smirnov distribution, and numpy's summation order, so that
 * sums over the same terms come out bit-identical to numpy's. simple-statistics' distributions
 * (a table-based χ², an erf good to 1e-7) are too coarse to agree with scipy to 1e-9.
 */

/** numpy's `pairwise_sum`: below 8 terms a loop, up to 128 eight accumulators, else halves. */
function pairwiseSum(a: ArrayLike<number>, start: number, n: number): number {
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res += a[start + i] as number;
    return res;
  }
  if (n <= 128) {
    const r = new Float64Array(8);
    for (let j = 0; j < 8; j++) r[j] = a[start + j] as number;
    let i = 8;
    for (; i < n - (n % 8); i += 8) {
      for (let j = 0; j < 8; j++) r[j] = (r[j] as number) + (a[start + i + j] as number);
    }
    // ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7)), numpy's grouping.
    const low = (r[0] as number) + (r[1] as number) + ((r[2] as number) + (r[3] as number));
    const high = (r[4] as number) + (r[5] as number) + ((r[6] as number) + (r[7] as number));
    let res = low + high;
    for (; i < n; i++) res += a[start + i] as number;
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return pairwiseSum(a, start, n2) + pairwiseSum(a, start + n2, n - n2);
}

/** numpy's reduction buffer: `np.sum` adds the pairwise sums of consecutive 8192-term blocks. */
const NUMPY_BLOCK = 8192;

/**
 * `np.sum` of float64 values, in numpy's order (pairwise within blocks of 8192, the blocks in
 * turn), so a sum of the same terms is bit-identical to numpy 1.24's (checked on 1,842 random
 * arrays of 1 to 100,001 terms).
 */
export function numpySum(values: ArrayLike<number>): number {
  let total = 0;
  for (let start = 0; start < values.length; start += NUMPY_BLOCK) {
    total += pairwiseSum(values, start, Math.min(NUMPY_BLOCK, values.length - start));
  }
  return total;
}

/** A running {@link numpySum}: terms pushed one at a time, in 8192 numbers of memory. */
export interface NumpySummer {
  push(term: number): void;
  total(): number;
}

/** A {@link NumpySummer}, for sums over terms computed on the fly (Wasserstein's 10⁶ steps). */
export function numpySummer(): NumpySummer {
  const block = new Float64Array(NUMPY_BLOCK);
  let filled = 0;
  let total = 0;
  return {
    push(term) {
      block[filled++] = term;
      if (filled === NUMPY_BLOCK) {
        total += pairwiseSum(block, 0, NUMPY_BLOCK);
        filled = 0;
      }
    },
    total: () => total + (filled === 0 ? 0 : pairwiseSum(block, 0, filled)),
  };
}

const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

/**
 * Stirling's series of lnΓ(x) − [(x − ½)ln x − x + ½ln 2π] to its 8th term, the terms
 * scipy's `_STIRLING_COEFFS` hold; error below 1e-17 for x ≥ 15.
 */
export function stirlingCorrection(x: number): number {
  const r = 1 / x;
  const r2 = r * r;
  // B₂ₖ / (2k(2k − 1)) for k = 1…8.
  return (
    r *
    (1 / 12 +
      r2 *
        (-1 / 360 +
          r2 *
            (1 / 1260 +
              r2 *
                (-1 / 1680 +
                  r2 *
                    (1 / 1188 + r2 * (-691 / 360360 + r2 * (1 / 156 + r2 * (-3617 / 122400))))))))
  );
}

/**
 * ln Γ(x) for x > 0: Stirling's series from 15 on, below it the recurrence Γ(x) = Γ(x + k) /
 * (x(x + 1)…(x + k − 1)). Absolute error a few 1e-15 below 15, relative 1e-16 above.
 */
export function logGamma(x: number): number {
  if (!(x > 0)) return Number.NaN;
  if (x === Infinity) return Infinity;
  let shift = 1;
  let y = x;
  while (y < 15) {
    shift *= y;
    y += 1;
  }
  return (y - 0.5) * Math.log(y) - y + LOG_SQRT_2PI + stirlingCorrection(y) - Math.log(shift);
}

/** ln(1 + t) − t without the cancellation of computing it so (Cephes' `log1pmx`). */
export function log1pmx(t: number): number {
  if (Math.abs(t) >= 0.5) return Math.log1p(t) - t;
  let power = t;
  let sum = 0;
  for (let k = 2; k < 500; k++) {
    power *= -t;
    const term = power / k;
    sum += term;
    if (Math.abs(term) < Number.EPSILON * Math.abs(sum)) break;
  }
  return sum;
}

/**
 * ln(xᵃe⁻ˣ / Γ(a)), the factor in front of both of the incomplete gamma function's expansions.
 * For a ≥ 15 in the form a·log1pmx((x − a)/a) + ½ln(a/2π) − Stirling(a) (Temme's), which keeps
 * a·ln x and ln Γ(a), each of order a·ln a, from cancelling.
 */
function logGammaPrefactor(a: number, x: number): number {
  if (a < 15) return a * Math.log(x) - x - logGamma(a);
  return a * log1pmx((x - a) / a) + 0.5 * Math.log(a / (2 * Math.PI)) - stirlingCorrection(a);
}

const MAX_ITERATIONS = 100_000;

/** Σₙ xⁿ / ((a + 1)…(a + n)), so that P(a, x) = prefactor · sum / a (for x below about a). */
function gammaSeries(a: number, x: number): number {
  let term = 1;
  let sum = 1;
  for (let n = 1; n < MAX_ITERATIONS; n++) {
    term *= x / (a + n);
    sum += term;
    if (term < Number.EPSILON * sum) break;
  }
  return sum;
}

const TINY = 1e-300;

/** Legendre's continued fraction (modified Lentz), so that Q(a, x) = prefactor · it (x ≥ a). */
function gammaContinuedFraction(a: number, x: number): number {
  let b = x + 1 - a;
  let c = 1 / TINY;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < MAX_ITERATIONS; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < TINY) d = TINY;
    c = b + an / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < Number.EPSILON) break;
  }
  return h;
}

/**
 * The regularized upper incomplete gamma function Q(a, x) = Γ(a, x) / Γ(a), Cephes' `igamc`
 * (scipy.special.gammaincc) for a > 0, x ≥ 0. As Cephes: x ≤ 1.1 or x < a → 1 − the power
 * series of P, else the continued fraction of Q; where Cephes switches to Temme's uniform
 * asymptotic expansion (a > 20, x near a) the series and fraction are still accurate here
 * because their prefactor is computed in Temme's form ({@link logGammaPrefactor}).
 */
export function regularizedGammaQ(a: number, x: number): number {
  if (Number.isNaN(a) || Number.isNaN(x) || x < 0 || a <= 0) return Number.NaN;
  if (x === 0) return 1;
  if (x === Infinity) return a === Infinity ? Number.NaN : 0;
  if (a === Infinity) return 1;
  if (x <= 1.1 || x < a) {
    return 1 - (Math.exp(logGammaPrefactor(a, x)) * gammaSeries(a, x)) / a;
  }
  return Math.exp(logGammaPrefactor(a, x)) * gammaContinuedFraction(a, x);
}

/**
 * The χ² survival function with `df` degrees of freedom, scipy.stats.chi2.sf (Cephes'
 * `chdtrc` = Q(df/2, x/2)): 1 for x ≤ 0, 0 for x = ∞, NaN for NaN or df ≤ 0 (scipy's bad value).
 */
export function chiSquareSf(x: number, df: number): number {
  if (Number.isNaN(x) || !(df > 0)) return Number.NaN;
  if (x <= 0) return 1;
  return regularizedGammaQ(df / 2, x / 2);
}

/** x² as an unevaluated sum hi + lo (Dekker's product), for e^(−x²) without the rounding of x². */
function squareSplit(x: number): [number, number] {
  const hi = x * x;
  const split = 134217729 * x; // 2²⁷ + 1
  const xh = split - (split - x);
  const xl = x - xh;
  return [hi, xh * xh - hi + 2 * xh * xl + xl * xl];
}

const SQRT_PI = Math.sqrt(Math.PI);

/**
 * The complementary error function, relative error ~1e-15 over the whole line: below 0.5 as
 * 1 − erf's Taylor series; above as Q(½, x²) (erfc(x) = Γ(½, x²)/√π, the series of P or the
 * continued fraction of Q, as {@link regularizedGammaQ}) with the prefactor x·e^(−x²)/√π formed
 * from the exact square. Cephes' `erfc` uses rational approximations of the same accuracy.
 */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  if (x < 0) return 2 - erfc(-x);
  if (x < 0.5) {
    // erf(x) = 2/√π Σ (−1)ⁿ x²ⁿ⁺¹ / (n!(2n + 1))
    const x2 = x * x;
    let power = x;
    let sum = x;
    for (let n = 1; n < 60; n++) {
      power *= -x2 / n;
      const term = power / (2 * n + 1);
      sum += term;
      if (Math.abs(term) < Number.EPSILON * Math.abs(sum)) break;
    }
    return 1 - (2 / SQRT_PI) * sum;
  }
  const [hi, lo] = squareSplit(x);
  const prefactor = (x * Math.exp(-hi) * Math.exp(-lo)) / SQRT_PI;
  if (hi <= 1.1) return 1 - (prefactor * gammaSeries(0.5, hi)) / 0.5;
  return prefactor * gammaContinuedFraction(0.5, hi);
}

/** The standard normal survival function 1 − Φ(z) = ½·erfc(z/√2) (scipy.stats.norm.sf). */
export function normalSf(z: number): number {
  return 0.5 * erfc(z * Math.SQRT1_2);
}

function clip01(p: number): number {
  return Math.min(Math.max(p, 0), 1);
}

/** n·x as floor + fraction, exactly (Dekker's product): Smirnov's sum ranges over ⌊n(1 − x)⌋. */
function floorAndFraction(n: number, x: number): [number, number] {
  const split = (a: number): [number, number] => {
    const c = 134217729 * a; // 2²⁷ + 1
    const hi = c - (c - a);
    return [hi, a - hi];
  };
  const p = n * x;
  const [nh, nl] = split(n);
  const [xh, xl] = split(x);
  const err = nh * xh - p + nh * xl + nl * xh + nl * xl;
  let floor = Math.floor(p);
  if (p === floor && err < 0) floor -= 1;
  const alpha = p - floor + err;
  return alpha >= 1 ? [floor + 1, 0] : [floor, alpha];
}

/** ln(2⁻¹⁰⁷⁵), Cephes' MINLOG: exp of anything smaller is 0. */
const MIN_LOG = -745.1332191019412;

/**
 * The one-sided Smirnov survival function P(Dₙ⁺ ≥ x), scipy.special.smirnov(n, x): Birnbaum and
 * Tingey's sum x·Σⱼ C(n, j)(1 − x − j/n)ⁿ⁻ʲ(x + j/n)ʲ⁻¹ over j ≤ n(1 − x), or 1 − the few terms
 * above it when they are fewer (scipy's choice), the special cases x ≤ 1/n and x ≥ 1 − 1/n in
 * closed form and scipy's approximation e^(−(6nx + 1)²/18n) above n = 10⁶. scipy sums in
 * double-double; here each term is formed from logs (the bases from n·x's exact floor and
 * fraction), relative error about n·1e-16.
 */
export function smirnovSf(n: number, x: number): number {
  if (!(Number.isInteger(n) && n > 0 && x >= 0 && x <= 1)) return Number.NaN;
  if (n === 1) return 1 - x;
  if (x === 0) return 1;
  if (x === 1) return 0;
  const [nxfl, alpha] = floorAndFraction(n, x);
  if (nxfl === 0 || (nxfl === 1 && alpha === 0)) return 1 - x * Math.exp((n - 1) * Math.log1p(x));
  if (-2 * n * x * x < MIN_LOG) return 0;
  if (nxfl >= n - 1) return (1 - x) ** n;
  if (n > 1_000_000) {
    const logp = -((6 * n * x + 1) ** 2) / 18 / n;
    return logp < -Math.LN2 ? Math.exp(logp) : 1 + Math.expm1(logp);
  }
  // The lower sum runs over v ≤ n − nxfl − 1 (below n(1 − x), and without the term whose base
  // is 0 when n·x is whole), the upper one over v ≥ n − nxfl, or n − nxfl + 1 when n·x is whole.
  const lastLower = n - nxfl - 1;
  const firstUpper = n - nxfl + (alpha === 0 ? 1 : 0);
  const upperTerms = n - firstUpper + 1;
  const upper =
    (upperTerms <= 1 && x < 0.5) || (n >= 10 && upperTerms <= 3 && x <= 0.5 / Math.sqrt(n));
  const terms = upper ? upperTerms : lastLower + 1;
  // ln C(n, j), accumulated with Neumaier's compensation: a million plain additions of terms
  // to a sum of order 1e5 would lose 1e-8 of the result.
  let logBinomial = 0;
  let compensation = 0;
  let sum = 0;
  for (let j = 0; j < terms; j++) {
    const v = upper ? n - j : j;
    // 1 − x − v/n and x + v/n from n·x = nxfl + alpha; above n(1 − x) the first is negative.
    const below = (n - nxfl - v - alpha) / n;
    const above = (nxfl + v + alpha) / n;
    const logBelow = n - v === 0 ? 0 : (n - v) * Math.log(Math.abs(below));
    const logTerm = logBinomial + compensation + logBelow + (v - 1) * Math.log(above);
    const term = (below < 0 && (n - v) % 2 === 1 ? -1 : 1) * Math.exp(logTerm);
    sum += term;
    const negligible = 4 * (terms - j) * Math.abs(term) < Number.EPSILON * sum;
    if (term !== 0 && j > 0 && j !== terms - 1 && negligible) break;
    if (term === 0 && j > n / 2) break;
    const step = Math.log((n - j) / (j + 1));
    const next = logBinomial + step;
    compensation +=
      Math.abs(logBinomial) >= Math.abs(step)
        ? logBinomial - next + step
        : step - next + logBinomial;
    logBinomial = next;
  }
  return clip01(upper ? 1 - x * sum : x * sum);
}
