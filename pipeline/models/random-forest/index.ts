/**
 * The `random-forest` family: pinml's own random forest for tabular data of any size.
 *
 * Features are cut once into quantile bins (`bins.ts`); trees grow on the binned
 * columns with a histogram split search, a bootstrap sample of the rows and a random subset of
 * the features at every node (`tree.ts`), on every core (`threads.ts`). Class
 * probabilities are the mean of the leaves' class fractions, as in scikit-learn. The artifact
 * holds the trees as flat arrays (`encoded-array.ts`) and loads straight into the flat-array
 * predictor (`flat-forest.ts`).
 */
import { z } from 'zod';

import { PinmlError } from '../../errors.ts';
import { artifactFailure, isFiniteNumber, isInt, isRecord } from '../checks.ts';
import { decodeArray, encodeArray, unsignedTypeFor, type EncodedArray } from './encoded-array.ts';
import { binOf, quantileThresholds } from './bins.ts';
import { defaultThreadCount, growTrees, predictForest } from './threads.ts';
import type { BinnedRows, GrownTree, TreeOptions } from './tree.ts';
import { BatchClassifier, checkFit, readFamilyArtifact, type FamilyChecks } from '../family.ts';
import { FlatForest } from './flat-forest.ts';
import type { FitReport, FitSpec, ModelArtifact, ModelFamily } from '../types.ts';

/**
 * Hyper-parameters of `random-forest`, with their defaults: scikit-learn's
 * `RandomForestClassifier`'s (100 trees grown until pure, √d features per node, Gini,
 * bootstrap), with depth capped at 64 and 256 bins per feature. Row counts include bootstrap
 * repeats.
 */
export const randomForestParamsSchema = z.strictObject({
  /** Number of trees. */
  trees: z.int().min(1).max(2000).default(100),
  /** Maximum depth of a tree (the root is depth 0). */
  maxDepth: z.int().min(1).max(1024).default(64),
  /** A node with fewer rows than this is not split. */
  minSamplesSplit: z.int().min(2).default(2),
  /** Each side of a split keeps at least this many rows. */
  minSamplesLeaf: z.int().min(1).default(1),
  /**
   * Features tried at each node: `sqrt` or `log2` of the feature count, or a fraction in (0, 1]
   * of it (at least one).
   */
  maxFeatures: z.union([z.enum(['sqrt', 'log2']), z.number().gt(0).max(1)]).default('sqrt'),
  /** Impurity a split decreases. */
  criterion: z.enum(['gini', 'entropy']).default('gini'),
  /** Quantile bins per feature. */
  bins: z.int().min(2).max(256).default(256),
  /** Train each tree on a bootstrap sample of the rows (otherwise on all of them). */
  bootstrap: z.boolean().default(true),
});

/** Hyper-parameters of `random-forest`. */
export type RandomForestParams = z.output<typeof randomForestParamsSchema>;

/** Every default of {@link randomForestParamsSchema}. */
export const DEFAULT_RANDOM_FOREST_PARAMS: Readonly<RandomForestParams> = Object.freeze(
  randomForestParamsSchema.parse({}),
);

const KIND = 'random-forest';
const FORMAT_VERSION = 1;

const CHECKS: FamilyChecks = {
  algorithm: 'random-forest',
  kind: KIND,
  formatVersion: FORMAT_VERSION,
  params: randomForestParamsSchema,
  seeded: true,
};

/**
 * The `random-forest` artifact (format version 1).
 *
 * `thresholds` holds every feature's bin thresholds, feature 0's first; `thresholdCounts[j]`
 * says how many belong to feature j. The trees follow one another in `nodes`, `treeSizes[t]`
 * nodes each, every tree in preorder (a split node, its left subtree, its right subtree). A node
 * is `0` for a leaf, or `i + 1` for a split sending a row left when its value of the feature
 * owning threshold i is `<= thresholds[i]`. Each leaf, in order, has one count per class in
 * `leafCounts` (training rows with their bootstrap repeats); its class probabilities are the
 * counts over their sum, and the forest's are the mean over trees.
 */
