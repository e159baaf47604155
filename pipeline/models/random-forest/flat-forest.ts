/**
 * A forest as flat arrays, for prediction. Pure and self-contained: the training threads load
 * it to predict batches too, and the server predicts with it, so every path gives the same bits.
 *
 * A row is first cut into the bins the forest was trained on (per feature, the number of
 * thresholds below the value), then each tree is walked on bins: node n is
 * `node[2n] = feature << 8 | bin` and goes to n + 1 (its left child, in preorder) when the row's
 * bin of that feature is at most `bin`, else to `node[2n + 1]`. A leaf has `node[2n] = -1` and
 * its class probabilities start at `proba[node[2n + 1]]`. Since every split threshold is a bin
 * threshold, `bin(x) <= b` exactly when `x <= threshold`: the bins change nothing, they make the
 * walk smaller (8 bytes per node, 1 byte per value).
 *
 * Batches from a few hundred rows are walked in WebAssembly (`wasm/forest-walk.wat`: four rows
 * down a tree at once, without branches), about twice as fast as the JavaScript walk on deep
 * trees; both add the same leaf probabilities in the same order, so they give the same bits.
 */

/** The arrays of a flat forest; each may live in shared memory, so threads read one copy. */
export interface FlatForestParts {
  features: number;
  classes: number;
  /** Every feature's thresholds, ascending, feature 0's first. */
  thresholds: Float64Array;
  /** Feature j's thresholds are `thresholds[thresholdStart[j] .. thresholdStart[j + 1])`. */
  thresholdStart: Int32Array;
  /** Two numbers per node, as described above. */
  node: Int32Array;
  /** The first node of each tree. */
  roots: Int32Array;
  /** Each leaf's class probabilities (`classes` numbers summing to 1). */
  proba: Float64Array;
}

import { ForestWalk } from './wasm/forest-walk.ts';

/** Rows binned and walked per tree at a time: a tree stays in cache while a block goes by. */
const BLOCK = 65_536;
/** Rows per block of the WebAssembly walk (its memory holds one block). */
const WASM_BLOCK = 16_384;
/** Batches from this many rows go to the WebAssembly walk; smaller ones are not worth a copy. */
const WASM_MIN_ROWS = 256;

/** Which walk `predictRange` uses: the WebAssembly one for large batches by default. */
export type ForestEngine = 'auto' | 'js' | 'wasm';

export class FlatForest {
  readonly trees: number;
  readonly features: number;
  readonly classes: number;
  readonly parts: Readonly<FlatForestParts>;
  readonly #binned: Uint8Array;
  /** The WebAssembly walk, made on the first large batch (null: not available here). */
  #walk: ForestWalk | null | undefined;

  constructor(parts: FlatForestParts) {
    this.parts = Object.freeze({ ...parts });
    this.trees = parts.roots.length;
    this.features = parts.features;
    this.classes = parts.classes;
    this.#binned = new Uint8Array(parts.features);
  }

  /** Number of nodes over all trees. */
  get nodes(): number {
    return this.parts.node.length / 2;
  }

  /**
   * Writes the class probabilities of one row (the mean over trees of the leaf's class
   * probabilities) into `out` and returns the most probable class (ties to the lower index).
   */
  predictRow(row: ArrayLike<number>, out: Float64Array): number {
    const d = this.features;
    const k = this.classes;
    const { node, roots, proba, thresholds, thresholdStart } = this.parts;
    const xb = this.#binned;
    for (let j = 0; j < d; j++) {
      xb[j] = binOf(
        row[j] as number,
        thresholds,
        thresholdStart[j] as number,
        thresholdStart[j + 1] as number,
      );
    }
    out.fill(0, 0, k);
    for (let t = 0; t < this.trees; t++) {
      let n = roots[t] as number;
      let split = node[2 * n] as number;
      while (split >= 0) {
        n = (xb[split >>> 8] as number) <= (split & 255) ? n + 1 : (node[2 * n + 1] as number);
        split = node[2 * n] as number;
      }
      const at = node[2 * n + 1] as number;
      for (let c = 0; c < k; c++) out[c] = (out[c] as number) + (proba[at + c] as number);
    }
    return finish(out, 0, k, this.trees);
  }

