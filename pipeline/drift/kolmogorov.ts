/**
 * The Kolmogorov–Smirnov distributions scipy's `ks_2samp` reads, ported from scipy 1.10:
 * the exact two-sample tail (`_compute_prob_outside_square`, `_compute_outer_prob_inside_method`
 * in scipy.stats; Hodges 1958, Viehmann 2021), the one-sample two-sided distribution `kstwo`
 * (scipy.stats._ksstats; Simard & L'Ecuyer 2011: Ruben–Gambino, Durbin–Marsaglia–Tsang–Wang,
 * Pomeranz, Pelz–Good) and the one-sided Smirnov distribution it falls back on
 * (scipy.special.smirnov, in `special.ts`).
 */

import { smirnovSf, stirlingCorrection } from './special.ts';

const E128 = 2 ** 128;
const EM128 = 2 ** -128;

function clip01(p: number): number {
  return Math.min(Math.max(p, 0), 1);
}

/** x·2ᵉ without overflowing the power of two on the way. */
function ldexp(x: number, e: number): number {
  let y = x;
  let k = e;
  for (; k > 1000; k -= 1000) y *= 2 ** 1000;
  for (; k < -1000; k += 1000) y *= 2 ** -1000;
  return y * 2 ** k;
}

function gcd(a: number, b: number): number {
  let x = a;
  let y = b;
  while (y !== 0) [x, y] = [y, x % y];
  return x;
}

/** P(D ≥ h/n) for two samples of n values each (scipy's `_compute_prob_outside_square`). */
function squareTail(n: number, h: number): number {
  // 2·(A₀ − A₀A₁ + A₀A₁A₂ − …) in Horner form; each Aₖ a product of h ratios.
  let p = 0;
  for (let k = Math.floor(n / h); k >= 0; k--) {
    let p1 = 1;
    for (let j = 0; j < h; j++) p1 = ((n - k * h - j) * p1) / (n + k * h + j + 1);
    p = p1 * (1 - p);
  }
  return 2 * p;
}

/**
 * The share of lattice paths from (0, 0) to (m, n) that leave the band |x/m − y/n| < h/lcm,
 * by Viehmann's recursion for 1 − p inside Hodges' "inside method" (scipy's pythran kernel
 * `_compute_outer_prob_inside_method`, operation for operation, so the floats agree).
 */
function insideTail(n1: number, n2: number, g: number, h: number): number {
  const m = Math.max(n1, n2);
  const n = Math.min(n1, n2);
  const mg = Math.floor(m / g);
  const ng = Math.floor(n / g);
  let minj = 0;
  let maxj = Math.min(Math.ceil(h / mg), n + 1);
  let curlen = maxj - minj;
  const a = new Float64Array(Math.min(2 * maxj + 2, n + 1)).fill(1);
  a.fill(0, minj, maxj);
  for (let i = 1; i <= m; i++) {
    const lastminj = minj;
    const lastlen = curlen;
    minj = Math.min(Math.max(Math.floor((ng * i - h) / mg) + 1, 0), n);
    maxj = Math.min(Math.ceil((ng * i + h) / mg), n + 1);
    if (maxj <= minj) return 1;
    let val = minj === 0 ? 0 : 1;
    for (let jj = 0; jj < maxj - minj; jj++) {
      const j = jj + minj;
      val = ((a[jj + minj - lastminj] as number) * i + val * j) / (i + j);
      a[jj] = val;
    }
    curlen = maxj - minj;
    if (lastlen > curlen) a.fill(1, maxj - minj, maxj - minj + (lastlen - curlen));
  }
  return a[maxj - minj - 1] as number;
}

/** numpy's `round`: halves to even. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * scipy's `_attempt_exact_2kssamp` (two-sided): D rounded to h/lcm(n1, n2) and the exact
 * P(D ≥ h/lcm) under H₀ (equal sizes: the square's alternating sum; else the inside method).
 * The p-value may fall outside [0, 1] by rounding: scipy then goes on with
 * {@link ksTwoSampleAsymptotic}, and so must the caller.
 */