export interface RandomForestArtifact extends ModelArtifact {
  kind: typeof KIND;
  formatVersion: typeof FORMAT_VERSION;
  params: RandomForestParams;
  seed: number;
  thresholds: EncodedArray;
  thresholdCounts: number[];
  treeSizes: EncodedArray;
  nodes: EncodedArray;
  leafCounts: EncodedArray;
  /** Mean decrease in impurity per feature, summing to 1 (all 0 when no tree splits). */
  featureImportances: number[];
  /** Accuracy of each row's vote by the trees that did not train on it; null without bootstrap. */
  outOfBag: { accuracy: number; rows: number } | null;
}

/** How a fit runs (not what it produces: the artifact is the same for any value). */
export interface RandomForestRunOptions {
  /** Threads to grow trees on, the calling one included; defaults to the cores. */
  threads?: number;
}

/** Below this many row-trees, starting threads costs more than it saves. */
const THREADED_WORK = 200_000;

/** The number of features a node tries for `maxFeatures` over `d` features. */
export function featuresPerNode(maxFeatures: RandomForestParams['maxFeatures'], d: number): number {
  if (maxFeatures === 'sqrt') return Math.max(1, Math.floor(Math.sqrt(d)));
  if (maxFeatures === 'log2') return Math.max(1, Math.floor(Math.log2(d)));
  return Math.max(1, Math.floor(maxFeatures * d));
}

/**
 * Fits a `random-forest`; what the family's `fit` does, with control over threads. The result
 * does not depend on `run.threads`.
 */
export function fitRandomForest(
  rows: readonly (readonly number[])[],
  y: readonly number[],
  spec: FitSpec<RandomForestParams>,
  run: RandomForestRunOptions = {},
): RandomForestClassifier {
  checkFit(CHECKS, rows, y, spec);
  const params = spec.params;
  const n = rows.length;
  const d = spec.features.length;
  const k = spec.classes.length;
  if (k > 0xffff) {
    throw new PinmlError('E_TRAINING', `random-forest: at most 65535 classes, got ${k}`);
  }

  // Cut each feature into quantile bins, once for every tree.
  const thresholds: Float64Array[] = [];
  const bins = new Uint8Array(n * d);
  const binCounts = new Uint16Array(d);
  const column = new Float64Array(n);
  for (let j = 0; j < d; j++) {
    for (let i = 0; i < n; i++) column[i] = (rows[i] as readonly number[])[j] as number;
    const t = quantileThresholds(column, params.bins);
    thresholds.push(t);
    binCounts[j] = t.length + 1;
    const out = j * n;
    for (let i = 0; i < n; i++) bins[out + i] = binOf(column[i] as number, t);
  }
  const data: BinnedRows = {
    rows: n,
    features: d,
    classes: k,
    bins,
    binCounts,
    labels: Uint16Array.from(y),
  };
  const options: TreeOptions = {
    maxDepth: params.maxDepth,
    minSamplesSplit: params.minSamplesSplit,
    minSamplesLeaf: params.minSamplesLeaf,
    featuresPerNode: featuresPerNode(params.maxFeatures, d),
    criterion: params.criterion,
    bootstrap: params.bootstrap,
  };
  const threads = run.threads ?? (n * params.trees >= THREADED_WORK ? defaultThreadCount() : 1);
  const grown = growTrees(data, options, spec.seed, params.trees, threads);

  const artifact: RandomForestArtifact = {
    kind: KIND,
    formatVersion: FORMAT_VERSION,
    features: [...spec.features],
    classes: [...spec.classes],
    params: { ...params },
    seed: spec.seed,
    ...encodeTrees(grown, thresholds),
    featureImportances: importances(grown, d),
    outOfBag: params.bootstrap ? outOfBag(grown, data) : null,
  };
  return new RandomForestClassifier(artifact);
}

