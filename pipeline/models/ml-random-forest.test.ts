import { describe, expect, it } from 'vitest';

import { ModelFormatError, PinmlError } from '../errors.ts';
import { canonicalJson } from '../json.ts';
import type { Label } from '../label.ts';
import {
  DEFAULT_ML_RANDOM_FOREST_PARAMS,
  type MlRandomForestParams,
  mlRandomForestFamily,
} from './ml-random-forest.ts';
import { accuracy, gaussianBlobs, splitBlobs } from './fixtures/gaussian-blobs.ts';
import type { FitSpec, ModelArtifact } from './types.ts';

const CENTRES = [
  [0, 0, 0, 0],
  [5, 5, 0, 0],
  [0, 5, 5, 5],
];
const blobs = gaussianBlobs(CENTRES, 40, 1, 7);
const [train, test] = splitBlobs(blobs, 25, 3);
const SMALL: MlRandomForestParams = { ...DEFAULT_ML_RANDOM_FOREST_PARAMS, trees: 15 };

function spec(
  overrides: Partial<FitSpec<MlRandomForestParams>> = {},
): FitSpec<MlRandomForestParams> {
  return {
    features: train.features,
    classes: ['setosa', 'versicolor', 'virginica'],
    params: SMALL,
    seed: 42,
    ...overrides,
  };
}

function artifactOf(params: MlRandomForestParams = SMALL, seed = 42): ModelArtifact {
  return mlRandomForestFamily.fit(train.rows, train.y, spec({ params, seed })).toJSON();
}

/** Finds the first tree node (depth first) for which `match` holds. */
function findNode(node: unknown, match: (n: Record<string, unknown>) => boolean): unknown {
  if (typeof node !== 'object' || node === null) return undefined;
  const n = node as Record<string, unknown>;
  if (match(n)) return n;
  return findNode(n.left, match) ?? findNode(n.right, match);
}

function forestJson(a: ModelArtifact): {
  baseModel: { indexes: number[][]; estimators: { root: unknown }[] };
} {
  return a.forest as never;
}

