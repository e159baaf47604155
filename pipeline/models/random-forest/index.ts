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
import { BatchClassifier, checkFit, readFamilyArtifact, type FamilyChecks } from '../family.ts';
import type { FitReport, FitSpec, ModelArtifact, ModelFamily, Predictor } from '../types.ts';
import {
  RANDOM_FOREST_KIND as KIND,
  checkTrees,
  compileForest,
  encodeTrees,
  type ForestTrees,
} from './artifact.ts';
import { binOf, quantileThresholds } from './bins.ts';
import type { FlatForest } from './flat-forest.ts';
import { growTrees, predictForest, predictForestAsync, threadCount } from './threads.ts';
import type { BinnedRows, GrownTree, TreeOptions } from './tree.ts';

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

const FORMAT_VERSION = 1;

const CHECKS = {
  algorithm: 'random-forest' as const,
  kind: KIND,
  formatVersion: FORMAT_VERSION,
  params: randomForestParamsSchema,
  seeded: true,
} satisfies FamilyChecks;

/** The `random-forest` artifact (format version 1); its trees are described at {@link ForestTrees}. */
export interface RandomForestArtifact extends ModelArtifact, ForestTrees {
  kind: typeof KIND;
  formatVersion: typeof FORMAT_VERSION;
  params: RandomForestParams;
  seed: number;
  /** Mean decrease in impurity per feature, summing to 1 (all 0 when no tree splits). */
  featureImportances: number[];
  /** Accuracy of each row's vote by the trees that did not train on it; null without bootstrap. */
  outOfBag: { accuracy: number; rows: number } | null;
}

/** How a fit runs (not what it produces: the artifact is the same for any value). */
export interface RandomForestRunOptions {
  /** Grow the trees on exactly this many threads, the calling one included (tests, benchmarks). */
  threads?: number;
  /**
   * Otherwise as many threads as the fit is worth (one below 200,000 row-trees), at most this
   * many; by default every core. The fitted model predicts large batches on as many.
   */
  maxThreads?: number;
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
  const threads =
    run.threads ?? (n * params.trees >= THREADED_WORK ? threadCount(run.maxThreads) : 1);
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
  return new RandomForestClassifier(artifact, undefined, run);
}

/** The `random-forest` family. Artifact kind `random-forest`. */
export const randomForestFamily: ModelFamily<typeof randomForestParamsSchema, 'random-forest'> = {
  algorithm: CHECKS.algorithm,
  kind: KIND,
  params: CHECKS.params,
  fit(rows, y, spec, run = {}) {
    return fitRandomForest(rows, y, spec, { maxThreads: run.threads });
  },
  load(artifact, run = {}) {
    const checked = readArtifact(artifact);
    return new RandomForestClassifier(checked.artifact, checked.forest, {
      maxThreads: run.threads,
    });
  },
  compile(artifact) {
    return forestPredictor(readArtifact(artifact));
  },
};

/** A fitted or loaded `random-forest`: a flat-array predictor and its artifact. */
export class RandomForestClassifier extends BatchClassifier<RandomForestArtifact> {
  /** The predictor the classifier uses; the server's predictor walks it too. */
  readonly forest: FlatForest;
  readonly #maxThreads: number | undefined;

  /**
   * `forest`: the artifact's predictor, when the caller compiled it already; `run.maxThreads`:
   * the most threads a large batch is predicted on (by default every core).
   */
  constructor(
    artifact: RandomForestArtifact,
    forest?: FlatForest,
    run: Pick<RandomForestRunOptions, 'maxThreads'> = {},
  ) {
    super(artifact);
    this.forest = forest ?? compileForest(this.artifact);
    this.#maxThreads = run.maxThreads;
  }

  /** On as many threads as the batch is worth (see `predictForest`). */
  predictBatch(x: Float64Array, rows: number, proba?: Float64Array): Uint32Array {
    const predicted = predictForest(this.forest, x, rows, {
      proba: proba !== undefined,
      maxThreads: this.#maxThreads,
    });
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
 * Checks a `random-forest` artifact field by field (the error names the first bad field) and
 * compiles its flat forest, which checks the trees' structure.
 */
function readArtifact(value: unknown): { artifact: RandomForestArtifact; forest: FlatForest } {
  const a = readFamilyArtifact(CHECKS, value);
  const fail = artifactFailure(KIND);
  const d = a.features.length;
  checkTrees(a, (a.params as RandomForestParams).trees);
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

/**
 * The server's predictor of a `random-forest`: its flat forest, one row at a time or a batch on
 * the calling thread (the WebAssembly walk from a few hundred rows), or a batch on helper
 * threads while the calling one goes on (batch scoring, `predictForestAsync`), the same bits
 * every way.
 */
function forestPredictor(checked: {
  artifact: RandomForestArtifact;
  forest: FlatForest;
}): Predictor {
  const { artifact, forest } = checked;
  return {
    kind: KIND,
    engine: 'compiled',
    features: Object.freeze([...artifact.features]),
    classes: Object.freeze([...artifact.classes]),
    predictRow: (row, out) => forest.predictRow(row, out),
    predictBatch(x, rows, proba) {
      const index = new Uint32Array(rows);
      forest.predictRange(x, 0, rows, index, proba);
      return index;
    },
    async predictBatchAsync(x, rows, proba, threads) {
      const predicted = await predictForestAsync(forest, x, rows, { proba: true, threads });
      proba.set(predicted.proba);
      return predicted.index;
    },
  };
}
