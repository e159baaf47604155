import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../json.ts';
import {
  PROFILE_HISTOGRAM_BINS,
  PROFILE_QUANTILE_BINS,
  profileDifference,
  profileReference,
  profileSchema,
  type ProfileInput,
} from './profile.ts';

/**
 * Six rows, features `a` (spread out), `b` (constant) and `c` (two values); row 3 is the
 * hold-out's, and its values (99, 8, 5) must not reach the profile.
 */
const DATASET: ProfileInput['dataset'] = {
  features: ['a', 'b', 'c'],
  classes: ['x', 'y'],
  X: [
    [3, 7, 1],
    [1, 7, 0],
    [10, 7, 1],
    [99, 8, 5],
    [2, 7, 0],
    [4, 7, 1],
  ],
  y: [1, 0, 1, 0, 0, 1],
};
const TRAIN = [0, 1, 2, 4, 5];
/** Hold-out: 3 x predicted x, 1 x predicted y, 4 y predicted y. */
const CONFUSION = [
  [3, 1],
  [0, 4],
];
const input: ProfileInput = { dataset: DATASET, train: TRAIN, holdoutConfusion: CONFUSION };

describe('the reference profile', () => {
  const profile = profileReference(input);
  const [a, b, c] = profile.features;

  it('summarises each training-part feature in signature order, with the population standard deviation', () => {
    expect(profile.features.map((f) => f.name)).toEqual(['a', 'b', 'c']);
    // a on the training rows: 1, 2, 3, 4, 10 → mean 4, squared deviations 9+4+1+0+36 = 50.
    expect(a).toMatchObject({ count: 5, mean: 4, min: 1, max: 10, distinct: 5 });
    // ddof 0: √(50/5) = √10 ≈ 3.1623 (ddof 1 would give √12.5 ≈ 3.5355); to 1e-10.
    expect(a?.std).toBeCloseTo(Math.sqrt(10), 10);
    expect(c).toMatchObject({ count: 5, mean: 0.6, min: 0, max: 1, distinct: 2 });
    expect(c?.std).toBeCloseTo(Math.sqrt(0.24), 10);
  });

  it('puts the ten quantile bins at numpy’s linear quantiles, with each bin’s share of rows', () => {
    // np.quantile([1, 2, 3, 4, 10], np.arange(11) / 10), to 1e-12.
    const expected = [1, 1.4, 1.8, 2.2, 2.6, 3, 3.4, 3.8, 5.2, 7.6, 10];
    expect(a?.quantiles.edges).toHaveLength(PROFILE_QUANTILE_BINS + 1);
    a?.quantiles.edges.forEach((e, k) => expect(e).toBeCloseTo(expected[k] as number, 12));
    // Bins [1, 1.4) [1.4, 1.8) [1.8, 2.2) … [7.6, 10]: 1, 2, 3, 4 and 10 each open one.
    expect(a?.quantiles.shares).toEqual([0.2, 0, 0.2, 0, 0, 0.2, 0, 0.2, 0, 0.2]);
    // Ties: 0, 0, 1, 1, 1 → edges 0, 0, 0, 0.2, 0.6, 1, …; a value equal to repeated edges goes
    // after the last of them (searchsorted right).
    expect(c?.quantiles.edges.map((e) => Number(e.toFixed(12)))).toEqual([
      0, 0, 0, 0.2, 0.6, 1, 1, 1, 1, 1, 1,
    ]);
    expect(c?.quantiles.shares).toEqual([0, 0, 0.4, 0, 0, 0, 0, 0, 0, 0.6]);
  });

  it('plots each feature in 20 equal-width bins over its range, the last one closed', () => {
    expect(a?.histogram.edges).toHaveLength(PROFILE_HISTOGRAM_BINS + 1);
    expect(a?.histogram.edges[0]).toBe(1);
    expect(a?.histogram.edges[1]).toBeCloseTo(1.45, 12);
    expect(a?.histogram.edges[20]).toBe(10);
    // np.histogram([1, 2, 3, 4, 10], bins=20)
    const counts = new Array<number>(20).fill(0);
    for (const bin of [0, 2, 4, 6, 19]) counts[bin] = 1;
    expect(a?.histogram.counts).toEqual(counts);
  });

  it('gives a constant feature zero spread, one histogram bin and every row in the last quantile bin', () => {
    expect(b).toMatchObject({ count: 5, mean: 7, std: 0, min: 7, max: 7, distinct: 1 });
    expect(b?.quantiles.edges).toEqual(new Array<number>(11).fill(7));
    expect(b?.quantiles.shares).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    expect(b?.histogram).toEqual({ edges: [7, 7], counts: [5] });
  });

  it('records the training part’s class shares and the predicted-class shares on the hold-out', () => {
    expect(profile.label).toEqual({ rows: 5, shares: { x: 0.4, y: 0.6 } });
    // Column sums of the confusion matrix: 3 predicted x, 5 predicted y.
    expect(profile.predicted).toEqual({
      part: 'holdout',
      rows: 8,
      shares: { x: 0.375, y: 0.625 },
    });
  });

  it('gives a class that is never predicted a zero share', () => {
    const never = profileReference({
      ...input,
      holdoutConfusion: [
        [2, 0],
        [3, 0],
      ],
    });
    expect(never.predicted.shares).toEqual({ x: 1, y: 0 });
  });

  it('writes the same bytes for the same rows, whatever their order', () => {
    const again = canonicalJson(profileReference(input));
    expect(again).toBe(canonicalJson(profile));
    const order = [5, 3, 2, 0, 4, 1];
    const shuffled: ProfileInput = {
      dataset: {
        ...DATASET,
        X: order.map((i) => DATASET.X[i] as number[]),
        y: order.map((i) => DATASET.y[i] as number),
      },
      train: TRAIN.map((i) => order.indexOf(i)).sort((p, q) => p - q),
      holdoutConfusion: CONFUSION,
    };
    expect(canonicalJson(profileReference(shuffled))).toBe(again);
  });

  it('matches its schema, which refuses a wrong number of quantile bins and a ragged histogram', () => {
    expect(profileSchema.safeParse(profile).success).toBe(true);
    const nine = structuredClone(profile);
    nine.features[0]?.quantiles.shares.pop();
    expect(profileSchema.safeParse(nine).success).toBe(false);
    const ragged = structuredClone(profile);
    ragged.features[0]?.histogram.counts.pop();
    const parsed = profileSchema.safeParse(ragged);
    expect(parsed.error?.issues[0]?.message).toBe(
      'histogram.edges must have one more entry than histogram.counts',
    );
  });

  it('refuses to profile no training rows', () => {
    expect(() => profileReference({ ...input, train: [] })).toThrow(/no training rows/);
  });
});

describe('the difference between two profiles', () => {
  const profile = profileReference(input);

  it('is nothing for equal profiles', () => {
    expect(profileDifference(profile, structuredClone(profile))).toBeUndefined();
  });

  it('names the first field that differs, with both values', () => {
    const tampered = structuredClone(profile);
    if (tampered.features[2]) tampered.features[2].quantiles.shares[9] = 0.5;
    tampered.predicted.shares.y = 0.5;
    expect(profileDifference(profile, tampered)).toEqual({
      field: 'profile.features[2].quantiles.shares[9]',
      recorded: 0.6,
      rebuilt: 0.5,
    });
  });

  it('names a list whose length differs and a key that one of them lacks', () => {
    const fewer = structuredClone(profile);
    fewer.features.pop();
    expect(profileDifference(profile, fewer)).toEqual({
      field: 'profile.features.length',
      recorded: 3,
      rebuilt: 2,
    });
    const extra = structuredClone(profile);
    extra.label.shares['z.1'] = 0;
    expect(profileDifference(profile, extra)).toEqual({
      field: 'profile.label.shares.z.1',
      recorded: undefined,
      rebuilt: 0,
    });
  });
});