export function ksTwoSampleExact(
  n1: number,
  n2: number,
  d: number,
): { statistic: number; pValue: number } {
  const g = gcd(n1, n2);
  const lcm = (n1 / g) * n2;
  const h = roundHalfEven(d * lcm);
  const statistic = h / lcm;
  if (h === 0) return { statistic, pValue: 1 };
  return { statistic, pValue: n1 === n2 ? squareTail(n1, h) : insideTail(n1, n2, g, h) };
}

/** ks_2samp's asymptotic two-sided p-value: kstwo.sf(d, round(n₁n₂/(n₁ + n₂))), halves to even. */
export function ksTwoSampleAsymptotic(d: number, n1: number, n2: number): number {
  const m = Math.max(n1, n2);
  const n = Math.min(n1, n2);
  return clip01(kstwoSf(d, roundHalfEven((m * n) / (m + n))));
}

/** ln(n!/nⁿ) by Stirling's series, n·ln n removed up front (scipy's `_log_nfactorial_div_n_pow_n`). */
function logFactorialOverPower(n: number): number {
  return Math.log(n) / 2 - n + Math.log(2 * Math.PI) / 2 + stirlingCorrection(n);
}

function matmul(a: Float64Array, b: Float64Array, m: number): Float64Array {
  const c = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let k = 0; k < m; k++) {
      const aik = a[i * m + k] as number;
      if (aik === 0) continue;
      for (let j = 0; j < m; j++)
        c[i * m + j] = (c[i * m + j] as number) + aik * (b[k * m + j] as number);
    }
  }
  return c;
}

/** P(Dₙ ≤ d) by Durbin's matrix, as Marsaglia, Tsang & Wang evaluate it (scipy's `_kolmogn_DMTW`). */
function durbinCdf(n: number, d: number): number {
  if (d >= 1) return 1;
  const nd = n * d;
  if (nd <= 0.5) return 0;
  const k = Math.ceil(nd);
  const h = k - nd;
  const m = 2 * k - 1;
  const v = new Float64Array(m);
  const w = new Float64Array(m);
  let fac = 1;
  for (let j = 1; j <= m; j++) {
    v[j - 1] = 1 - h ** j;
    w[j - 1] = fac;
    fac /= j;
    v[j - 1] = (v[j - 1] as number) * fac;
  }
  v[m - 1] = (1 + (Math.max(2 * h - 1, 0) ** m - 2 * h ** m)) * fac;
  let hm: Float64Array = new Float64Array(m * m);
  for (let i = 1; i < m; i++)
    for (let r = i - 1; r < m; r++) hm[r * m + i] = w[r - i + 1] as number;
  for (let r = 0; r < m; r++) hm[r * m] = v[r] as number;
  for (let c = 0; c < m; c++) hm[(m - 1) * m + c] = v[m - 1 - c] as number;

  let power: Float64Array = new Float64Array(m * m);
  for (let i = 0; i < m; i++) power[i * m + i] = 1;
  let expnt = 0;
  let hExpnt = 0;
  for (let nn = n; nn > 0; nn = Math.floor(nn / 2)) {
    if (nn % 2 === 1) {
      power = matmul(power, hm, m);
      expnt += hExpnt;
    }
    hm = matmul(hm, hm, m);
    hExpnt *= 2;
    if (Math.abs(hm[(k - 1) * m + k - 1] as number) > E128) {
      for (let i = 0; i < m * m; i++) hm[i] = (hm[i] as number) / E128;
      hExpnt += 128;
    }
  }
  let p = power[(k - 1) * m + k - 1] as number;
  for (let i = 1; i <= n; i++) {
    p = (i * p) / n;
    if (Math.abs(p) < EM128) {
      p *= E128;
      expnt -= 128;
    }
  }
  return expnt === 0 ? p : ldexp(p, expnt);
}

/** The window [j1, j2] of row i of Pomeranz's recursion (scipy's `_pomeranz_compute_j1j2`). */
function pomeranzWindow(
  i: number,
  n: number,
  ll: number,
  ceilf: number,
  roundf: number,
): [number, number] {
  let j1: number;
  let j2: number;
  const half = Math.floor((i + 1) / 2);
  if (i === 0) {
    j1 = -ll - ceilf - 1;
    j2 = ll + ceilf - 1;
  } else if ((i + 1) % 2 === 0 && half === n + 1) {
    j1 = n - ll - ceilf - 1;
    j2 = n + ll + ceilf - 1;
  } else if ((i + 1) % 2 === 0) {
    j1 = half - 1 - ll - roundf - 1;
    j2 = half + ll - 1 + ceilf - 1;
  } else {
    j1 = half - 1 - ll - 1;
    j2 = half + ll + roundf - 1;
  }
  return [Math.max(j1 + 2, 0), Math.min(j2, n)];
}

