import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';

import { readDataset } from '../dataset.ts';
import { ModelFormatError } from '../errors.ts';
import { DEFAULT_ML_RANDOM_FOREST_PARAMS, mlRandomForestFamily } from './ml-random-forest.ts';
import { loadModel } from './index.ts';
import {
  DEFAULT_ML_LOGISTIC_REGRESSION_PARAMS,
  mlLogisticRegressionFamily,
} from './ml-logistic-regression.ts';
import { compilePredictor, predictProba } from './predictor.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const iris = await readDataset(ROOT, {
  path: 'data/iris.csv',
  features: ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'],
  label: 'species',
  classes: ['setosa', 'versicolor', 'virginica'],
});
const spec = { features: iris.features, classes: iris.classes, seed: 42 };

/** Rows around and between the training rows, so splits are crossed from both sides. */
function probeRows(): number[][] {
  const rows = iris.X.map((r) => [...r]);
  for (let i = 0; i + 1 < iris.X.length; i += 3) {
    const a = iris.X[i] as number[];
    const b = iris.X[i + 1] as number[];
    rows.push(a.map((x, j) => (x + (b[j] as number)) / 2));
    rows.push(a.map((x) => x + 0.05));
  }
  return rows;
}

function expectSame(artifact: unknown): void {
  const predictor = compilePredictor(artifact);
  const reference = loadModel(artifact);
  expect(predictor.engine).toBe('compiled');
  const rows = probeRows();
  // Bit-identical: toEqual on numbers uses Object.is, so no tolerance at all.
  expect(predictProba(predictor, rows)).toEqual(reference.predictProba(rows));
  const out = new Float64Array(predictor.classes.length);
  expect(rows.map((r) => predictor.predictRow(r, out))).toEqual(reference.predictIndex(rows));
}

describe('compilePredictor', () => {
  it('gives exactly the probabilities of the registered iris@1 forest on every Iris row', async () => {
    const text = await readFile(`${ROOT}registry/iris/versions/1/model.json`, 'utf8');
    expectSame(JSON.parse(text));
  });

  it.each([
    ['default forest', { ...DEFAULT_ML_RANDOM_FOREST_PARAMS }],
    [
      'deep forest',
      { trees: 60, maxDepth: 20, minSamplesSplit: 2, maxFeatures: 1, bootstrap: true },
    ],
    [
      'forest on feature subsets',
      { trees: 40, maxDepth: 4, minSamplesSplit: 3, maxFeatures: 0.5, bootstrap: false },
    ],
  ])('gives exactly the probabilities of a %s trained on Iris', (_name, params) => {
    expectSame(mlRandomForestFamily.fit(iris.X, iris.y, { ...spec, params }).toJSON());
  });

  it.each([
    ['default', { ...DEFAULT_ML_LOGISTIC_REGRESSION_PARAMS }],
    ['fast', { steps: 200, learningRate: 4 }],
  ])(
    'gives exactly the probabilities of the %s logistic regression trained on Iris',
    (_n, params) => {
      expectSame(mlLogisticRegressionFamily.fit(iris.X, iris.y, { ...spec, params }).toJSON());
    },
  );

  it('keeps extreme inputs finite as the pipeline does', () => {
    const artifact = mlLogisticRegressionFamily.fit(iris.X, iris.y, {
      ...spec,
      params: DEFAULT_ML_LOGISTIC_REGRESSION_PARAMS,
    });
    const rows = [
      [1e300, -1e300, 1e300, 1e300],
      [-1e12, 0, 0, 1e12],
    ];
    const p = predictProba(compilePredictor(artifact.toJSON()), rows);
    expect(p).toEqual(artifact.predictProba(rows));
    expect(p.flat().every(Number.isFinite)).toBe(true);
  });

  it('refuses an artifact the pipeline refuses, naming the field', () => {
    const artifact = mlRandomForestFamily
      .fit(iris.X, iris.y, { ...spec, params: { ...DEFAULT_ML_RANDOM_FOREST_PARAMS, trees: 3 } })
      .toJSON();
    expect(() => compilePredictor({ ...artifact, formatVersion: 99 })).toThrow(ModelFormatError);
    expect(() => compilePredictor({ ...artifact, kind: 'pickle' })).toThrow(/kind "pickle"/);
    const broken = structuredClone(artifact) as unknown as {
      forest: { baseModel: { estimators: unknown[] } };
    };
    broken.forest.baseModel.estimators[1] = { name: 'DTClassifier', options: {}, root: {} };
    expect(() => compilePredictor(broken)).toThrow(/estimators\[1\]\.root/);
  });
});