/** The `random-forest` family. Artifact kind `random-forest`. */
export const randomForestFamily: ModelFamily<typeof randomForestParamsSchema, 'random-forest'> = {
  algorithm: 'random-forest',
  kind: KIND,
  params: randomForestParamsSchema,
  fit(rows, y, spec) {
    return fitRandomForest(rows, y, spec);
  },
  load(artifact) {
    const checked = readArtifact(artifact);
    return new RandomForestClassifier(checked.artifact, checked.forest);
  },
};

/** A fitted or loaded `random-forest`: a flat-array predictor and its artifact. */
export class RandomForestClassifier extends BatchClassifier<RandomForestArtifact> {
  /** The predictor the classifier uses; the server uses it too. */
  readonly forest: FlatForest;

  /** `forest`: the artifact's predictor, when the caller compiled it already. */
  constructor(artifact: RandomForestArtifact, forest?: FlatForest) {
    super(artifact);
    this.forest = forest ?? compileForest(this.artifact);
  }

  /** On as many threads as the batch is worth (see `predictForest`). */
  predictBatch(x: Float64Array, rows: number, proba?: Float64Array): Uint32Array {
    const predicted = predictForest(this.forest, x, rows, { proba: proba !== undefined });
    proba?.set(predicted.proba);
    return predicted.index;
  }

  report(): FitReport {
    const { featureImportances, outOfBag } = this.artifact;
    return {
      featureImportances: [...featureImportances],
      outOfBag: outOfBag === null ? null : { ...outOfBag },
    };
  }
}

function encodeTrees(
  grown: readonly GrownTree[],
  thresholds: readonly Float64Array[],
): Pick<
  RandomForestArtifact,
  'thresholds' | 'thresholdCounts' | 'treeSizes' | 'nodes' | 'leafCounts'
> {
  const offsets: number[] = [];
  let all = 0;
  for (const t of thresholds) {
    offsets.push(all);
    all += t.length;
  }
  const flat = new Float64Array(all);
  thresholds.forEach((t, j) => flat.set(t, offsets[j]));
  let nodeCount = 0;
  let leafValues = 0;
  for (const g of grown) {
    nodeCount += g.feature.length;
    leafValues += g.leafCounts.length;
  }
  const nodes = new Uint32Array(nodeCount);
  const leafCounts = new Float64Array(leafValues);
  let at = 0;
  let leafAt = 0;
  for (const g of grown) {
    for (let n = 0; n < g.feature.length; n++) {
      const j = g.feature[n] as number;
      nodes[at++] = j < 0 ? 0 : (offsets[j] as number) + (g.bin[n] as number) + 1;
    }
    leafCounts.set(g.leafCounts, leafAt);
    leafAt += g.leafCounts.length;
  }
  const sizes = grown.map((g) => g.feature.length);
  return {
    thresholds: encodeArray('float64', flat),
    thresholdCounts: thresholds.map((t) => t.length),
    treeSizes: encodeArray(unsignedTypeFor(sizes), sizes),
    nodes: encodeArray(unsignedTypeFor(nodes), nodes),
    leafCounts: encodeArray(unsignedTypeFor(leafCounts), leafCounts),
  };
}

/**
 * Mean decrease in impurity, as scikit-learn's `feature_importances_`: each tree's decreases
 * normalised to sum 1, averaged over the trees that split at all, normalised again.
 */
function importances(grown: readonly GrownTree[], d: number): number[] {
  const total = new Float64Array(d);
  let splitting = 0;
  for (const g of grown) {
    let s = 0;
    for (let j = 0; j < d; j++) s += g.importance[j] as number;
    if (!(s > 0)) continue;
    splitting++;
    for (let j = 0; j < d; j++) total[j] = (total[j] as number) + (g.importance[j] as number) / s;
  }
  if (splitting === 0) return new Array<number>(d).fill(0);
  let s = 0;
  for (let j = 0; j < d; j++) s += total[j] as number;
  return Array.from(total, (v) => v / s);
}