describe('mlRandomForestFamily', () => {
  it('predicts held-out rows of three separated blobs with accuracy >= 0.95', () => {
    const model = mlRandomForestFamily.fit(
      train.rows,
      train.y,
      spec({ params: DEFAULT_ML_RANDOM_FOREST_PARAMS }),
    );
    expect(accuracy(model.predictIndex(test.rows), test.y)).toBeGreaterThanOrEqual(0.95);
  });

  it('gives vote fractions as probabilities: multiples of 1/trees summing to 1 within 1e-12', () => {
    const model = mlRandomForestFamily.fit(train.rows, train.y, spec());
    const proba = model.predictProba(test.rows);
    expect(proba).toHaveLength(test.rows.length);
    for (const row of proba) {
      expect(row).toHaveLength(3);
      expect(Math.abs(row.reduce((a, b) => a + b, 0) - 1)).toBeLessThanOrEqual(1e-12);
      for (const p of row) {
        const votes = p * SMALL.trees;
        expect(Math.abs(votes - Math.round(votes))).toBeLessThanOrEqual(1e-9);
      }
    }
    // The blobs overlap little, yet a 15-tree forest should not be unanimous everywhere.
    expect(proba.some((row) => row.every((p) => p < 1))).toBe(true);
  });

  it('predicts the class with the most votes, a tie going to the lower index', () => {
    const a = artifactOf({ ...SMALL, trees: 2 });
    const trees = forestJson(a).baseModel.estimators;
    // Leaves that always vote 2 and 1: a 1–1 tie between classes 1 and 2.
    (trees[0] as { root: unknown }).root = { distribution: [[0, 0, 1]] };
    (trees[1] as { root: unknown }).root = { distribution: [[0, 1]] };
    const model = mlRandomForestFamily.load(a);
    expect(model.predictProba([[9, 9, 9, 9]])).toEqual([[0, 0.5, 0.5]]);
    expect(model.predictIndex([[9, 9, 9, 9]])).toEqual([1]);
    expect(model.predict([[9, 9, 9, 9]])).toEqual(['versicolor']);
  });

  it('maps class indices back to string labels and to numeric labels', () => {
    const named = mlRandomForestFamily.fit(train.rows, train.y, spec());
    const numbered = mlRandomForestFamily.fit(train.rows, train.y, spec({ classes: [10, 20, 30] }));
    const index = named.predictIndex(test.rows);
    const names: Label[] = ['setosa', 'versicolor', 'virginica'];
    expect(named.predict(test.rows)).toEqual(index.map((k) => names[k]));
    expect(numbered.predict(test.rows)).toEqual(index.map((k) => [10, 20, 30][k]));
  });

  it('loads its canonical JSON into a model that predicts identical labels and probabilities', () => {
    const model = mlRandomForestFamily.fit(train.rows, train.y, spec());
    const text = canonicalJson(model.toJSON());
    const loaded = mlRandomForestFamily.load(JSON.parse(text));
    expect(loaded.predict(blobs.rows)).toEqual(model.predict(blobs.rows));
    expect(loaded.predictProba(blobs.rows)).toEqual(model.predictProba(blobs.rows));
    expect(canonicalJson(loaded.toJSON())).toBe(text);
  });

  it('keeps the library JSON verbatim, with the fields its own load() drops', () => {
    const a = artifactOf();
    const root = forestJson(a).baseModel.estimators[0]?.root;
    expect(findNode(root, (n) => typeof n.numberSamples === 'number')).toBeDefined();
    const again = mlRandomForestFamily.load(JSON.parse(canonicalJson(a))).toJSON();
    const rootAgain = forestJson(again).baseModel.estimators[0]?.root;
    expect(findNode(rootAgain, (n) => typeof n.numberSamples === 'number')).toBeDefined();
  });

  it('writes byte-identical artifacts for the same rows, labels and spec, and others for another seed', () => {
    const first = canonicalJson(artifactOf());
    const second = canonicalJson(artifactOf());
    expect(second).toBe(first);
    expect(canonicalJson(artifactOf(SMALL, 43))).not.toBe(first);
  });

  it('trains a two-class problem', () => {
    // Far enough apart on each axis that a single axis-aligned split separates them.
    const two = gaussianBlobs(
      [
        [0, 0],
        [6, 6],
      ],
      30,
      1,
      3,
    );
    const [tr, te] = splitBlobs(two, 20, 2);
    const model = mlRandomForestFamily.fit(tr.rows, tr.y, {
      features: tr.features,
      classes: ['no', 'yes'],
      params: SMALL,
      seed: 1,
    });
    expect(accuracy(model.predictIndex(te.rows), te.y)).toBeGreaterThanOrEqual(0.95);
    expect(new Set(model.predict(te.rows))).toEqual(new Set(['no', 'yes']));
    expect(model.predictProba(te.rows).every((row) => row.length === 2)).toBe(true);
  });

  it('gives each tree the share of features that maxFeatures asks for, at least one', () => {
    const quarter = forestJson(artifactOf({ ...SMALL, maxFeatures: 0.25 })).baseModel.indexes;
    expect(quarter.map((used) => used.length)).toEqual(new Array(SMALL.trees).fill(1));
    const half = forestJson(artifactOf({ ...SMALL, maxFeatures: 0.5 })).baseModel.indexes;
    expect(half.map((used) => new Set(used).size)).toEqual(new Array(SMALL.trees).fill(2));
    const tiny = forestJson(artifactOf({ ...SMALL, maxFeatures: 0.01 })).baseModel.indexes;
    expect(tiny.every((used) => used.length === 1)).toBe(true);
  });

  it('refuses params out of range and labels that are not class indices', () => {
    const fit = (params: MlRandomForestParams, y: number[] = train.y): unknown =>
      mlRandomForestFamily.fit(train.rows, y, spec({ params }));
    expect(() => fit({ ...SMALL, trees: 0 })).toThrow(
      /params\.trees must be an integer from 1 to 2000, got 0/,
    );
    expect(() => fit({ ...SMALL, maxFeatures: 1.5 })).toThrow(/params\.maxFeatures/);
    expect(() =>
      fit(
        SMALL,
        train.y.map((k) => (k === 2 ? 3 : k)),
      ),
    ).toThrow(/not a class index below 3/);
    expect(() => fit({ ...SMALL, trees: 0 })).toThrow(PinmlError);
  });

  it('refuses a row with the wrong number of values or a value that is not finite', () => {
    const model = mlRandomForestFamily.fit(train.rows, train.y, spec());
    expect(() => model.predict([[1, 2, 3]])).toThrow(/row 0 has 3 values; the model expects 4/);
    expect(() => model.predictProba([[1, 2, Number.NaN, 4]])).toThrow(/feature x2/);
    expect(model.predict([])).toEqual([]);
  });

  it('does not let a caller change the model through the object toJSON() returns', () => {
    const model = mlRandomForestFamily.fit(train.rows, train.y, spec());
    const before = model.predictProba(test.rows);
    const a = model.toJSON();
    forestJson(a).baseModel.estimators.forEach((t) => (t.root = { distribution: [[1]] }));
    a.classes[0] = 'changed';
    expect(model.predictProba(test.rows)).toEqual(before);
    expect(model.classes[0]).toBe('setosa');
  });
});

