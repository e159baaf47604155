import { afterAll, describe, expect, it } from 'vitest';

import { ModelFormatError, PinmlError } from '../../errors.ts';
import { canonicalJson } from '../../json.ts';
import { decodeArray, encodeArray } from './encoded-array.ts';
import { quantileThresholds } from './bins.ts';
import {
  predictForest,
  predictForestAsync,
  runningForestThreads,
  stopForestThreads,
} from './threads.ts';
import { accuracy, gaussianBlobs, splitBlobs } from '../fixtures/gaussian-blobs.ts';
import {
  DEFAULT_RANDOM_FOREST_PARAMS,
  type RandomForestArtifact,
  type RandomForestParams,
  fitRandomForest,
  randomForestFamily,
} from './index.ts';
import type { FitSpec } from '../types.ts';

const CENTRES = [
  [0, 0, 0, 0],
  [4, 4, 0, 0],
  [0, 4, 4, 4],
];
const blobs = gaussianBlobs(CENTRES, 60, 1.3, 7);
const [train, test] = splitBlobs(blobs, 40, 3);
const SMALL: RandomForestParams = { ...DEFAULT_RANDOM_FOREST_PARAMS, trees: 24 };

function spec(overrides: Partial<FitSpec<RandomForestParams>> = {}): FitSpec<RandomForestParams> {
  return {
    features: train.features,
    classes: ['a', 'b', 'c'],
    params: SMALL,
    seed: 42,
    ...overrides,
  };
}

/** Decoded node codes and leaf counts of an artifact, tree by tree. */
function treesOf(a: RandomForestArtifact): { nodes: number[]; leaves: number[][] }[] {
  const sizes = decodeArray(a.treeSizes) as Uint32Array;
  const nodes = decodeArray(a.nodes) as Uint32Array;
  const counts = decodeArray(a.leafCounts) as Uint32Array;
  const k = a.classes.length;
  const out: { nodes: number[]; leaves: number[][] }[] = [];
  let at = 0;
  let leaf = 0;
  for (const size of sizes) {
    const tree = { nodes: Array.from(nodes.subarray(at, at + size)), leaves: [] as number[][] };
    for (const code of tree.nodes) {
      if (code !== 0) continue;
      tree.leaves.push(Array.from(counts.subarray(leaf * k, (leaf + 1) * k)));
      leaf++;
    }
    out.push(tree);
    at += size;
  }
  return out;
}

/** Depth of the deepest leaf of a preorder tree (0 for a single leaf). */
function depthOf(nodes: readonly number[]): number {
  let deepest = 0;
  const open: number[] = [0];
  for (const code of nodes) {
    const depth = open.pop() as number;
    deepest = Math.max(deepest, depth);
    if (code !== 0) open.push(depth + 1, depth + 1);
  }
  return deepest;
}

afterAll(async () => {
  await stopForestThreads();
});

