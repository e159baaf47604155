import { afterAll, describe, expect, it } from 'vitest';

import { FlatForest, type ForestEngine } from './flat-forest.ts';
import { stopForestThreads } from './threads.ts';
import { gaussianBlobs } from '../fixtures/gaussian-blobs.ts';
import { DEFAULT_RANDOM_FOREST_PARAMS, fitRandomForest } from './index.ts';

// Five classes in six dimensions: deep trees, and k > 4 so the class loop of the
// WebAssembly walk runs past a group of four rows' worth of sums.
const CENTRES = [
  [0, 0, 0, 0, 0, 0],
  [3, 3, 0, 0, 1, 0],
  [0, 3, 3, 3, 0, 1],
  [3, 0, 3, 0, 3, 0],
  [1, 1, 1, 1, 1, 1],
];
const blobs = gaussianBlobs(CENTRES, 80, 1.4, 11);
const params = { ...DEFAULT_RANDOM_FOREST_PARAMS, trees: 16 };
const forest = fitRandomForest(blobs.rows, blobs.y, {
  features: blobs.features,
  classes: ['a', 'b', 'c', 'd', 'e'],
  params,
  seed: 5,
}).forest;

afterAll(async () => {
  await stopForestThreads();
});

/** Rows that reach every kind of place: the training rows, thresholds, extremes. */
function probeRows(f: FlatForest): Float64Array {
  const d = f.features;
  const { thresholds, thresholdStart } = f.parts;
  const rows: number[][] = blobs.rows.map((r) => [...r]);
  // A row whose every value is exactly a threshold (x <= threshold goes left), and just above.
  for (let i = 0; i < 40; i++) {
    const at = rows.length;
    rows.push([]);
    rows.push([]);
    for (let j = 0; j < d; j++) {
      const lo = thresholdStart[j] as number;
      const hi = thresholdStart[j + 1] as number;
      const t = hi > lo ? (thresholds[lo + ((i * 7 + j) % (hi - lo))] as number) : 0;
      rows[at]?.push(t);
      rows[at + 1]?.push(t + Math.abs(t) * 1e-15 + 1e-300);
    }
  }
  rows.push(new Array<number>(d).fill(-1e300), new Array<number>(d).fill(1e300));
  rows.push(new Array<number>(d).fill(-0), new Array<number>(d).fill(Number.MIN_VALUE));
  return Float64Array.from(rows.flat());
}

function predict(
  f: FlatForest,
  x: Float64Array,
  from: number,
  to: number,
  engine: ForestEngine,
): { index: number[]; proba: number[] } {
  const index = new Uint32Array(to);
  const proba = new Float64Array(to * f.classes);
  f.predictRange(x, from, to, index, proba, engine);
  return {
    index: Array.from(index.subarray(from)),
    proba: Array.from(proba.subarray(from * f.classes)),
  };
}

describe('FlatForest.predictRange', () => {
  it('gives the same bits with the WebAssembly walk, the JavaScript walk and predictRow', () => {
    const x = probeRows(forest);
    const rows = x.length / forest.features;
    const wasm = predict(forest, x, 0, rows, 'wasm');
    const js = predict(forest, x, 0, rows, 'js');
    // toEqual compares numbers with Object.is: no tolerance.
    expect(wasm).toEqual(js);
    const out = new Float64Array(forest.classes);
    for (let r = 0; r < rows; r++) {
      const row = x.subarray(r * forest.features, (r + 1) * forest.features);
      expect(forest.predictRow(row, out)).toBe(js.index[r]);
      expect(Array.from(out)).toEqual(js.proba.slice(r * 5, r * 5 + 5));
    }
    // The probe rows land in more than one class, so equal answers are not all the same answer.
    expect(new Set(js.index).size).toBe(5);
  });

  it('handles every tail of a group of four and a start inside the batch', () => {
    const x = probeRows(forest);
    for (const [from, to] of [
      [0, 1],
      [0, 2],
      [0, 3],
      [3, 10],
      [5, 262],
      [17, 300],
    ] as const) {
      expect(predict(forest, x, from, to, 'wasm')).toEqual(predict(forest, x, from, to, 'js'));
    }
  });

  it('crosses the WebAssembly block boundary (16,384 rows) with the same answers', () => {
    const probe = probeRows(forest);
    const probeRowsCount = probe.length / forest.features;
    const rows = 16_384 * 2 + 7;
    const x = new Float64Array(rows * forest.features);
    for (let r = 0; r < rows; r++) {
      const from = (r % probeRowsCount) * forest.features;
      x.set(probe.subarray(from, from + forest.features), r * forest.features);
    }
    const auto = predict(forest, x, 0, rows, 'auto');
    expect(auto).toEqual(predict(forest, x, 0, rows, 'js'));
    expect(auto.index.slice(16_384, 16_384 + 50)).toEqual(
      auto.index.slice(16_384 % probeRowsCount).slice(0, 50),
    );
  });

  it('walks single-leaf trees (one class in the data) and a forest of one class (k = 1)', () => {
    const rows = blobs.rows.slice(0, 60);
    const leaves = fitRandomForest(rows, new Array<number>(rows.length).fill(1), {
      features: blobs.features,
      classes: ['a', 'b'],
      params,
      seed: 1,
    }).forest;
    expect(leaves.nodes).toBe(params.trees);
    const x = Float64Array.from(rows.flat());
    const wasm = predict(leaves, x, 0, rows.length, 'wasm');
    expect(wasm).toEqual(predict(leaves, x, 0, rows.length, 'js'));
    expect(wasm.index).toEqual(new Array<number>(rows.length).fill(1));

    // Built by hand: one feature, one split at 0.5 (bin 0 left, bin 1 right), two trees.
    const k1 = new FlatForest({
      features: 1,
      classes: 1,
      thresholds: Float64Array.of(0.5),
      thresholdStart: Int32Array.of(0, 1),
      node: Int32Array.of(0, 2, -1, 0, -1, 1, -1, 0),
      roots: Int32Array.of(0, 3),
      proba: Float64Array.of(1, 1),
    });
    const xs = Float64Array.from([0, 0.5, 0.75, -3, 9, 1e300, 0.25]);
    const one = predict(k1, xs, 0, xs.length, 'wasm');
    expect(one).toEqual(predict(k1, xs, 0, xs.length, 'js'));
    expect(one.proba).toEqual(new Array<number>(xs.length).fill(1));
  });

  it('refuses a range past the end of x', () => {
    const x = new Float64Array(forest.features * 3);
    expect(() => {
      forest.predictRange(x, 0, 4, new Uint32Array(4), undefined, 'wasm');
    }).toThrow(/fewer than 4 rows/);
  });
});