  /**
   * Predicts rows `from` to `to` (exclusive) of `x`, which holds rows row-major (`features`
   * numbers each). Writes each row's predicted class into `index[row]` and, when `proba` is
   * given, its probabilities into `proba[row * classes ...]`: the same numbers as `predictRow`,
   * whichever `engine` walks the trees.
   */
  predictRange(
    x: Float64Array,
    from: number,
    to: number,
    index: Uint32Array,
    proba?: Float64Array,
    engine: ForestEngine = 'auto',
  ): void {
    if (x.length < to * this.features) {
      throw new RangeError(`predictRange: x holds fewer than ${to} rows`);
    }
    const d = this.features;
    const k = this.classes;
    let walk: ForestWalk | null = null;
    if (engine === 'wasm' || (engine === 'auto' && to - from >= WASM_MIN_ROWS)) {
      walk = this.#walk ??= ForestWalk.create(this.parts, WASM_BLOCK);
    }
    const block = walk?.blockRows ?? Math.min(BLOCK, Math.max(0, to - from));
    const xb = walk?.xb ?? new Uint8Array(block * d);
    const sums = walk?.sums ?? new Float64Array(block * k);
    for (let start = from; start < to; start += block) {
      const end = Math.min(to, start + block);
      binRows(this.parts, x, start, end, xb);
      if (walk !== null) walk.walk(end - start);
      else walkTrees(this.parts, xb, end - start, sums);
      for (let r = start; r < end; r++) {
        const s = (r - start) * k;
        index[r] = finish(sums, s, k, this.trees);
        if (proba !== undefined) proba.set(sums.subarray(s, s + k), r * k);
      }
    }
  }
}

/**
 * The JavaScript walk: sets `sums` (`classes` numbers a row) to the sum over trees, in tree
 * order, of each row's leaf probabilities, for the first `rows` rows of the bins `xb`.
 */
function walkTrees(
  parts: Readonly<FlatForestParts>,
  xb: Uint8Array,
  rows: number,
  sums: Float64Array,
): void {
  const d = parts.features;
  const k = parts.classes;
  const { node, roots, proba } = parts;
  sums.fill(0, 0, rows * k);
  for (let t = 0; t < roots.length; t++) {
    const root = roots[t] as number;
    for (let r = 0; r < rows; r++) {
      const base = r * d;
      let n = root;
      let split = node[2 * n] as number;
      while (split >= 0) {
        n =
          (xb[base + (split >>> 8)] as number) <= (split & 255)
            ? n + 1
            : (node[2 * n + 1] as number);
        split = node[2 * n] as number;
      }
      const at = node[2 * n + 1] as number;
      const s = r * k;
      for (let c = 0; c < k; c++) sums[s + c] = (sums[s + c] as number) + (proba[at + c] as number);
    }
  }
}

/** Cuts rows `start` to `end` of `x` into the forest's bins: `features` bytes a row into `xb`. */
function binRows(
  parts: Readonly<FlatForestParts>,
  x: Float64Array,
  start: number,
  end: number,
  xb: Uint8Array,
): void {
  const d = parts.features;
  const { thresholds, thresholdStart } = parts;
  for (let j = 0; j < d; j++) {
    const lo = thresholdStart[j] as number;
    const hi = thresholdStart[j + 1] as number;
    for (let r = start; r < end; r++) {
      xb[(r - start) * d + j] = binOf(x[r * d + j] as number, thresholds, lo, hi);
    }
  }
}

/** How many of `thresholds[lo .. hi)` (ascending) lie below `x`. */
function binOf(x: number, thresholds: Float64Array, lo: number, hi: number): number {
  const first = lo;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((thresholds[mid] as number) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo - first;
}

/** Divides the k sums at `at` by the number of trees and returns the index of the largest. */
function finish(values: Float64Array, at: number, k: number, trees: number): number {
  let best = 0;
  for (let c = 0; c < k; c++) {
    const p = (values[at + c] as number) / trees;
    values[at + c] = p;
    if (p > (values[at + best] as number)) best = c;
  }
  return best;
}
