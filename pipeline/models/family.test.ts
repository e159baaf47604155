import { describe, expect, it } from 'vitest';

import { ModelFormatError } from '../errors.ts';
import { rowMatrix } from './family.ts';
import { gaussianBlobs } from './fixtures/gaussian-blobs.ts';
import { families, familyFor } from './index.ts';
import { DEFAULT_RANDOM_FOREST_PARAMS, fitRandomForest } from './random-forest/index.ts';
import {
  DEFAULT_LOGISTIC_REGRESSION_PARAMS,
  fitLogisticRegression,
} from './logistic-regression.ts';

const blobs = gaussianBlobs(
  [
    [0, 0],
    [4, 4],
    [0, 4],
  ],
  12,
  1,
  3,
);
const SMALL_PARAMS: Record<string, Record<string, unknown>> = {
  'random-forest': { ...DEFAULT_RANDOM_FOREST_PARAMS, trees: 5 },
  'logistic-regression': DEFAULT_LOGISTIC_REGRESSION_PARAMS,
  'ml-random-forest': {
    trees: 5,
    maxDepth: 4,
    minSamplesSplit: 2,
    maxFeatures: 1,
    bootstrap: true,
  },
  'ml-logistic-regression': { steps: 50, learningRate: 2 },
};

function fitted(algorithm: string) {
  const family = familyFor(algorithm);
  const model = family.fit(blobs.rows, blobs.y, {
    features: blobs.features,
    classes: ['a', 'b', 'c'],
    params: SMALL_PARAMS[algorithm] ?? {},
    seed: 5,
  });
  return { family, model };
}

describe('rowMatrix', () => {
  it('lays checked rows out row-major', () => {
    expect(
      Array.from(
        rowMatrix(
          [
            [1, 2],
            [3, 4],
          ],
          ['a', 'b'],
        ),
      ),
    ).toEqual([1, 2, 3, 4]);
    expect(() => rowMatrix([[1, Number.NaN]], ['a', 'b'])).toThrow(/row 0, feature b/);
  });
});

describe.each(families.map((f) => f.algorithm))('the %s classifier', (algorithm) => {
  it('predicts the label of the class index it predicts', () => {
    const { model } = fitted(algorithm);
    const labels = model.predictIndex(blobs.rows).map((k) => model.classes[k]);
    expect(model.predict(blobs.rows)).toEqual(labels);
  });

  it('hands out a copy of its artifact and keeps its features and classes frozen', () => {
    const { model } = fitted(algorithm);
    const before = JSON.stringify(model.toJSON());
    model.toJSON().features.push('changed');
    expect(JSON.stringify(model.toJSON())).toBe(before);
    expect(Object.isFrozen(model.features) && Object.isFrozen(model.classes)).toBe(true);
    expect(model.kind).toBe(model.toJSON().kind);
  });

  it('checks the seed of an artifact only where the family draws random numbers', () => {
    const { family, model } = fitted(algorithm);
    const artifact = { ...model.toJSON(), seed: 1.5 };
    if ('seed' in model.toJSON()) {
      expect(() => family.load(artifact)).toThrow(ModelFormatError);
      expect(() => family.load(artifact)).toThrow(/seed must be an integer, got 1.5/);
    } else {
      expect(family.load(artifact).predict(blobs.rows)).toEqual(model.predict(blobs.rows));
    }
  });
});

describe('predictBatch', () => {
  const spec = { features: blobs.features, classes: ['a', 'b', 'c'], seed: 5 };
  const models = [
    fitRandomForest(blobs.rows, blobs.y, {
      ...spec,
      params: { ...DEFAULT_RANDOM_FOREST_PARAMS, trees: 5 },
    }),
    fitLogisticRegression(blobs.rows, blobs.y, {
      ...spec,
      params: DEFAULT_LOGISTIC_REGRESSION_PARAMS,
    }),
  ];

  it.each(models)('gives the $kind predictions of predictIndex and predictProba', (model) => {
    const x = rowMatrix(blobs.rows, blobs.features);
    const proba = new Float64Array(blobs.rows.length * 3);
    const index = model.predictBatch(x, blobs.rows.length, proba);
    expect(Array.from(index)).toEqual(model.predictIndex(blobs.rows));
    expect(Array.from(proba)).toEqual(model.predictProba(blobs.rows).flat());
  });
});

describe.each(families.map((f) => f.algorithm))('the compiled %s predictor', (algorithm) => {
  it('gives the bits of its classifier, row by row and in a batch', () => {
    const { family, model } = fitted(algorithm);
    const predictor = family.compile(model.toJSON());
    expect(predictor).toMatchObject({ kind: model.kind, engine: 'compiled' });
    expect(predictor.features).toEqual(model.features);
    expect(predictor.classes).toEqual(model.classes);
    const k = model.classes.length;
    const out = new Float64Array(k);
    const rows = blobs.rows.map((r) => r.map((v) => v * 1.3 - 0.5));
    const index = rows.map((r) => predictor.predictRow(r, out));
    expect(index).toEqual(model.predictIndex(rows));
    const proba = new Float64Array(rows.length * k);
    const batch = predictor.predictBatch?.(rowMatrix(rows, model.features), rows.length, proba);
    expect(Array.from(batch ?? [])).toEqual(index);
    expect(Array.from(proba)).toEqual(model.predictProba(rows).flat());
  });
});
