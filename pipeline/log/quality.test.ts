import { describe, expect, it } from 'vitest';

import { scoreClassification } from '../metrics.ts';
import {
  DEFAULT_QUALITY_OPTIONS,
  liveQuality,
  macroF1,
  normalQuantile,
  wilsonInterval,
} from './quality.ts';
import type { QualityCounts } from './store.ts';

const CLASSES = ['setosa', 'versicolor', 'virginica'];

/** 15 labelled rows of 20: 12 right; by hand, F1 is 1, 2/3 and 8/11 per class. */
const CONFUSION: QualityCounts['confusion'] = [
  { label: 'setosa', predicted: 'setosa', rows: 5 },
  { label: 'versicolor', predicted: 'versicolor', rows: 3 },
  { label: 'versicolor', predicted: 'virginica', rows: 2 },
  { label: 'virginica', predicted: 'versicolor', rows: 1 },
  { label: 'virginica', predicted: 'virginica', rows: 4 },
];

function counts(over: Partial<QualityCounts> = {}): QualityCounts {
  return {
    model: 'iris',
    version: 3,
    pin: 'production',
    rows: 20,
    sampleRate: 1,
    classes: CLASSES,
    predicted: { setosa: 6, versicolor: 5, virginica: 9 },
    confusion: CONFUSION,
    ...over,
  };
}

describe('normalQuantile', () => {
  it('matches the standard normal quantiles to 1e-8', () => {
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963985, 8);
    expect(normalQuantile(0.5)).toBeCloseTo(0, 12);
    expect(normalQuantile(0.01)).toBeCloseTo(-2.326347874, 8);
    // the tails use their own branch of the approximation
    expect(normalQuantile(0.001)).toBeCloseTo(-3.090232306, 8);
    expect(normalQuantile(0.999)).toBeCloseTo(3.090232306, 8);
  });

  it('refuses a probability outside (0, 1)', () => {
    expect(() => normalQuantile(1)).toThrow(RangeError);
    expect(() => normalQuantile(0)).toThrow(RangeError);
  });
});

describe('wilsonInterval', () => {
  it('gives the known 95% intervals (statsmodels proportion_confint, method wilson) to 1e-4', () => {
    const eight = wilsonInterval(8, 10, 0.95);
    expect(eight.estimate).toBe(0.8);
    expect(eight.low).toBeCloseTo(0.4902, 4);
    expect(eight.high).toBeCloseTo(0.9433, 4);
    const none = wilsonInterval(0, 10, 0.95);
    expect([none.low, none.high]).toEqual([0, expect.closeTo(0.2775, 4)]);
    const all = wilsonInterval(10, 10, 0.95);
    expect([all.low, all.high]).toEqual([expect.closeTo(0.7225, 4), 1]);
  });

  it('narrows as rows grow and widens with the confidence', () => {
    const width = (i: { low: number; high: number }): number => i.high - i.low;
    expect(width(wilsonInterval(80, 100, 0.95))).toBeLessThan(width(wilsonInterval(8, 10, 0.95)));
    expect(width(wilsonInterval(8, 10, 0.99))).toBeGreaterThan(width(wilsonInterval(8, 10, 0.95)));
  });

  it('needs at least one row', () => {
    expect(() => wilsonInterval(0, 0, 0.95)).toThrow(RangeError);
  });
});

describe('macroF1', () => {
  it('equals the hand computation and scoreClassification on the same rows', () => {
    const k = CLASSES.length;
    const matrix = new Float64Array(k * k);
    const yTrue: number[] = [];
    const yPred: number[] = [];
    for (const cell of CONFUSION) {
      const t = CLASSES.indexOf(cell.label);
      const p = CLASSES.indexOf(cell.predicted);
      matrix[t * k + p] = cell.rows;
      for (let r = 0; r < cell.rows; r++) {
        yTrue.push(t);
        yPred.push(p);
      }
    }
    const byHand = (1 + 2 / 3 + 8 / 11) / 3;
    expect(macroF1(matrix, k)).toBeCloseTo(byHand, 12);
    expect(macroF1(matrix, k)).toBeCloseTo(scoreClassification(yTrue, yPred, CLASSES).macroF1, 11);
  });

  it('counts a class never true and never predicted as 0, as scoreClassification does', () => {
    const matrix = Float64Array.of(4, 0, 0, 0, 0, 0, 0, 0, 0);
    expect(macroF1(matrix, 3)).toBeCloseTo(1 / 3, 12);
    expect(scoreClassification([0, 0, 0, 0], [0, 0, 0, 0], CLASSES).macroF1).toBeCloseTo(1 / 3, 11);
  });
});