describe('mlRandomForestFamily.load', () => {
  const good = artifactOf();
  const refused = (change: (a: Record<string, unknown>) => void): unknown => {
    const a = JSON.parse(canonicalJson(good)) as Record<string, unknown>;
    change(a);
    return () => mlRandomForestFamily.load(a);
  };

  it('refuses another kind', () => {
    expect(refused((a) => (a.kind = 'logistic-regression'))).toThrow(ModelFormatError);
    expect(refused((a) => (a.kind = 'logistic-regression'))).toThrow(
      /kind must be "ml-random-forest"/,
    );
  });

  it('refuses a missing format version, and a newer one with advice to upgrade', () => {
    expect(refused((a) => delete a.formatVersion)).toThrow(/formatVersion is missing/);
    expect(refused((a) => (a.formatVersion = 2))).toThrow(/written by a newer pinml; upgrade/);
    expect(refused((a) => (a.formatVersion = '1'))).toThrow(ModelFormatError);
  });

  it('refuses malformed shapes and names the field', () => {
    expect(refused((a) => (a.features = ['x0', 'x1']))).toThrow(
      /forest\.baseModel\.indexes\[\d+\] must be a non-empty list of feature indices below 2/,
    );
    expect(refused((a) => (a.classes = ['only']))).toThrow(/classes must list at least 2/);
    expect(refused((a) => ((a.params as MlRandomForestParams).trees = 3))).toThrow(
      /forest\.baseModel\.nEstimators must equal params\.trees/,
    );
    expect(
      refused((a) => {
        const root = forestJson(a as ModelArtifact).baseModel.estimators[4]?.root;
        const split = findNode(root, (n) => n.splitColumn !== undefined) as { splitColumn: number };
        split.splitColumn = 99;
      }),
    ).toThrow(/forest\.baseModel\.estimators\[4\]\.root.*splitColumn must be an integer below/);
    expect(
      refused((a) => {
        const root = forestJson(a as ModelArtifact).baseModel.estimators[0]?.root;
        const leaf = findNode(root, (n) => n.distribution !== undefined) as {
          distribution: unknown;
        };
        leaf.distribution = [[0, 0, 0, 1]];
      }),
    ).toThrow(/distribution must be \[\[w0, \.\.\.\]\] with 1 to 3 class weights/);
    expect(refused((a) => delete a.forest)).toThrow(/forest must be an object/);
    expect(() => mlRandomForestFamily.load('{}')).toThrow(/must be a JSON object/);
  });

  it('names the refused field in the error data', () => {
    try {
      mlRandomForestFamily.load({ ...good, seed: 1.5 });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ModelFormatError);
      expect((error as ModelFormatError).data).toEqual({ kind: 'ml-random-forest', field: 'seed' });
    }
  });
});
