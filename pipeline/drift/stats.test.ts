import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../stats.ts';
import { binCounts, quantileEdges, toShares } from './bins.ts';
import { kstwoSf } from './kolmogorov.ts';
import { chiSquareSf, normalSf, numpySum, smirnovSf } from './special.ts';
import {
  chiSquare,
  jensenShannon,
  ksTwoSample,
  psi,
  sortedCopy,
  twoProportionZ,
  wasserstein,
} from './stats.ts';

/** A sample as make-fixtures.py stores it: explicit values, or how to draw them. */
interface SampleSpec {
  seed: number;
  n: number;
  loc: number;
  scale: number;
  grid?: number;
}
type Sample = number[] | SampleSpec;
/** JSON has no ∞ or NaN: the fixture writes them as strings. */
type Num = number | 'Infinity' | '-Infinity' | 'NaN';

interface Fixture {
  ks_2samp: {
    name: string;
    a: Sample;
    b: Sample;
    statistic: Num;
    pValue: Num;
    method: 'exact' | 'asymp';
  }[];
  wasserstein_distance: { name: string; a: Sample; b: Sample; distance: Num }[];
  chisquare: { name: string; observed: number[]; shares: number[]; statistic: Num; pValue: Num }[];
  z_test: {
    name: string;
    counts: [number, number, number, number];
    statistic: Num;
    pValue: Num;
    evidently: Num;
  }[];
  jensenshannon: { name: string; p: number[]; q: number[]; distance: Num }[];
  psi: {
    name: string;
    reference: Sample;
    current: Sample;
    bins: number;
    edges: number[];
    referenceShares: number[];
    currentShares: number[];
    psi: Num;
  }[];
  special: {
    kstwoSf: [number, number, Num][];
    smirnovSf: [number, number, Num][];
    chiSquareSf: [number, number, Num][];
    normalSf: [number, Num][];
  };
}

const fixture = JSON.parse(
  readFileSync(new URL('./fixtures/scipy.json', import.meta.url), 'utf8'),
) as Fixture;

function num(x: Num): number {
  return typeof x === 'number' ? x : Number(x);
}

/** The tolerance of every comparison with scipy: |ours − scipy| ≤ 1e-9 · max(1, |scipy|). */
function expectScipy(ours: number, scipy: Num, what: string): void {
  const theirs = num(scipy);
  if (!Number.isFinite(theirs)) {
    expect(ours, what).toBe(theirs);
    return;
  }
  expect(Math.abs(ours - theirs), `${what}: ours ${ours}, scipy ${theirs}`).toBeLessThanOrEqual(
    1e-9 * Math.max(1, Math.abs(theirs)),
  );
}

const drawn = new Map<string, Float64Array>();

/** make-fixtures.py's generator: mulberry32, (u₀ + u₁ + u₂ + u₃ − 2)·scale + loc, floored to grid. */
function sample(s: Sample): Float64Array {
  if (Array.isArray(s)) return Float64Array.from(s);
  const key = JSON.stringify(s);
  const cached = drawn.get(key);
  if (cached) return cached;
  const random = seededRandom(s.seed);
  const values = new Float64Array(s.n);
  for (let i = 0; i < s.n; i++) {
    const v = (random() + random() + random() + random() - 2) * s.scale + s.loc;
    values[i] = s.grid === undefined ? v : Math.floor(v / s.grid) * s.grid;
  }
  drawn.set(key, values);
  return values;
}

const sorted = (s: Sample): Float64Array => sortedCopy(sample(s));

describe('ksTwoSample equals scipy.stats.ks_2samp within 1e-9', () => {
  it.each(fixture.ks_2samp)('$name', (c) => {
    const result = ksTwoSample(sorted(c.a), sorted(c.b));
    expect(result.method).toBe(c.method);
    expectScipy(result.statistic, c.statistic, 'D');
    expectScipy(result.pValue, c.pValue, 'p');
  });
});

describe('wasserstein equals scipy.stats.wasserstein_distance, bit for bit', () => {
  it.each(fixture.wasserstein_distance)('$name', (c) => {
    expect(wasserstein(sorted(c.a), sorted(c.b))).toBe(num(c.distance));
  });
});

describe('chiSquare equals scipy.stats.chisquare within 1e-9', () => {
  it.each(fixture.chisquare)('$name', (c) => {
    const result = chiSquare(c.observed, c.shares);
    expect(result.statistic, 'the statistic, summed in numpy’s order').toBe(num(c.statistic));
    expectScipy(result.pValue, c.pValue, 'p');
    expect(result.degreesOfFreedom).toBe(c.observed.length - 1);
  });
});

describe('twoProportionZ equals Evidently’s Z-test within 1e-9', () => {
  it.each(fixture.z_test)('$name', (c) => {
    const result = twoProportionZ(...c.counts);
    expectScipy(result.statistic, c.statistic, 'z');
    expectScipy(result.pValue, c.pValue, 'p (2·norm.sf)');
    expectScipy(result.pValue, c.evidently, 'p (Evidently’s 2·(1 − norm.cdf))');
  });
});