/**
 * Out-of-bag accuracy: each row is predicted by the trees whose bootstrap sample left it out
 * (the mean of their leaves' class fractions, as a forest predicts), over the rows that at
 * least one tree left out.
 */
function outOfBag(
  grown: readonly GrownTree[],
  data: BinnedRows,
): { accuracy: number; rows: number } {
  const k = data.classes;
  const sums = new Float64Array(data.rows * k);
  const voted = new Uint8Array(data.rows);
  for (const g of grown) {
    for (let q = 0; q < g.oobRows.length; q++) {
      const r = g.oobRows[q] as number;
      const leaf = (g.oobLeaves[q] as number) * k;
      let total = 0;
      for (let c = 0; c < k; c++) total += g.leafCounts[leaf + c] as number;
      for (let c = 0; c < k; c++) {
        sums[r * k + c] = (sums[r * k + c] as number) + (g.leafCounts[leaf + c] as number) / total;
      }
      voted[r] = 1;
    }
  }
  let rows = 0;
  let correct = 0;
  for (let r = 0; r < data.rows; r++) {
    if (voted[r] === 0) continue;
    rows++;
    let best = 0;
    for (let c = 1; c < k; c++)
      if ((sums[r * k + c] as number) > (sums[r * k + best] as number)) best = c;
    if (best === data.labels[r]) correct++;
  }
  return { accuracy: rows === 0 ? 0 : correct / rows, rows };
}

/**
 * The flat-array predictor of an artifact whose fields have the right types; checks the trees'
 * structure as it goes. Its arrays live in shared memory, so prediction threads read them as
 * they are.
 */
function compileForest(a: RandomForestArtifact): FlatForest {
  const fail = artifactFailure(KIND);
  const d = a.features.length;
  const k = a.classes.length;
  const decodedThresholds = decodeArray(a.thresholds) as Float64Array;
  const sizes = decodeArray(a.treeSizes) as Uint32Array;
  const codes = decodeArray(a.nodes) as Uint32Array;
  const counts = decodeArray(a.leafCounts) as Uint32Array;

  const thresholds = sharedArray(Float64Array, decodedThresholds.length);
  thresholds.set(decodedThresholds);
  const thresholdStart = sharedArray(Int32Array, d + 1);
  const owner = new Int32Array(thresholds.length);
  a.thresholdCounts.forEach((count, j) => {
    const at = thresholdStart[j] as number;
    thresholdStart[j + 1] = at + count;
    owner.fill(j, at, at + count);
  });

  const n = codes.length;
  const node = sharedArray(Int32Array, 2 * n);
  const roots = sharedArray(Int32Array, sizes.length);
  const leaves = counts.length / k;
  const proba = sharedArray(Float64Array, counts.length);
  let at = 0;
  let leaf = 0;
  const open: number[] = [];
  for (let t = 0; t < sizes.length; t++) {
    const size = sizes[t] as number;
    roots[t] = at;
    if (size < 1) fail(`treeSizes[${t}]`, 'must be at least 1');
    const end = at + size;
    if (end > n) fail('treeSizes', `add up to more than the ${n} nodes`);
    open.length = 0;
    for (; at < end; at++) {
      const code = codes[at] as number;
      if (code > 0) {
        if (code > thresholds.length) {
          fail(`nodes[${at}]`, `is ${code}, but there are ${thresholds.length} thresholds`);
        }
        const j = owner[code - 1] as number;
        node[2 * at] = (j << 8) | (code - 1 - (thresholdStart[j] as number));
        open.push(at);
        continue;
      }
      if (leaf >= leaves) fail('leafCounts', `has fewer than the ${leaf + 1} leaves of the trees`);
      let total = 0;
      for (let c = 0; c < k; c++) total += counts[leaf * k + c] as number;
      if (!(total > 0)) fail('leafCounts', `leaf ${leaf} has no training row`);
      for (let c = 0; c < k; c++) proba[leaf * k + c] = (counts[leaf * k + c] as number) / total;
      node[2 * at] = -1;
      node[2 * at + 1] = leaf * k;
      leaf++;
      if (at + 1 < end) {
        const parent = open.pop();
        if (parent === undefined)
          fail(`treeSizes[${t}]`, 'counts nodes after the tree is complete');
        node[2 * (parent as number) + 1] = at + 1;
      }
    }
    if (open.length > 0) {
      fail(`treeSizes[${t}]`, 'ends the tree before every split has two subtrees');
    }
  }
  if (at !== n) fail('treeSizes', `add up to ${at} nodes, but nodes has ${n}`);
  if (leaf !== leaves) fail('leafCounts', `holds ${leaves} leaves, but the trees have ${leaf}`);
  return new FlatForest({
    features: d,
    classes: k,
    thresholds,
    thresholdStart,
    node,
    roots,
    proba,
  });
}