describe('randomForestFamily', () => {
  it('predicts held-out rows of three overlapping blobs with accuracy >= 0.9', () => {
    const model = randomForestFamily.fit(train.rows, train.y, spec());
    expect(accuracy(model.predictIndex(test.rows), test.y)).toBeGreaterThanOrEqual(0.9);
  });

  it('grows the same forest, byte for byte, on 1, 2 and 3 threads', () => {
    const one = canonicalJson(
      fitRandomForest(train.rows, train.y, spec(), { threads: 1 }).toJSON(),
    );
    const two = canonicalJson(
      fitRandomForest(train.rows, train.y, spec(), { threads: 2 }).toJSON(),
    );
    // Threads really took part: the pool holds helpers now.
    expect(runningForestThreads()).toBeGreaterThanOrEqual(1);
    const three = canonicalJson(
      fitRandomForest(train.rows, train.y, spec(), { threads: 3 }).toJSON(),
    );
    expect(two).toBe(one);
    expect(three).toBe(one);
    const other = fitRandomForest(train.rows, train.y, spec({ seed: 43 }), { threads: 2 });
    expect(canonicalJson(other.toJSON())).not.toBe(one);
  });

  it('loads its canonical JSON into a model giving identical labels and probabilities', () => {
    const model = randomForestFamily.fit(train.rows, train.y, spec());
    const text = canonicalJson(model.toJSON());
    const loaded = randomForestFamily.load(JSON.parse(text));
    expect(loaded.predict(blobs.rows)).toEqual(model.predict(blobs.rows));
    // toEqual on numbers uses Object.is: bit-identical, no tolerance.
    expect(loaded.predictProba(blobs.rows)).toEqual(model.predictProba(blobs.rows));
    expect(canonicalJson(loaded.toJSON())).toBe(text);
  });

  it('gives class probabilities summing to 1 within 1e-12, with the predicted class the most probable', () => {
    const model = randomForestFamily.fit(train.rows, train.y, spec());
    const proba = model.predictProba(test.rows);
    const index = model.predictIndex(test.rows);
    proba.forEach((row, i) => {
      expect(row).toHaveLength(3);
      expect(Math.abs(row.reduce((a, b) => a + b, 0) - 1)).toBeLessThanOrEqual(1e-12);
      expect(row[index[i] as number]).toBe(Math.max(...row));
    });
    expect(proba.some((row) => row.every((p) => p < 1))).toBe(true);
  });

  it('predicts a row alone exactly as in a batch, on one thread or two', () => {
    const model = fitRandomForest(train.rows, train.y, spec());
    const d = train.features.length;
    const x = Float64Array.from(blobs.rows.flat());
    const single = predictForest(model.forest, x, blobs.rows.length, { proba: true, threads: 1 });
    const split = predictForest(model.forest, x, blobs.rows.length, { proba: true, threads: 2 });
    expect(Array.from(split.proba)).toEqual(Array.from(single.proba));
    const out = new Float64Array(3);
    blobs.rows.forEach((row, i) => {
      expect(model.forest.predictRow(row, out)).toBe(single.index[i]);
      expect(Array.from(out)).toEqual(Array.from(single.proba.subarray(i * 3, i * 3 + 3)));
    });
    expect(x.length).toBe(blobs.rows.length * d);
  });

  it('predicts a batch on helper threads while this one goes on, with the same numbers', async () => {
    const model = fitRandomForest(train.rows, train.y, spec());
    // Enough rows for several blocks, so every helper takes some.
    const rows = 40_000;
    const x = new Float64Array(rows * train.features.length);
    for (let i = 0; i < rows; i++) x.set(blobs.rows[i % blobs.rows.length] as number[], i * 2);
    const single = predictForest(model.forest, x, rows, { proba: true, threads: 1 });
    const [one, two] = await Promise.all([
      predictForestAsync(model.forest, x, rows, { proba: true, threads: 1 }),
      predictForestAsync(model.forest, x, rows, { proba: true, threads: 2 }),
    ]);
    for (const async of [one, two]) {
      expect(Array.from(async.index)).toEqual(Array.from(single.index));
      expect(Array.from(async.proba)).toEqual(Array.from(single.proba));
    }
    expect(runningForestThreads()).toBeGreaterThanOrEqual(1);
  });

  it('reports feature importances summing to 1 that rank informative features above noise', () => {
    // A fifth column of pure noise, and a constant sixth.
    const noise = gaussianBlobs([[0], [0], [0]], 40, 1, 99);
    const rows = train.rows.map((row, i) => [...row, noise.rows[i]?.[0] ?? 0, 5]);
    const features = [...train.features, 'noise', 'constant'];
    const model = fitRandomForest(
      rows,
      train.y,
      spec({ features, params: { ...SMALL, trees: 60 } }),
    );
    const importances = model.report().featureImportances ?? [];
    expect(importances).toHaveLength(6);
    expect(Math.abs(importances.reduce((a, b) => a + b, 0) - 1)).toBeLessThanOrEqual(1e-12);
    expect(importances.every((v) => v >= 0)).toBe(true);
    expect(importances[5]).toBe(0);
    const informative = Math.min(...importances.slice(0, 4));
    expect(informative).toBeGreaterThan(importances[4] as number);
  });

  it('reports an out-of-bag accuracy near the held-out accuracy, over nearly every row', () => {
    const model = fitRandomForest(train.rows, train.y, spec({ params: { ...SMALL, trees: 60 } }));
    const oob = model.report().outOfBag;
    const held = accuracy(model.predictIndex(test.rows), test.y);
    expect(oob?.rows).toBe(train.rows.length); // (1 - 1/e)^60: every row is out of bag somewhere
    expect(oob?.accuracy).toBeGreaterThanOrEqual(0.85);
    expect(Math.abs((oob?.accuracy ?? 0) - held)).toBeLessThanOrEqual(0.1);
    const all = fitRandomForest(
      train.rows,
      train.y,
      spec({ params: { ...SMALL, bootstrap: false } }),
    );
    expect(all.report().outOfBag).toBeNull();
  });

  it('respects maxDepth and minSamplesLeaf in every tree', () => {
    const params = { ...SMALL, maxDepth: 3, minSamplesLeaf: 4 };
    const a = fitRandomForest(train.rows, train.y, spec({ params })).toJSON();
    for (const tree of treesOf(a)) {
      expect(depthOf(tree.nodes)).toBeLessThanOrEqual(3);
      for (const leaf of tree.leaves)
        expect(leaf.reduce((x, y) => x + y, 0)).toBeGreaterThanOrEqual(4);
    }
    const deep = fitRandomForest(train.rows, train.y, spec()).toJSON();
    expect(Math.max(...treesOf(deep).map((t) => depthOf(t.nodes)))).toBeGreaterThan(3);
  });

  it('grows other trees with entropy than with Gini, both accurate', () => {
    const gini = fitRandomForest(train.rows, train.y, spec());
    const entropy = fitRandomForest(
      train.rows,
      train.y,
      spec({ params: { ...SMALL, criterion: 'entropy' } }),
    );
    expect(canonicalJson(entropy.toJSON())).not.toBe(canonicalJson(gini.toJSON()));
    expect(accuracy(entropy.predictIndex(test.rows), test.y)).toBeGreaterThanOrEqual(0.9);
  });

  it('draws features per node: with one feature per node, trees still split on several', () => {
    const a = fitRandomForest(
      train.rows,
      train.y,
      spec({ params: { ...SMALL, maxFeatures: 0.25 } }),
    ).toJSON();
    const owner = (code: number): number => {
      let at = code - 1;
      for (let j = 0; j < a.thresholdCounts.length; j++) {
        if (at < (a.thresholdCounts[j] as number)) return j;
        at -= a.thresholdCounts[j] as number;
      }
      return -1;
    };
    const perTree = treesOf(a).map((t) => new Set(t.nodes.filter((c) => c > 0).map(owner)).size);
    expect(Math.max(...perTree)).toBeGreaterThan(1);
  });

  it('trains on constant features: a leaf per tree, predicting the class shares', () => {
    const rows = train.rows.map(() => [1, 2, 3, 4]);
    const model = fitRandomForest(rows, train.y, spec());
    for (const tree of treesOf(model.toJSON())) expect(tree.nodes).toEqual([0]);
    expect(model.report().featureImportances).toEqual([0, 0, 0, 0]);
    const [p] = model.predictProba([[9, 9, 9, 9]]);
    expect(p?.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(p?.every((v) => v > 0.2 && v < 0.5)).toBe(true);
  });

  it('trains on rows of a single class and predicts that class with probability 1', () => {
    const rows = train.rows.filter((_, i) => train.y[i] === 1);
    const model = fitRandomForest(rows, new Array<number>(rows.length).fill(1), spec());
    expect(model.predict(test.rows)).toEqual(new Array(test.rows.length).fill('b'));
    expect(model.predictProba([[0, 0, 0, 0]])).toEqual([[0, 1, 0]]);
  });

  it('trains on duplicated rows, and splits a tie of identical rows with different labels evenly', () => {
    const twice = [...train.rows, ...train.rows];
    const model = fitRandomForest(twice, [...train.y, ...train.y], spec());
    expect(accuracy(model.predictIndex(test.rows), test.y)).toBeGreaterThanOrEqual(0.9);
    const same = [
      [1, 1, 1, 1],
      [1, 1, 1, 1],
    ];
    const tie = fitRandomForest(same, [0, 2], spec({ params: { ...SMALL, bootstrap: false } }));
    expect(tie.predictProba([[1, 1, 1, 1]])).toEqual([[0.5, 0, 0.5]]);
    expect(tie.predictIndex([[1, 1, 1, 1]])).toEqual([0]);
  });

  it('refuses NaN in training and in prediction rows, naming the row and the feature', () => {
    const rows = train.rows.map((r) => [...r]);
    (rows[3] as number[])[2] = NaN;
    const error = (() => {
      try {
        randomForestFamily.fit(rows, train.y, spec());
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(PinmlError);
    expect((error as PinmlError).code).toBe('E_DATA');
    expect((error as PinmlError).message).toMatch(/row 3, feature x2: NaN is not a finite number/);
    const model = randomForestFamily.fit(train.rows, train.y, spec());
    expect(() => model.predict([[0, Infinity, 0, 0]])).toThrow(/row 0, feature x1/);
  });

  it('refuses params out of range', () => {
    const fit = (params: Partial<RandomForestParams>): unknown =>
      randomForestFamily.fit(train.rows, train.y, spec({ params: { ...SMALL, ...params } }));
    expect(() => fit({ trees: 0 })).toThrow(
      /params\.trees must be an integer from 1 to 2000, got 0/,
    );
    expect(() => fit({ maxFeatures: 1.5 })).toThrow(/params\.maxFeatures must be "sqrt", "log2"/);
    expect(() => fit({ maxFeatures: 'all' as never })).toThrow(/params\.maxFeatures/);
    expect(() => fit({ bins: 300 })).toThrow(/params\.bins must be an integer from 2 to 256/);
    expect(() => fit({ criterion: 'mse' as never })).toThrow(/params\.criterion/);
    expect(() => fit({ minSamplesLeaf: 0 })).toThrow(PinmlError);
  });

  it('refuses another kind, a newer format and damaged trees, naming the field', () => {
    const a = randomForestFamily
      .fit(train.rows, train.y, spec({ params: { ...SMALL, trees: 3 } }))
      .toJSON();
    const refuse = (artifact: unknown, message: RegExp): void => {
      expect(() => randomForestFamily.load(artifact)).toThrow(ModelFormatError);
      expect(() => randomForestFamily.load(artifact)).toThrow(message);
    };
    refuse({ ...a, kind: 'ml-random-forest' }, /kind must be "random-forest"/);
    refuse({ ...a, formatVersion: 2 }, /reads up to 1: this artifact was written by a newer pinml/);
    refuse({ ...a, nodes: { ...(a.nodes as object), base64: 'not base64!' } }, /nodes base64/);
    refuse({ ...a, nodes: encodeArray('uint16', [0]) }, /treeSizes/);
    const sizes = Array.from(decodeArray(a.treeSizes) as Uint32Array);
    refuse({ ...a, treeSizes: encodeArray('uint32', [sizes[0] as number, 0, 1]) }, /treeSizes/);
    refuse({ ...a, thresholdCounts: [1, 2] }, /thresholdCounts must list 4 integers/);
    refuse({ ...a, featureImportances: [1, 0, 0] }, /featureImportances/);
    refuse({ ...a, outOfBag: { accuracy: 2, rows: 1 } }, /outOfBag/);
    const nodes = Array.from(decodeArray(a.nodes) as Uint32Array);
    nodes[0] = 60_000;
    refuse({ ...a, nodes: encodeArray('uint16', nodes) }, /nodes\[0\] is 60000/);
  });

  it('stores a node in a few characters: its code and, for a leaf, its class counts', () => {
    const model = fitRandomForest(train.rows, train.y, spec({ params: { ...SMALL, trees: 100 } }));
    const a = model.toJSON();
    const characters = a.nodes.base64.length + a.leafCounts.base64.length;
    // ml-random-forest's nested objects take over 100 characters per node.
    expect(characters / model.forest.nodes).toBeLessThan(6);
  });
});

describe('quantileThresholds', () => {
  it('puts a threshold between every pair of neighbouring values when they fit the bins', () => {
    expect(Array.from(quantileThresholds(Float64Array.from([3, 1, 2, 2, 1]), 256))).toEqual([
      1.5, 2.5,
    ]);
    expect(quantileThresholds(Float64Array.from([7, 7, 7]), 256)).toHaveLength(0);
  });

  it('cuts many values into at most maxBins bins of about equal counts', () => {
    const values = Float64Array.from({ length: 1000 }, (_, i) => i);
    const t = quantileThresholds(values, 4);
    expect(Array.from(t)).toEqual([249.5, 499.5, 749.5]);
    const heavy = Float64Array.from({ length: 1000 }, (_, i) => (i < 900 ? 0 : i));
    expect(quantileThresholds(heavy, 4)[0]).toBe(450);
    expect(quantileThresholds(heavy, 4).length).toBeLessThanOrEqual(3);
  });

  it('keeps neighbouring doubles apart: the threshold is never the upper value', () => {
    const a = 1;
    const b = 1 + Number.EPSILON;
    const [t] = quantileThresholds(Float64Array.from([a, b]), 256);
    expect(a <= (t as number)).toBe(true);
    expect(b <= (t as number)).toBe(false);
  });
});