describe('jensenShannon equals scipy.spatial.distance.jensenshannon within 1e-9', () => {
  it.each(fixture.jensenshannon)('$name', (c) => {
    expectScipy(jensenShannon(c.p, c.q), c.distance, 'distance');
  });
});

describe('psi over bins.ts’s bins equals numpy’s PSI over np.quantile deciles within 1e-9', () => {
  it.each(fixture.psi)('$name', (c) => {
    const edges = quantileEdges(sorted(c.reference), c.bins);
    edges.forEach((e, i) => expectScipy(e, c.edges[i] as number, `edge ${i}`));
    const referenceShares = toShares(binCounts(sample(c.reference), edges));
    const currentShares = toShares(binCounts(sample(c.current), edges));
    expect(referenceShares).toEqual(c.referenceShares);
    expect(currentShares).toEqual(c.currentShares);
    expectScipy(psi(referenceShares, currentShares), c.psi, 'PSI');
  });
});

describe('the special functions equal scipy’s within 1e-9', () => {
  it.each(fixture.special.kstwoSf)('kstwo.sf(%d, n = %d)', (d, n, p) => {
    expectScipy(kstwoSf(d, n), p, 'kstwo.sf');
  });
  it.each(fixture.special.smirnovSf)('smirnov(%d, %d)', (n, d, p) => {
    expectScipy(smirnovSf(n, d), p, 'smirnov');
  });
  it.each(fixture.special.chiSquareSf)('chi2.sf(%d, df = %d)', (x, df, p) => {
    expectScipy(chiSquareSf(x, df), p, 'chi2.sf');
  });
  it.each(fixture.special.normalSf)('norm.sf(%d)', (z, p) => {
    expectScipy(normalSf(z), p, 'norm.sf');
  });
});

describe('the statistics on hand-made samples', () => {
  it('gives D 0 and p 1 for identical samples', () => {
    const a = sortedCopy([3, 1, 2, 2, 5]);
    expect(ksTwoSample(a, a)).toEqual({ statistic: 0, pValue: 1, method: 'exact' });
    expect(wasserstein(a, a)).toBe(0);
  });

  it('gives D 1 and the smallest exact p for disjoint samples', () => {
    // Every arrangement of 4 + 3 values is equally likely: P(D = 1) = 2 / C(7, 3).
    const result = ksTwoSample(sortedCopy([1, 2, 3, 4]), sortedCopy([10, 11, 12]));
    expect(result.statistic).toBe(1);
    expect(result.method).toBe('exact');
    expect(Math.abs(result.pValue - 2 / 35)).toBeLessThanOrEqual(1e-15);
  });

  it('measures the Wasserstein distance of disjoint samples as the gap of their means', () => {
    expect(
      Math.abs(wasserstein(sortedCopy([0, 1]), sortedCopy([10, 11])) - 10),
    ).toBeLessThanOrEqual(1e-12);
  });

  it('refuses an unsorted or empty sample, saying how to fix it', () => {
    expect(() => ksTwoSample(Float64Array.from([2, 1]), Float64Array.from([1]))).toThrow(
      /sort it first/,
    );
    expect(() => wasserstein(Float64Array.from([1, Number.NaN]), Float64Array.from([1]))).toThrow(
      /NaN/,
    );
    expect(() => ksTwoSample(new Float64Array(0), Float64Array.from([1]))).toThrow(/empty/);
  });

  it('counts a category the reference lacks as infinite χ², p 0, as scipy', () => {
    expect(chiSquare([10, 20, 5], [0.4, 0.6, 0])).toEqual({
      statistic: Infinity,
      pValue: 0,
      degreesOfFreedom: 2,
    });
  });

  it('refuses expected shares that do not sum to 1', () => {
    expect(() => chiSquare([10, 20], [0.5, 0.4])).toThrow(/sum to 0.9/);
  });

  it('gives p 1 to two constant, equal samples in the Z-test', () => {
    expect(twoProportionZ(0, 100, 0, 20)).toEqual({ statistic: 0, pValue: 1 });
    expect(twoProportionZ(100, 100, 20, 20)).toEqual({ statistic: 0, pValue: 1 });
  });

  it('gives PSI 0 for equal shares and replaces an empty bin with epsilon', () => {
    expect(psi([0.5, 0.5], [0.5, 0.5])).toBe(0);
    // (1e-4 − 0.5)·ln(1e-4/0.5) + (1 − 0.5)·ln(1/0.5)
    const expected = (1e-4 - 0.5) * Math.log(1e-4 / 0.5) + 0.5 * Math.log(2);
    expect(Math.abs(psi([0.5, 0.5], [0, 1]) - expected)).toBeLessThanOrEqual(1e-15);
  });

  it('sums as numpy does: pairwise in blocks, not left to right', () => {
    // 1 + 1e-16·8 is 1 left to right; pairwise, the small terms meet first and survive.
    const terms = [1, ...new Array<number>(15).fill(1e-16)];
    expect(numpySum(terms)).toBeGreaterThan(1);
    expect(terms.reduce((a, b) => a + b, 0)).toBe(1);
  });
});