describe('liveQuality', () => {
  it('gives accuracy with its Wilson interval and macro-F1 with a bootstrap interval', () => {
    const q = liveQuality(counts());
    expect(q).toMatchObject({
      model: 'iris',
      version: 3,
      pin: 'production',
      rows: 20,
      labelled: 15,
      sampleRate: 1,
    });
    expect(q.accuracy).toEqual(wilsonInterval(12, 15, 0.95));
    expect(q.accuracy?.estimate).toBe(0.8);
    const f1 = q.macroF1;
    expect(f1?.estimate).toBeCloseTo((1 + 2 / 3 + 8 / 11) / 3, 12);
    expect(f1).toMatchObject({
      resamples: DEFAULT_QUALITY_OPTIONS.resamples,
      seed: DEFAULT_QUALITY_OPTIONS.seed,
      fromRows: 15,
    });
    expect(f1?.low).toBeLessThan(f1?.estimate as number);
    expect(f1?.high).toBeGreaterThan(f1?.estimate as number);
    expect(f1?.low).toBeGreaterThanOrEqual(0);
    expect(f1?.high).toBeLessThanOrEqual(1);
    expect(q.predictedShare).toEqual({ setosa: 0.3, versicolor: 0.25, virginica: 0.45 });
  });

  it('gives the same bootstrap interval for the same seed, another for another seed', () => {
    const a = liveQuality(counts());
    const b = liveQuality(counts());
    expect(b.macroF1).toEqual(a.macroF1);
    const other = liveQuality(counts(), [], { ...DEFAULT_QUALITY_OPTIONS, seed: 8 });
    expect(other.macroF1?.estimate).toBe(a.macroF1?.estimate);
    expect([other.macroF1?.low, other.macroF1?.high]).not.toEqual([
      a.macroF1?.low,
      a.macroF1?.high,
    ]);
  });

  it('averages over every class of the version, and labels outside them', () => {
    const one = counts({ confusion: [{ label: 'setosa', predicted: 'setosa', rows: 40 }] });
    expect(liveQuality(one).macroF1?.estimate).toBeCloseTo(1 / 3, 12);
    // without the version's classes only the classes seen count
    expect(liveQuality({ ...one, classes: [] }).macroF1?.estimate).toBe(1);
    // classes the caller names are added to the counts' own
    expect(liveQuality({ ...one, classes: [] }, CLASSES).macroF1?.estimate).toBeCloseTo(1 / 3, 12);
    const outside = counts({
      confusion: [
        { label: 'setosa', predicted: 'setosa', rows: 30 },
        { label: 'unknown', predicted: 'setosa', rows: 10 },
      ],
    });
    // setosa: P 0.75, R 1 → 6/7; unknown: 0; two classes never seen: 0
    expect(liveQuality(outside).macroF1?.estimate).toBeCloseTo(6 / 7 / 4, 12);
    expect(liveQuality(outside).accuracy?.estimate).toBe(0.75);
  });

  it('says when the figures come from a sample, and when labels are few', () => {
    const sampled = liveQuality(counts({ sampleRate: 0.25 }));
    expect(sampled.notes).toEqual([
      'computed from a sample: 25% of the rows were recorded',
      'only 15 labelled rows: the intervals are wide',
    ]);
    const many = liveQuality(
      counts({ confusion: [{ label: 'setosa', predicted: 'setosa', rows: 30 }] }),
    );
    expect(many.notes).toEqual([]);
  });

  it('bootstraps an even sample of the labelled rows past its limit, and says so', () => {
    const q = liveQuality(counts(), [], { ...DEFAULT_QUALITY_OPTIONS, maxBootstrapRows: 5 });
    // every third of the 15 rows
    expect(q.macroF1?.fromRows).toBe(5);
    expect(q.notes).toContain('the macro-F1 interval is from an even sample of 5 labelled rows');
    // the estimate is still over every row
    expect(q.macroF1?.estimate).toBeCloseTo((1 + 2 / 3 + 8 / 11) / 3, 12);
  });

  it('gives null figures without labelled rows, and still the predicted-class mix', () => {
    const q = liveQuality(counts({ confusion: [], sampleRate: 0.5 }));
    expect(q).toMatchObject({ labelled: 0, accuracy: null, macroF1: null });
    expect(q.notes).toEqual(['computed from a sample: 50% of the rows were recorded']);
    expect(q.predictedShare).toEqual({ setosa: 0.3, versicolor: 0.25, virginica: 0.45 });
    const empty = liveQuality(counts({ rows: 0, predicted: {}, confusion: [] }));
    expect(empty.predictedShare).toEqual({});
  });
});