type ArrayMaker<T> = new (buffer: SharedArrayBuffer) => T;

function sharedArray<T extends Int32Array | Float64Array>(
  Type: ArrayMaker<T> & { BYTES_PER_ELEMENT: number },
  length: number,
): T {
  return new Type(new SharedArrayBuffer(length * Type.BYTES_PER_ELEMENT));
}

/**
 * Checks a `random-forest` artifact field by field (the error names the first bad field) and
 * compiles its predictor, which checks the trees' structure.
 */
function readArtifact(value: unknown): { artifact: RandomForestArtifact; forest: FlatForest } {
  const a = readFamilyArtifact(CHECKS, value);
  const fail = artifactFailure(KIND);
  const params = a.params as RandomForestParams;
  const d = a.features.length;
  const k = a.classes.length;

  const decoded = (field: string, types: readonly string[]): ArrayLike<number> => {
    const typed = decodeArray(a[field]);
    if (typeof typed === 'string') return fail(field, typed);
    const type = (a[field] as { type: string }).type;
    if (!types.includes(type)) fail(field, `must be of type ${types.join(' or ')}, got ${type}`);
    return typed;
  };
  const thresholds = decoded('thresholds', ['float64']);
  for (let i = 0; i < thresholds.length; i++) {
    if (!Number.isFinite(thresholds[i])) fail('thresholds', `value ${i} is not a finite number`);
  }
  const counts = a.thresholdCounts;
  if (
    !Array.isArray(counts) ||
    counts.length !== d ||
    !counts.every((c) => isInt(c, 0) && c < 256)
  ) {
    fail('thresholdCounts', `must list ${d} integers from 0 to 255, one per feature`);
  }
  const listed = (counts as number[]).reduce((s, c) => s + c, 0);
  if (listed !== thresholds.length) {
    fail('thresholdCounts', `add up to ${listed}, but thresholds holds ${thresholds.length}`);
  }
  const unsigned = ['uint8', 'uint16', 'uint32'];
  const sizes = decoded('treeSizes', unsigned);
  if (sizes.length !== params.trees) {
    fail(
      'treeSizes',
      `must have one size per tree (params.trees is ${params.trees}), got ${sizes.length}`,
    );
  }
  decoded('nodes', unsigned);
  const leafCounts = decoded('leafCounts', unsigned);
  if (leafCounts.length % k !== 0) fail('leafCounts', `must hold ${k} counts per leaf`);

  const importance = a.featureImportances;
  if (
    !Array.isArray(importance) ||
    importance.length !== d ||
    !importance.every((v) => isFiniteNumber(v) && v >= 0)
  ) {
    fail('featureImportances', `must list ${d} numbers >= 0, one per feature`);
  }
  const oob = a.outOfBag;
  if (oob !== null) {
    if (
      !isRecord(oob) ||
      !isFiniteNumber(oob.accuracy) ||
      oob.accuracy < 0 ||
      oob.accuracy > 1 ||
      !isInt(oob.rows, 0)
    ) {
      fail('outOfBag', 'must be null or { accuracy (0 to 1), rows }');
    }
  }
  const artifact = a as RandomForestArtifact;
  return { artifact, forest: compileForest(artifact) };
}
