// @ts-expect-error -- ml-logistic-regression ships no type declarations.
import LibraryLogisticRegression from 'ml-logistic-regression';
import { Matrix } from 'ml-matrix';
import { describe, expect, it } from 'vitest';

import { ModelFormatError, PinmlError } from '../errors.ts';
import { canonicalJson } from '../json.ts';
import { accuracy, type Blobs, gaussianBlobs, splitBlobs } from './fixtures/gaussian-blobs.ts';
import {
  DEFAULT_ML_LOGISTIC_REGRESSION_PARAMS,
  type MlLogisticRegressionArtifact,
  type MlLogisticRegressionParams,
  mlLogisticRegressionFamily,
} from './ml-logistic-regression.ts';
import type { FitSpec } from './types.ts';

const CENTRES = [
  [0, 0, 0, 0],
  [5, 5, 0, 0],
  [0, 5, 5, 5],
];
const blobs = gaussianBlobs(CENTRES, 40, 1, 11);
const [train, test] = splitBlobs(blobs, 25, 3);
// Overlapping blobs: the model gets some rows wrong, so agreement on them means something.
const overlapping = gaussianBlobs(CENTRES, 30, 2.5, 5);
const CLASSES = ['a', 'b', 'c'];

function spec(
  overrides: Partial<FitSpec<MlLogisticRegressionParams>> = {},
): FitSpec<MlLogisticRegressionParams> {
  return {
    features: train.features,
    classes: CLASSES,
    params: DEFAULT_ML_LOGISTIC_REGRESSION_PARAMS,
    seed: 1,
    ...overrides,
  };
}

function fit(data: Blobs = train, overrides: Partial<FitSpec<MlLogisticRegressionParams>> = {}) {
  const classes = new Set(data.y).size === 2 ? ['no', 'yes'] : CLASSES;
  return mlLogisticRegressionFamily.fit(
    data.rows,
    data.y,
    spec({ features: data.features, classes, ...overrides }),
  );
}

function artifact(data: Blobs = train): MlLogisticRegressionArtifact {
  return fit(data).toJSON() as MlLogisticRegressionArtifact;
}

/** What ml-logistic-regression itself predicts for the standardised rows, trained alike. */
function libraryPredict(
  data: Blobs,
  a: MlLogisticRegressionArtifact,
): { predicted: number[]; weights: number[][] } {
  const { mean, scale } = a.standardize;
  const X = new Matrix(data.rows.map((r) => [...r.map((x, j) => (x - mean[j]!) / scale[j]!), 1]));
  const Lib = LibraryLogisticRegression as new (o: object) => {
    train(X: Matrix, Y: Matrix): void;
    predict(X: Matrix): number[];
    classifiers: { weights: Matrix }[];
  };
  const lib = new Lib({
    numSteps: a.params.steps,
    learningRate: a.params.learningRate / data.rows.length,
  });
  lib.train(X, Matrix.columnVector(data.y));
  return {
    predicted: lib.predict(X),
    weights: lib.classifiers.map((c) => c.weights.to1DArray()),
  };
}

const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);