/** P(Dₙ ≤ x) by Pomeranz's recursion (scipy's `_kolmogn_Pomeranz`). */
function pomeranzCdf(n: number, x: number): number {
  const t = n * x;
  const ll = Math.floor(t);
  const f = t - ll;
  const g = Math.min(f, 1 - f);
  const ceilf = f > 0 ? 1 : 0;
  const roundf = f > 0.5 ? 1 : 0;
  const npwrs = 2 * (ll + 1);
  // (g/n)ᵐ/m!, (2g/n)ᵐ/m!, ((1 − 2g)/n)ᵐ/m!: Poisson probabilities short of their factor.
  const powers = [g / n, (2 * g) / n, (1 - 2 * g) / n].map((base) => {
    const p = new Float64Array(npwrs);
    p[0] = 1;
    for (let m = 1; m < npwrs; m++) p[m] = ((p[m - 1] as number) * base) / m;
    return p;
  });
  const [gpower, twogpower, onem2gpower] = powers as [Float64Array, Float64Array, Float64Array];
  let v0 = new Float64Array(npwrs);
  let v1 = new Float64Array(npwrs);
  v1[0] = 1;
  let v0s = 0;
  let v1s = 0;
  let expnt = 0;
  let [j1, j2] = pomeranzWindow(0, n, ll, ceilf, roundf);
  for (let i = 1; i < 2 * n + 2; i++) {
    const k1 = j1;
    [v0, v1] = [v1, v0];
    [v0s, v1s] = [v1s, v0s];
    v1.fill(0);
    [j1, j2] = pomeranzWindow(i, n, ll, ceilf, roundf);
    const pwrs = i === 1 || i === 2 * n + 1 ? gpower : i % 2 === 1 ? twogpower : onem2gpower;
    const ln2 = j2 - k1 + 1;
    if (ln2 <= 0) continue;
    // np.convolve(v0[k1 − v0s : k1 − v0s + ln2], pwrs[:ln2])[j1 − k1 : j2 − k1 + 1]
    const from = k1 - v0s;
    const lenA = Math.min(ln2, npwrs - from);
    const lenB = Math.min(ln2, npwrs);
    let max = 0;
    for (let c = 0; c < j2 - j1 + 1; c++) {
      const cc = j1 - k1 + c;
      let s = 0;
      for (let q = Math.max(0, cc - lenB + 1); q <= Math.min(cc, lenA - 1); q++) {
        s += (v0[from + q] as number) * (pwrs[cc - q] as number);
      }
      v1[c] = s;
      max = Math.max(max, s);
    }
    if (max > 0 && max < EM128) {
      for (let q = 0; q < npwrs; q++) v1[q] = (v1[q] as number) * E128;
      expnt -= 128;
    }
    v1s = v0s + j1 - k1;
  }
  let ans = v1[n - v1s] as number;
  for (let m = 1; m <= n; m++) {
    if (Math.abs(ans) > E128) {
      ans *= EM128;
      expnt += 128;
    }
    ans *= m;
  }
  return expnt === 0 ? ans : ldexp(ans, expnt);
}

const PI2 = Math.PI ** 2;
const PI4 = Math.PI ** 4;
const PI6 = Math.PI ** 6;
const SQRT2PI = Math.sqrt(2 * Math.PI);

