import { describe, expect, it } from 'vitest';

import { ModelFormatError, PinmlError } from '../errors.ts';
import { canonicalJson } from '../json.ts';
import { DEFAULT_ML_RANDOM_FOREST_PARAMS, mlRandomForestFamily } from './ml-random-forest.ts';
import { gaussianBlobs } from './fixtures/gaussian-blobs.ts';
import { families, familyFor, familyForArtifact, loadModel } from './index.ts';
import {
  DEFAULT_ML_LOGISTIC_REGRESSION_PARAMS,
  mlLogisticRegressionFamily,
} from './ml-logistic-regression.ts';
import { DEFAULT_RANDOM_FOREST_PARAMS, randomForestFamily } from './random-forest/index.ts';
import {
  DEFAULT_LOGISTIC_REGRESSION_PARAMS,
  logisticRegressionFamily,
} from './logistic-regression.ts';
import type { Classifier, ModelArtifact } from './types.ts';

const blobs = gaussianBlobs(
  [
    [0, 0, 0],
    [3, 3, 0],
    [0, 3, 3],
  ],
  20,
  1.5,
  9,
);

const CASES = [
  { algorithm: 'random-forest', params: { ...DEFAULT_RANDOM_FOREST_PARAMS, trees: 20 } },
  { algorithm: 'logistic-regression', params: DEFAULT_LOGISTIC_REGRESSION_PARAMS },
  { algorithm: 'ml-random-forest', params: { ...DEFAULT_ML_RANDOM_FOREST_PARAMS, trees: 20 } },
  { algorithm: 'ml-logistic-regression', params: DEFAULT_ML_LOGISTIC_REGRESSION_PARAMS },
] as const;

function fitWith(algorithm: string, params: object, classes = ['a', 'b', 'c']): Classifier {
  return familyFor(algorithm).fit(blobs.rows, blobs.y, {
    features: blobs.features,
    classes,
    params: { ...params },
    seed: 7,
  });
}

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('familyFor', () => {
  it('finds each family by its algorithm name', () => {
    expect(familyFor('random-forest')).toBe(randomForestFamily);
    expect(familyFor('logistic-regression')).toBe(logisticRegressionFamily);
    expect(familyFor('ml-random-forest')).toBe(mlRandomForestFamily);
    expect(familyFor('ml-logistic-regression')).toBe(mlLogisticRegressionFamily);
    expect(families.map((f) => f.algorithm)).toEqual([
      'random-forest',
      'logistic-regression',
      'ml-random-forest',
      'ml-logistic-regression',
    ]);
  });

  it('refuses an unknown algorithm with a PinmlError naming the known ones', () => {
    const error = thrown(() => familyFor('svm'));
    expect(error).toBeInstanceOf(PinmlError);
    expect((error as PinmlError).code).toBe('E_CONFIG');
    expect((error as PinmlError).message).toMatch(
      /unknown algorithm "svm": use one of random-forest, logistic-regression, ml-random-forest, ml-logistic-regression/,
    );
    expect(() => familyFor('toString')).toThrow(/unknown algorithm "toString"/);
  });

  it('finds the family that wrote an artifact kind, the library-backed ones included', () => {
    expect(familyForArtifact('random-forest')).toBe(randomForestFamily);
    expect(familyForArtifact('softmax-regression')).toBe(logisticRegressionFamily);
    expect(familyForArtifact('ml-random-forest')).toBe(mlRandomForestFamily);
    expect(familyForArtifact('logistic-regression')).toBe(mlLogisticRegressionFamily);
    expect(familyForArtifact('sklearn-pickle')).toBeUndefined();
  });
});

describe('loadModel', () => {
  it.each(CASES)(
    'loads a $algorithm artifact from canonical JSON into a model predicting identical labels and probabilities',
    ({ algorithm, params }) => {
      const model = fitWith(algorithm, params);
      const loaded = loadModel(JSON.parse(canonicalJson(model.toJSON())));
      expect(loaded.kind).toBe(model.kind);
      expect(loaded.predict(blobs.rows)).toEqual(model.predict(blobs.rows));
      expect(loaded.predictProba(blobs.rows)).toEqual(model.predictProba(blobs.rows));
    },
  );

  it.each(CASES)(
    'maps $algorithm predictions back to numeric labels after loading',
    ({ algorithm, params }) => {
      const model = fitWith(algorithm, params, [7, 8, 9] as never);
      const loaded = loadModel(JSON.parse(canonicalJson(model.toJSON())));
      const index = loaded.predictIndex(blobs.rows);
      expect(loaded.predict(blobs.rows)).toEqual(index.map((k) => [7, 8, 9][k]));
      expect(new Set(index).size).toBe(3);
    },
  );

  it.each(CASES)(
    'gives $algorithm probabilities summing to 1 within 1e-12',
    ({ algorithm, params }) => {
      for (const row of fitWith(algorithm, params).predictProba(blobs.rows)) {
        expect(Math.abs(row.reduce((a, b) => a + b, 0) - 1)).toBeLessThanOrEqual(1e-12);
      }
    },
  );

  it.each(CASES)(
    'writes byte-identical $algorithm artifacts from two fits on the same input',
    ({ algorithm, params }) => {
      const first = canonicalJson(fitWith(algorithm, params).toJSON());
      expect(canonicalJson(fitWith(algorithm, params).toJSON())).toBe(first);
    },
  );

  it.each(CASES)(
    'refuses a $algorithm artifact from a newer pinml with advice to upgrade',
    ({ algorithm, params }) => {
      const a: ModelArtifact = { ...fitWith(algorithm, params).toJSON(), formatVersion: 2 };
      const error = thrown(() => loadModel(a));
      expect(error).toBeInstanceOf(ModelFormatError);
      expect((error as ModelFormatError).message).toMatch(
        /formatVersion is 2 but this pinml reads up to 1: this artifact was written by a newer pinml; upgrade/,
      );
      expect((error as ModelFormatError).data).toMatchObject({ field: 'formatVersion' });
    },
  );

  it.each(CASES)(
    'refuses a $algorithm artifact whose classes do not match its model',
    ({ algorithm, params }) => {
      const a: ModelArtifact = { ...fitWith(algorithm, params).toJSON(), classes: ['a', 'b'] };
      expect(() => loadModel(a)).toThrow(ModelFormatError);
    },
  );

  it('refuses what is not an artifact, and an unknown kind naming the known ones', () => {
    expect(() => loadModel(null)).toThrow(/must be a JSON object with a "kind" field/);
    expect(() => loadModel([1])).toThrow(ModelFormatError);
    expect(() => loadModel({ formatVersion: 1 })).toThrow(/kind is missing/);
    expect(() => loadModel({ kind: 3 })).toThrow(/kind must be a string, got a number/);
    const error = thrown(() => loadModel({ kind: 'sklearn-pickle', formatVersion: 1 }));
    expect(error).toBeInstanceOf(ModelFormatError);
    expect((error as ModelFormatError).message).toMatch(
      /kind "sklearn-pickle" is not known; this pinml loads random-forest, softmax-regression, ml-random-forest, logistic-regression/,
    );
  });

  it.each(CASES)(
    'refuses a $algorithm artifact labelled with the kind of every other family',
    ({ algorithm, params }) => {
      const artifact = fitWith(algorithm, params).toJSON();
      for (const other of families.filter((f) => f.kind !== artifact.kind)) {
        expect(() => loadModel({ ...artifact, kind: other.kind })).toThrow(ModelFormatError);
      }
    },
  );
});