describe('mlLogisticRegressionFamily', () => {
  it('predicts held-out rows of three separated blobs with accuracy >= 0.95', () => {
    expect(accuracy(fit().predictIndex(test.rows), test.y)).toBeGreaterThanOrEqual(0.95);
  });

  it('agrees with the library’s own predict() on its training rows', () => {
    const model = fit(overlapping);
    const a = model.toJSON() as MlLogisticRegressionArtifact;
    const library = libraryPredict(overlapping, a);
    const ours = model.predictIndex(overlapping.rows);
    expect(ours).toEqual(library.predicted);
    // Not a trivial agreement: both get some of these rows wrong.
    expect(accuracy(ours, overlapping.y)).toBeLessThan(1);
    // The artifact's weights are the library's, negated (see MlLogisticRegressionArtifact).
    expect(a.weights).toEqual(library.weights.map((row) => row.map((w) => -w)));
  });

  it('gives probabilities in [0, 1] summing to 1 within 1e-12 whose largest is the prediction', () => {
    const model = fit(overlapping);
    const proba = model.predictProba(overlapping.rows);
    const index = model.predictIndex(overlapping.rows);
    proba.forEach((row, i) => {
      expect(row).toHaveLength(3);
      expect(Math.abs(sum(row) - 1)).toBeLessThanOrEqual(1e-12);
      expect(row.every((p) => p >= 0 && p <= 1)).toBe(true);
      expect(row.indexOf(Math.max(...row))).toBe(index[i]);
    });
    expect(proba.some((row) => Math.max(...row) < 0.9)).toBe(true);
  });

  it('keeps probabilities finite and summing to 1 far outside the training data', () => {
    const model = fit();
    for (const row of model.predictProba([
      [1e6, -1e6, 1e6, 1e6],
      [-1e300, 1e300, 0, 0],
    ])) {
      expect(row.every(Number.isFinite)).toBe(true);
      expect(Math.abs(sum(row) - 1)).toBeLessThanOrEqual(1e-12);
    }
  });

  it('standardises with the population standard deviation, and scale 1 for a constant feature', () => {
    // Six times 0.1 averages to 0.09999999999999999: a naive sd would be 1.4e-17, not 0.
    const rows = [1, 2, 3, 4, 5, 6].map((a) => [a, 0.1, a <= 3 ? 5 : 7]);
    const model = mlLogisticRegressionFamily.fit(rows, [0, 0, 0, 1, 1, 1], {
      features: ['a', 'b', 'c'],
      classes: ['lo', 'hi'],
      params: { steps: 50, learningRate: 1 },
      seed: 0,
    });
    const { mean, scale } = (model.toJSON() as MlLogisticRegressionArtifact).standardize;
    expect(mean[0]).toBeCloseTo(3.5, 12);
    expect(mean[2]).toBeCloseTo(6, 12);
    expect(scale[0]).toBeCloseTo(Math.sqrt(35 / 12), 12);
    expect(scale[1]).toBe(1);
    expect(scale[2]).toBeCloseTo(1, 12);
    expect(model.predict(rows)).toEqual(['lo', 'lo', 'lo', 'hi', 'hi', 'hi']);
  });

  it('predicts the same whatever the units of a feature (probabilities within 1e-9)', () => {
    const scaled = {
      ...train,
      rows: train.rows.map((r) => r.map((x, j) => (j === 0 ? x * 1000 : x))),
    };
    const inTest = test.rows.map((r) => r.map((x, j) => (j === 0 ? x * 1000 : x)));
    const plain = fit().predictProba(test.rows);
    const thousandfold = fit(scaled).predictProba(inTest);
    thousandfold.forEach((row, i) =>
      row.forEach((p, k) => expect(Math.abs(p - plain[i]![k]!)).toBeLessThanOrEqual(1e-9)),
    );
  });

  it('trains a two-class problem with one weight row per class, as the library does', () => {
    const two = gaussianBlobs(
      [
        [0, 0],
        [3, 3],
      ],
      30,
      1,
      3,
    );
    const [tr, te] = splitBlobs(two, 20, 2);
    const model = fit(tr);
    const a = model.toJSON() as MlLogisticRegressionArtifact;
    expect(a.weights).toHaveLength(2);
    expect(a.weights.every((w) => w.length === 3)).toBe(true);
    expect(accuracy(model.predictIndex(te.rows), te.y)).toBeGreaterThanOrEqual(0.95);
    expect(model.predictIndex(tr.rows)).toEqual(libraryPredict(tr, a).predicted);
    expect(new Set(model.predict(te.rows))).toEqual(new Set(['no', 'yes']));
  });

  it('maps class indices back to string labels and to numeric labels', () => {
    const index = fit().predictIndex(test.rows);
    expect(fit().predict(test.rows)).toEqual(index.map((k) => CLASSES[k]));
    expect(fit(train, { classes: [3, 1, 2] }).predict(test.rows)).toEqual(
      index.map((k) => [3, 1, 2][k]),
    );
  });

  it('loads its canonical JSON into a model that predicts identical labels and probabilities', () => {
    const model = fit(overlapping);
    const text = canonicalJson(model.toJSON());
    const loaded = mlLogisticRegressionFamily.load(JSON.parse(text));
    expect(loaded.predict(blobs.rows)).toEqual(model.predict(blobs.rows));
    expect(loaded.predictProba(blobs.rows)).toEqual(model.predictProba(blobs.rows));
    expect(canonicalJson(loaded.toJSON())).toBe(text);
  });

  it('writes byte-identical artifacts for the same rows, labels and spec, and others for other params', () => {
    const first = canonicalJson(artifact());
    expect(canonicalJson(artifact())).toBe(first);
    const other = fit(train, {
      params: { ...DEFAULT_ML_LOGISTIC_REGRESSION_PARAMS, steps: 10 },
    }).toJSON();
    expect(canonicalJson(other)).not.toBe(first);
  });

  it('refuses training rows without every class, and params out of range (a learning rate that would diverge included)', () => {
    const twoOfThree = train.y.map((k) => (k === 1 ? 2 : k));
    expect(() => mlLogisticRegressionFamily.fit(train.rows, twoOfThree, spec())).toThrow(
      /needs a training row of every class; none for "b"/,
    );
    expect(() => fit(train, { params: { steps: 0, learningRate: 1 } })).toThrow(
      /params\.steps must be an integer from 1 to 100000, got 0/,
    );
    expect(() => fit(train, { params: { steps: 2, learningRate: Number.MAX_VALUE } })).toThrow(
      /params\.learningRate must be a number in \(0, 100\], got 1\.7976931348623157e\+308/,
    );
    expect(() => fit(train, { params: { steps: 0, learningRate: 1 } })).toThrow(PinmlError);
  });

  it('refuses a row with the wrong number of values', () => {
    expect(() => fit().predict([[1, 2]])).toThrow(/row 0 has 2 values; the model expects 4/);
  });
});