/** The Pelz–Good approximation of P(Dₙ ≤ x) (scipy's `_kolmogn_PelzGood`). */
function pelzGoodCdf(n: number, x: number): number {
  const z = Math.sqrt(n) * x;
  const [z2, z3, z4, z6] = [z ** 2, z ** 3, z ** 4, z ** 6];
  const qlog = -PI2 / 8 / z2;
  if (qlog < -708) return 0;
  let q = Math.exp(qlog);
  const k1 = [-z2, PI2 / 4];
  const k2 = [6 * z6 + 2 * z4, ((2 * z4 - 5 * z2) * PI2) / 4, (PI4 * (1 - 2 * z2)) / 16];
  const k3d = (PI6 * (5 - 30 * z2)) / 64;
  const k3c = (PI4 * (-60 * z2 + 212 * z4)) / 16;
  const k3b = (PI2 * (135 * z4 - 96 * z6)) / 4;
  const k3a = -30 * z6 - 90 * z ** 8;
  const sums = [0, 0, 0, 0];
  const maxk = Math.ceil((16 * z) / Math.PI);
  for (let k = maxk; k > 0; k--) {
    const m = 2 * k - 1;
    const [m2, m4, m6] = [m ** 2, m ** 4, m ** 6];
    const qpower = q ** (8 * k);
    const coeffs = [
      1,
      (k1[0] as number) + (k1[1] as number) * m2,
      (k2[0] as number) + (k2[1] as number) * m2 + (k2[2] as number) * m4,
      k3a + k3b * m2 + k3c * m4 + k3d * m6,
    ];
    for (let i = 0; i < 4; i++) sums[i] = (sums[i] as number) * qpower + (coeffs[i] as number);
  }
  const divisors = [z, 6 * z4, 72 * z ** 7, 6480 * z ** 10];
  const terms = sums.map((s, i) => (s * q * SQRT2PI) / (divisors[i] as number));
  q = Math.exp(-PI2 / 2 / z2);
  const sqrt3z = Math.sqrt(3) * z;
  let k2extra = 0;
  let k3extra = 0;
  for (let k = maxk; k > 0; k--) {
    const ksq = k ** 2;
    const qp = q ** ksq;
    k2extra += ksq * qp;
    k3extra += (sqrt3z + Math.PI * k) * (sqrt3z - Math.PI * k) * ksq * qp;
  }
  terms[2] = (terms[2] as number) + k2extra * ((PI2 * SQRT2PI) / (-36 * z3));
  terms[3] = (terms[3] as number) + k3extra * ((PI2 * SQRT2PI) / (216 * z6));
  return terms.reduce((acc, term, i) => acc + term / n ** (i / 2), 0);
}

/**
 * The two-sided one-sample KS survival function P(Dₙ ≥ d), scipy.stats.kstwo.sf(d, n), with
 * scipy's choice of method (Simard & L'Ecuyer's: exact Ruben–Gambino near the ends, Durbin's
 * matrix or Pomeranz for n ≤ 140, Pelz–Good above, twice Smirnov's one-sided tail where the
 * two sides do not overlap). 1 for d ≤ 1/(2n), 0 for d ≥ 1, NaN unless n is a whole number ≥ 1.
 */
export function kstwoSf(d: number, n: number): number {
  if (Number.isNaN(d) || !Number.isInteger(n) || n < 1) return Number.NaN;
  if (d <= 0.5 / n) return 1;
  if (d >= 1) return 0;
  const t = n * d;
  if (t <= 1) {
    let cdf = 1;
    if (n <= 140) for (let i = 1; i <= n; i++) cdf *= i * (1 / n) * (2 * t - 1);
    else cdf = Math.exp(logFactorialOverPower(n) + n * Math.log(2 * t - 1));
    return clip01(1 - cdf);
  }
  if (t >= n - 1) return clip01(2 * (1 - d) ** n);
  if (d >= 0.5) return clip01(2 * smirnovSf(n, d));
  const nxsquared = t * d;
  if (n <= 140) {
    if (nxsquared <= 0.754693) return clip01(1 - clip01(durbinCdf(n, d)));
    if (nxsquared <= 4) return clip01(1 - clip01(pomeranzCdf(n, d)));
    return clip01(2 * smirnovSf(n, d));
  }
  if (nxsquared >= 370) return 0;
  if (nxsquared >= 2.2) return clip01(2 * smirnovSf(n, d));
  const cdf = n <= 100_000 && n * d ** 1.5 <= 1.4 ? clip01(durbinCdf(n, d)) : pelzGoodCdf(n, d);
  return clip01(1 - cdf);
}
