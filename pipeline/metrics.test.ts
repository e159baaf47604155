import { describe, expect, it } from 'vitest';
import { scoreClassification } from './metrics.ts';

describe('scoreClassification', () => {
  it('computes accuracy, per-class and macro figures and the confusion matrix', () => {
    // true:  a a a b b c ; pred: a a b b c c
    const m = scoreClassification([0, 0, 0, 1, 1, 2], [0, 0, 1, 1, 2, 2], ['a', 'b', 'c']);
    expect(m.accuracy).toBeCloseTo(4 / 6, 12);
    expect(m.confusion).toEqual([
      [2, 1, 0],
      [0, 1, 1],
      [0, 0, 1],
    ]);
    expect(m.perClass[0]).toMatchObject({ class: 'a', precision: 1, support: 3 });
    expect(m.perClass[0]?.recall).toBeCloseTo(2 / 3, 12);
    expect(m.perClass[1]?.precision).toBeCloseTo(0.5, 12);
    expect(m.perClass[2]?.f1).toBeCloseTo(2 / 3, 12);
    // scikit-learn: f1_score(average='macro') of this pair = 0.6555555555555556
    expect(m.macroF1).toBeCloseTo(0.6555555555555556, 10);
    expect(m.macroPrecision).toBeCloseTo((1 + 0.5 + 0.5) / 3, 12);
  });

  it('gives precision 0 to a class never predicted instead of dividing by zero', () => {
    const m = scoreClassification([0, 1], [0, 0], ['x', 'y']);
    expect(m.perClass[1]).toMatchObject({ precision: 0, recall: 0, f1: 0 });
    expect(Number.isFinite(m.macroF1)).toBe(true);
  });

  it('refuses predictions of another length', () => {
    expect(() => scoreClassification([0, 1], [0], ['x', 'y'])).toThrow(RangeError);
  });
});
