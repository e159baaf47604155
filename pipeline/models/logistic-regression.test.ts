import { describe, expect, it } from 'vitest';

import { ModelFormatError, PinmlError } from '../errors.ts';
import { canonicalJson } from '../json.ts';
import { accuracy, gaussianBlobs, splitBlobs } from './fixtures/gaussian-blobs.ts';
import { minimizeLbfgs } from './lbfgs.ts';
import {
  DEFAULT_LOGISTIC_REGRESSION_PARAMS,
  type LogisticRegressionParams,
  fitLogisticRegression,
  logisticRegressionFamily,
} from './logistic-regression.ts';
import type { FitSpec } from './types.ts';

const CENTRES = [
  [0, 0, 0, 0],
  [5, 5, 0, 0],
  [0, 5, 5, 5],
];
const blobs = gaussianBlobs(CENTRES, 40, 1, 11);
const [train, test] = splitBlobs(blobs, 25, 3);
// Overlapping blobs: the model gets some rows wrong and no weight runs off to infinity.
const overlapping = gaussianBlobs(CENTRES, 30, 2.5, 5);

function spec(
  overrides: Partial<FitSpec<LogisticRegressionParams>> = {},
): FitSpec<LogisticRegressionParams> {
  return {
    features: train.features,
    classes: ['a', 'b', 'c'],
    params: DEFAULT_LOGISTIC_REGRESSION_PARAMS,
    seed: 1,
    ...overrides,
  };
}

describe('minimizeLbfgs', () => {
  it('finds the minimum of a badly scaled quadratic within 1e-8', () => {
    const scales = [1, 100, 0.01];
    const f = (x: Float64Array, g: Float64Array): number => {
      let v = 0;
      for (let i = 0; i < 3; i++) {
        const r = (x[i] as number) - (i + 1);
        v += (scales[i] as number) * r * r;
        g[i] = 2 * (scales[i] as number) * r;
      }
      return v;
    };
    const result = minimizeLbfgs(f, new Float64Array(3), {
      maxIterations: 200,
      gradientTolerance: 1e-10,
    });
    expect(result.converged).toBe(true);
    Array.from(result.x).forEach((v, i) => expect(Math.abs(v - (i + 1))).toBeLessThan(1e-8));
  });
});

describe('logisticRegressionFamily', () => {
  it('predicts held-out rows of three blobs with accuracy >= 0.95 and converges', () => {
    const model = fitLogisticRegression(train.rows, train.y, spec());
    expect(accuracy(model.predictIndex(test.rows), test.y)).toBeGreaterThanOrEqual(0.95);
    expect(model.optimizer?.converged).toBe(true);
  });

  it('reaches a gradient below the tolerance: the optimum of the penalised log-loss', () => {
    // At the optimum, each class's mean predicted probability equals its share of the rows
    // (the intercepts' gradient is zero).
    const rows = overlapping.rows;
    const model = fitLogisticRegression(
      rows,
      overlapping.y,
      spec({
        params: { ...DEFAULT_LOGISTIC_REGRESSION_PARAMS, tolerance: 1e-8, maxIterations: 500 },
      }),
    );
    const proba = model.predictProba(rows);
    for (let c = 0; c < 3; c++) {
      const predicted = proba.reduce((s, p) => s + (p[c] as number), 0) / rows.length;
      const share = overlapping.y.filter((y) => y === c).length / rows.length;
      expect(Math.abs(predicted - share)).toBeLessThan(1e-7);
    }
  });

  it('loads its canonical JSON into a model giving identical labels and probabilities', () => {
    const model = logisticRegressionFamily.fit(overlapping.rows, overlapping.y, spec());
    const text = canonicalJson(model.toJSON());
    const loaded = logisticRegressionFamily.load(JSON.parse(text));
    expect(loaded.predict(overlapping.rows)).toEqual(model.predict(overlapping.rows));
    expect(loaded.predictProba(overlapping.rows)).toEqual(model.predictProba(overlapping.rows));
    expect(canonicalJson(loaded.toJSON())).toBe(text);
    expect(
      canonicalJson(logisticRegressionFamily.fit(overlapping.rows, overlapping.y, spec()).toJSON()),
    ).toBe(text);
  });

  it('gives probabilities summing to 1 within 1e-12, finite even for extreme rows', () => {
    const model = logisticRegressionFamily.fit(train.rows, train.y, spec());
    const rows = [...test.rows, [1e300, -1e300, 1e300, 1e300], [-1e12, 0, 0, 1e12]];
    for (const row of model.predictProba(rows)) {
      expect(row.every(Number.isFinite)).toBe(true);
      expect(Math.abs(row.reduce((a, b) => a + b, 0) - 1)).toBeLessThanOrEqual(1e-12);
    }
  });

  it('shrinks the weights as C gets smaller', () => {
    const norm = (C: number): number => {
      const a = logisticRegressionFamily
        .fit(
          overlapping.rows,
          overlapping.y,
          spec({ params: { ...DEFAULT_LOGISTIC_REGRESSION_PARAMS, C } }),
        )
        .toJSON();
      return (a.weights as number[][])
        .flatMap((w) => w.slice(0, -1))
        .reduce((s, v) => s + v * v, 0);
    };
    expect(norm(0.01)).toBeLessThan(norm(1));
    expect(norm(1)).toBeLessThan(norm(100));
  });

  it('trains on a constant feature and on rows of a single class', () => {
    const rows = train.rows.map((r) => [...r.slice(0, 3), 7]);
    const model = logisticRegressionFamily.fit(rows, train.y, spec());
    expect(
      accuracy(model.predictIndex(test.rows.map((r) => [...r.slice(0, 3), 7])), test.y),
    ).toBeGreaterThanOrEqual(0.9);
    const one = logisticRegressionFamily.fit(
      train.rows.slice(0, 10),
      new Array<number>(10).fill(2),
      spec(),
    );
    expect(one.predict(test.rows)).toEqual(new Array(test.rows.length).fill('c'));
  });

  it('refuses NaN rows and params out of range', () => {
    const rows = train.rows.map((r) => [...r]);
    (rows[0] as number[])[1] = NaN;
    expect(() => logisticRegressionFamily.fit(rows, train.y, spec())).toThrow(/row 0, feature x1/);
    expect(() =>
      logisticRegressionFamily.fit(
        train.rows,
        train.y,
        spec({ params: { ...DEFAULT_LOGISTIC_REGRESSION_PARAMS, C: 0 } }),
      ),
    ).toThrow(PinmlError);
    expect(() =>
      logisticRegressionFamily.fit(
        train.rows,
        train.y,
        spec({ params: { ...DEFAULT_LOGISTIC_REGRESSION_PARAMS, maxIterations: 0 } }),
      ),
    ).toThrow(/maxIterations/);
  });

  it('refuses another kind, a newer format and weights of the wrong shape', () => {
    const a = logisticRegressionFamily.fit(train.rows, train.y, spec()).toJSON();
    expect(() => logisticRegressionFamily.load({ ...a, kind: 'logistic-regression' })).toThrow(
      /kind must be "softmax-regression"/,
    );
    expect(() => logisticRegressionFamily.load({ ...a, formatVersion: 2 })).toThrow(
      ModelFormatError,
    );
    expect(() =>
      logisticRegressionFamily.load({ ...a, weights: (a.weights as number[][]).slice(1) }),
    ).toThrow(/weights must have one row per class/);
    expect(() =>
      logisticRegressionFamily.load({ ...a, standardize: { mean: [0], scale: [1] } }),
    ).toThrow(/standardize.mean/);
  });
});