describe('mlLogisticRegressionFamily.load', () => {
  const good = artifact();
  const refused = (change: (a: MlLogisticRegressionArtifact) => void): unknown => {
    const a = JSON.parse(canonicalJson(good)) as MlLogisticRegressionArtifact;
    change(a);
    return () => mlLogisticRegressionFamily.load(a);
  };

  it('refuses another kind', () => {
    expect(refused((a) => ((a as { kind: string }).kind = 'ml-random-forest'))).toThrow(
      /kind must be "logistic-regression", got "ml-random-forest"/,
    );
  });

  it('refuses a missing format version, and a newer one with advice to upgrade', () => {
    expect(
      refused((a) => delete (a as Partial<MlLogisticRegressionArtifact>).formatVersion),
    ).toThrow(/formatVersion is missing/);
    expect(refused((a) => ((a as { formatVersion: number }).formatVersion = 3))).toThrow(
      /written by a newer pinml; upgrade/,
    );
  });

  it('refuses weights or standardisation that do not match the features and classes', () => {
    expect(refused((a) => a.weights.pop())).toThrow(/weights must have one row per class \(3/);
    expect(refused((a) => a.weights[1]!.pop())).toThrow(/weights\[1\] must list 5 finite numbers/);
    expect(refused((a) => (a.weights[2]![0] = null as unknown as number))).toThrow(/weights\[2\]/);
    expect(refused((a) => a.features.push('extra'))).toThrow(/standardize\.mean must list 5/);
    expect(refused((a) => (a.standardize.scale[0] = 0))).toThrow(/standardize\.scale/);
    expect(refused((a) => ((a.params as { steps: unknown }).steps = 'many'))).toThrow(
      /params is not valid: steps/,
    );
    expect(refused((a) => a.weights.pop())).toThrow(ModelFormatError);
  });
});
