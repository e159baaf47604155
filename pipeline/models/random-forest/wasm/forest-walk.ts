/**
 * The batch walk of a flat forest in WebAssembly (`forest-walk.wat` says how and why). A
 * `ForestWalk` holds a copy of one forest laid out for the walk, and room for a block of rows;
 * `FlatForest.predictRange` uses it for batches and gets the same bits as its JavaScript walk.
 */
import type { FlatForestParts } from '../flat-forest.ts';
import { FOREST_WALK_WASM } from './forest-walk.wasm.ts';

interface WalkExports {
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
  walk: (root: number, xb: number, d: number, rows: number, sums: number, k: number) => void;
}

// The little of the WebAssembly JS API used here: the project's TypeScript libraries (ES2023 and
// Node's types, no DOM) do not declare it, though Node 20 and 24 have it.
interface CompiledModule {
  readonly kind: 'forest-walk';
}
interface WebAssemblyApi {
  Module: new (bytes: Uint8Array) => CompiledModule;
  Instance: new (module: CompiledModule, imports: object) => { exports: unknown };
}
const wasmApi = (globalThis as { WebAssembly?: WebAssemblyApi }).WebAssembly;

const PAGE = 65_536;
/** The most a 32-bit WebAssembly memory can address. */
const MAX_BYTES = 4 * 1024 ** 3;

let compiled: CompiledModule | null | undefined;

/** The compiled module, once per thread; null where WebAssembly is missing or refused. */
function walkModule(): CompiledModule | null {
  if (compiled === undefined) {
    try {
      if (wasmApi === undefined) throw new Error('no WebAssembly');
      compiled = new wasmApi.Module(Buffer.from(FOREST_WALK_WASM, 'base64'));
    } catch {
      compiled = null;
    }
  }
  return compiled ?? null;
}

export class ForestWalk {
  /** Rows per block: `xb` and `sums` hold this many. */
  readonly blockRows: number;
  /** A block's bins, `features` bytes a row, to fill before `walk`. */
  readonly xb: Uint8Array;
  /** A block's probability sums, `classes` numbers a row, filled by `walk`. */
  readonly sums: Float64Array;
  readonly #walk: WalkExports['walk'];
  readonly #roots: Int32Array;
  readonly #features: number;
  readonly #classes: number;
  readonly #sumsAt: number;
  readonly #xbAt: number;

  /** Lays `parts` out in a new instance's memory; null when WebAssembly cannot be used. */
  static create(parts: Readonly<FlatForestParts>, blockRows: number): ForestWalk | null {
    const mod = walkModule();
    if (mod === null) return null;
    try {
      return new ForestWalk(mod, parts, blockRows);
    } catch {
      return null; // no memory for the copy: the JavaScript walk needs none
    }
  }

  private constructor(mod: CompiledModule, parts: Readonly<FlatForestParts>, blockRows: number) {
    const { node, roots, proba, features, classes } = parts;
    const nodes = node.length / 2;
    // proba (f64) | nodes (12 bytes each) | sums (f64) | xb (bytes)
    const nodesAt = proba.byteLength;
    const sumsAt = Math.ceil((nodesAt + nodes * 12) / 8) * 8;
    const xbAt = sumsAt + blockRows * classes * 8;
    const bytes = xbAt + blockRows * features;
    if (bytes > MAX_BYTES) throw new RangeError('forest too large for a 32-bit memory');
    const instance = new (wasmApi as WebAssemblyApi).Instance(mod, {});
    const exports = instance.exports as WalkExports;
    const pages = Math.ceil(bytes / PAGE);
    const have = exports.memory.buffer.byteLength / PAGE;
    if (pages > have) exports.memory.grow(pages - have);
    const buffer = exports.memory.buffer;

    new Float64Array(buffer, 0, proba.length).set(proba);
    const out = new Int32Array(buffer, nodesAt, nodes * 3);
    for (let n = 0; n < nodes; n++) {
      const split = node[2 * n] as number;
      const next = node[2 * n + 1] as number;
      if (split < 0) {
        out[3 * n] = 0;
        out[3 * n + 1] = nodesAt + 12 * n;
        out[3 * n + 2] = 8 * next;
      } else {
        out[3 * n] = ((split >>> 8) << 9) | ((split & 255) + 1);
        out[3 * n + 1] = nodesAt + 12 * next;
        out[3 * n + 2] = 0;
      }
    }
    this.#roots = Int32Array.from(roots, (root) => nodesAt + 12 * root);
    this.#walk = exports.walk;
    this.#features = features;
    this.#classes = classes;
    this.blockRows = blockRows;
    this.sums = new Float64Array(buffer, sumsAt, blockRows * classes);
    this.xb = new Uint8Array(buffer, xbAt, blockRows * features);
    this.#sumsAt = sumsAt;
    this.#xbAt = xbAt;
  }

  /**
   * Sets `sums` to the sum over trees, in tree order, of each row's leaf probabilities, for the
   * first `rows` rows of `xb`.
   */
  walk(rows: number): void {
    if (rows > this.blockRows) throw new RangeError(`ForestWalk: ${rows} rows > ${this.blockRows}`);
    this.sums.fill(0, 0, rows * this.#classes);
    const roots = this.#roots;
    for (let t = 0; t < roots.length; t++) {
      this.#walk(roots[t] as number, this.#xbAt, this.#features, rows, this.#sumsAt, this.#classes);
    }
  }
}
