import { readFile } from 'node:fs/promises';
import { Matrix } from 'ml-matrix';
import { RandomForestClassifier as LibraryForest } from 'ml-random-forest';
import { describe, expect, it } from 'vitest';

import { readDataset } from '../dataset.ts';
import { ModelFormatError } from '../errors.ts';
import { argmax } from './family.ts';
import { loadModel } from './index.ts';
import {
  DEFAULT_ML_LOGISTIC_REGRESSION_PARAMS,
  mlLogisticRegressionFamily,
  type MlLogisticRegressionArtifact,
} from './ml-logistic-regression.ts';
import {
  DEFAULT_ML_RANDOM_FOREST_PARAMS,
  mlRandomForestFamily,
  type MlRandomForestArtifact,
} from './ml-random-forest.ts';
import { compilePredictor, predictProba } from './predictor.ts';
import type { ModelArtifact } from './types.ts';

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

interface Predicted {
  proba: number[][];
  index: number[];
}

/**
 * What ml-random-forest itself predicts, walking its own trees: each tree's vote
 * (`predictionValues`), the votes as fractions of the trees, the most voted class.
 */
function libraryForest(artifact: MlRandomForestArtifact, rows: number[][]): Predicted {
  const forest = LibraryForest.load(
    structuredClone(artifact.forest) as Parameters<typeof LibraryForest.load>[0],
  );
  const votes = forest.predictionValues(new Matrix(rows));
  const counts = rows.map((_, i) => {
    const c = new Array<number>(artifact.classes.length).fill(0);
    for (let t = 0; t < votes.columns; t++) c[votes.get(i, t)] = (c[votes.get(i, t)] ?? 0) + 1;
    return c;
  });
  return {
    proba: counts.map((c) => c.map((v) => v / artifact.params.trees)),
    index: counts.map(argmax),
  };
}

/**
 * The `logistic-regression` artifact's arithmetic as documented, with the scores from
 * ml-matrix's product of the design matrix (standardised rows and a 1) as the library computes
 * them: the class of the highest score, and the sigmoids normalised in log space.
 */
function oneVsRest(artifact: MlLogisticRegressionArtifact, rows: number[][]): Predicted {
  const { mean, scale } = artifact.standardize;
  const design = new Matrix(
    rows.map((r) => [...r.map((x, j) => (x - (mean[j] as number)) / (scale[j] as number)), 1]),
  );
  const scores = design.mmul(new Matrix(artifact.weights).transpose()).to2DArray();
  const softplus = (t: number): number =>
    t > 0 ? t + Math.log1p(Math.exp(-t)) : Math.log1p(Math.exp(t));
  const proba = scores.map((s) => {
    const logs = s.map((v) => -softplus(-v));
    const top = Math.max(...logs);
    const e = logs.map((l) => Math.exp(l - top));
    const total = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / total);
  });
  return { proba, index: scores.map(argmax) };
}

/**
 * The compiled predictor gives, bit for bit, what the pipeline's classifier gives, row by row
 * and in a batch, and what `oracle` (computed another way) gives.
 */
function expectSame(artifact: ModelArtifact, oracle: Predicted, rows = probeRows()): void {
  const predictor = compilePredictor(artifact);
  const reference = loadModel(artifact);
  expect(predictor.engine).toBe('compiled');
  // Bit-identical: toEqual on numbers uses Object.is, so no tolerance at all.
  expect(predictProba(predictor, rows)).toEqual(reference.predictProba(rows));
  const out = new Float64Array(predictor.classes.length);
  const index = rows.map((r) => predictor.predictRow(r, out));
  expect(index).toEqual(reference.predictIndex(rows));
  expect(predictProba(predictor, rows)).toEqual(oracle.proba);
  expect(index).toEqual(oracle.index);
  const proba = new Float64Array(rows.length * predictor.classes.length);
  const batch = predictor.predictBatch?.(Float64Array.from(rows.flat()), rows.length, proba);
  expect(Array.from(batch ?? [])).toEqual(index);
  expect(Array.from(proba)).toEqual(oracle.proba.flat());
}

describe('compilePredictor', () => {
  it('gives exactly the probabilities of the registered iris@1 forest on every Iris row', async () => {
    const text = await readFile(`${ROOT}registry/iris/versions/1/model.json`, 'utf8');
    const artifact = JSON.parse(text) as MlRandomForestArtifact;
    expectSame(artifact, libraryForest(artifact, probeRows()));
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
    const artifact = mlRandomForestFamily.fit(iris.X, iris.y, { ...spec, params }).toJSON();
    expectSame(artifact, libraryForest(artifact as MlRandomForestArtifact, probeRows()));
  });

  it.each([
    ['default', { ...DEFAULT_ML_LOGISTIC_REGRESSION_PARAMS }],
    ['fast', { steps: 200, learningRate: 4 }],
  ])(
    'gives exactly the probabilities of the %s logistic regression trained on Iris',
    (_n, params) => {
      const artifact = mlLogisticRegressionFamily.fit(iris.X, iris.y, { ...spec, params }).toJSON();
      expectSame(artifact, oneVsRest(artifact as MlLogisticRegressionArtifact, probeRows()));
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
    expect(p).toEqual(oneVsRest(artifact.toJSON() as MlLogisticRegressionArtifact, rows).proba);
    expect(p.flat().every(Number.isFinite)).toBe(true);
  });

  it('predicts the one-vs-rest class of the highest score where the probabilities round to a tie, as the pipeline does', () => {
    const artifact = mlLogisticRegressionFamily
      .fit(iris.X, iris.y, { ...spec, params: DEFAULT_ML_LOGISTIC_REGRESSION_PARAMS })
      .toJSON() as MlLogisticRegressionArtifact;
    const far: number[][] = [];
    for (let a = -40; a <= 40; a += 8) for (let b = -40; b <= 40; b += 8) far.push([a, b, -a, b]);
    const oracle = oneVsRest(artifact, far);
    // Rows whose most probable class (the first of equal probabilities) is not the best score.
    const tied = far.filter((_, i) => argmax(oracle.proba[i] ?? []) !== oracle.index[i]);
    expect(tied.length).toBeGreaterThan(0);
    expectSame(artifact, oracle, far);
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
