/**
 * Compiles a model artifact into a predictor over flat typed arrays, once, when a version is
 * loaded: a request then walks integers and floats, never the library's object graph.
 *
 * Every artifact is first checked by the pipeline's own loader (`loadModel`: kind, format
 * version, shape), so the server accepts exactly what the pipeline accepts. The compiled
 * predictors repeat the pipeline's arithmetic operation for operation, so their probabilities
 * are bit-identical to `loadModel(artifact).predictProba` (see `predictor.test.ts`).
 */
import { ModelFormatError } from '../errors.ts';
import { loadModel } from './index.ts';
import { RandomForestClassifier } from './random-forest/index.ts';
import type { LogisticRegressionClassifier } from './logistic-regression.ts';
import type { Classifier, Label } from './types.ts';

/** A loaded model, ready to predict. Pure: predicting does not change it. */
export interface Predictor {
  /** The artifact kind, e.g. `ml-random-forest`. */
  readonly kind: string;
  /** `compiled` for the flat-array predictors; `library` for a kind this server cannot compile. */
  readonly engine: 'compiled' | 'library';
  readonly features: readonly string[];
  readonly classes: readonly Label[];
  /**
   * Writes the class probabilities of one row (one finite number per feature, in `features`
   * order) into `out` (length `classes.length`) and returns the index of the predicted class
   * (the highest probability; ties go to the lower index).
   */
  predictRow(row: ArrayLike<number>, out: Float64Array): number;
  /**
   * Where a predictor has one: predicts `rows` rows of `x` (row-major, `features.length` numbers
   * each) into `proba` (`rows × classes`) and returns the class indices: the same numbers as
   * `predictRow` row by row, faster for large batches (a forest's WebAssembly walk).
   */
  predictBatch?: (x: Float64Array, rows: number, proba: Float64Array) => Uint32Array;
}

/**
 * Checks an artifact (parsed JSON) with the pipeline's loader and compiles it. Throws
 * `ModelFormatError` naming the first bad field.
 */
export function compilePredictor(artifact: unknown): Predictor {
  const classifier = loadModel(artifact);
  const a = artifact as Record<string, unknown>;
  switch (classifier.kind) {
    case 'ml-random-forest':
      return compileForest(a, classifier);
    case 'logistic-regression':
      return compileLogistic(a, classifier);
    case 'random-forest':
    case 'softmax-regression':
      // The pipeline's own classifiers already predict over flat arrays: serve them as they are.
      return rowPredictor(classifier as RandomForestClassifier | LogisticRegressionClassifier);
    default:
      // A family added to the pipeline before this server learnt to compile it still serves.
      return libraryPredictor(classifier);
  }
}

/** Probabilities of many rows, each a fresh array (for tests and tools, not the hot path). */
export function predictProba(
  predictor: Predictor,
  rows: readonly (readonly number[])[],
): number[][] {
  const out = new Float64Array(predictor.classes.length);
  return rows.map((row) => {
    predictor.predictRow(row, out);
    return Array.from(out);
  });
}

function argmax(values: Float64Array): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) {
    if ((values[i] as number) > (values[best] as number)) best = i;
  }
  return best;
}

function record(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ModelFormatError(`model artifact: ${field} must be an object`, { field });
  }
  return value as Record<string, unknown>;
}

/**
 * A forest as one set of node arrays: `feature[n]` is the column a split node tests (-1 marks a
 * leaf), `left`/`right` its children, `leaf[n]` the class a leaf votes for; `roots[t]` is tree
 * t's first node. Feature indices are the artifact's (the per-tree column subsets are resolved
 * here), so a row is read as the request gave it.
 */
function compileForest(a: Record<string, unknown>, classifier: Classifier): Predictor {
  const base = record(record(a.forest, 'forest').baseModel, 'forest.baseModel');
  const estimators = base.estimators as unknown[];
  const indexes = base.indexes as number[][];
  const trees = (record(a.params, 'params').trees as number) | 0;
  const feature: number[] = [];
  const threshold: number[] = [];
  const left: number[] = [];
  const right: number[] = [];
  const leaf: number[] = [];
  const roots = new Int32Array(estimators.length);

  const add = (node: Record<string, unknown>, columns: readonly number[]): number => {
    const n = feature.length;
    feature.push(-1);
    threshold.push(0);
    left.push(-1);
    right.push(-1);
    leaf.push(-1);
    // ml-cart: a node with a `distribution` is a leaf, whatever else it holds.
    if (node.distribution !== undefined) {
      const weights = (node.distribution as number[][])[0] as number[];
      // ml-cart votes for maxRowIndex(distribution): the first of equal maxima.
      let best = 0;
      for (let c = 1; c < weights.length; c++) {
        if ((weights[c] as number) > (weights[best] as number)) best = c;
      }
      leaf[n] = best;
      return n;
    }
    feature[n] = columns[node.splitColumn as number] as number;
    threshold[n] = node.splitValue as number;
    left[n] = add(node.left as Record<string, unknown>, columns);
    right[n] = add(node.right as Record<string, unknown>, columns);
    return n;
  };
  estimators.forEach((tree, t) => {
    roots[t] = add(
      (tree as { root: Record<string, unknown> }).root,
      indexes[t] as readonly number[],
    );
  });

  const f = Int32Array.from(feature);
  const th = Float64Array.from(threshold);
  const l = Int32Array.from(left);
  const r = Int32Array.from(right);
  const lf = Int32Array.from(leaf);
  const k = classifier.classes.length;
  return {
    kind: classifier.kind,
    engine: 'compiled',
    features: classifier.features,
    classes: classifier.classes,
    predictRow(row, out) {
      out.fill(0, 0, k);
      for (let t = 0; t < roots.length; t++) {
        let n = roots[t] as number;
        let j = f[n] as number;
        while (j >= 0) {
          // ml-cart sends a row left when its value is below the split value.
          n = (row[j] as number) < (th[n] as number) ? (l[n] as number) : (r[n] as number);
          j = f[n] as number;
        }
        const c = lf[n] as number;
        out[c] = (out[c] as number) + 1;
      }
      // The pipeline divides each vote count by params.trees: the same division, the same bits.
      for (let c = 0; c < k; c++) out[c] = (out[c] as number) / trees;
      return argmax(out);
    },
  };
}

/**
 * One-vs-rest logistic regression: standardise, one dot product per class (intercept last), then
 * the pipeline's log-space normalisation of the sigmoids.
 */
function compileLogistic(a: Record<string, unknown>, classifier: Classifier): Predictor {
  const s = record(a.standardize, 'standardize');
  const mean = Float64Array.from(s.mean as number[]);
  const scale = Float64Array.from(s.scale as number[]);
  const rows = a.weights as number[][];
  const d = mean.length;
  const k = rows.length;
  const width = d + 1;
  const weights = new Float64Array(k * width);
  rows.forEach((w, c) => weights.set(w, c * width));
  const z = new Float64Array(d);
  return {
    kind: classifier.kind,
    engine: 'compiled',
    features: classifier.features,
    classes: classifier.classes,
    predictRow(row, out) {
      for (let j = 0; j < d; j++)
        z[j] = ((row[j] as number) - (mean[j] as number)) / (scale[j] as number);
      let top = -Infinity;
      for (let c = 0; c < k; c++) {
        const base = c * width;
        let score = 0;
        for (let j = 0; j < d; j++) score += (z[j] as number) * (weights[base + j] as number);
        // The pipeline appends a constant 1 column: 1 * w is w, added last as there.
        score += weights[base + d] as number;
        const log = -softplus(-score);
        out[c] = log;
        top = Math.max(top, log);
      }
      let total = 0;
      for (let c = 0; c < k; c++) {
        const e = Math.exp((out[c] as number) - top);
        out[c] = e;
        total += e;
      }
      for (let c = 0; c < k; c++) out[c] = (out[c] as number) / total;
      return argmax(out);
    },
  };
}

/** log(1 + e^t) without overflow, as the pipeline computes it. */
function softplus(t: number): number {
  return t > 0 ? t + Math.log1p(Math.exp(-t)) : Math.log1p(Math.exp(t));
}

/**
 * `random-forest` (its flat forest) and `softmax-regression` (its batch predictor): one row at a
 * time, and whole batches through `predictBatch`.
 */
function rowPredictor(
  classifier: RandomForestClassifier | LogisticRegressionClassifier,
): Predictor {
  const x = new Float64Array(classifier.features.length);
  const predict =
    classifier instanceof RandomForestClassifier
      ? (row: ArrayLike<number>, out: Float64Array): number =>
          classifier.forest.predictRow(row, out)
      : (row: ArrayLike<number>, out: Float64Array): number => {
          x.set(row);
          return classifier.predictBatch(x, 1, out)[0] as number;
        };
  const predictor: Predictor = {
    kind: classifier.kind,
    engine: 'compiled',
    features: classifier.features,
    classes: classifier.classes,
    predictRow: predict,
  };
  if (classifier instanceof RandomForestClassifier) {
    const forest = classifier.forest;
    predictor.predictBatch = (x, rows, proba) => {
      const index = new Uint32Array(rows);
      forest.predictRange(x, 0, rows, index, proba);
      return index;
    };
  } else {
    predictor.predictBatch = (x, rows, proba) => classifier.predictBatch(x, rows, proba);
  }
  return predictor;
}

function libraryPredictor(classifier: Classifier): Predictor {
  return {
    kind: classifier.kind,
    engine: 'library',
    features: classifier.features,
    classes: classifier.classes,
    predictRow(row, out) {
      const p = classifier.predictProba([Array.from(row)])[0] ?? [];
      out.set(p);
      return argmax(out);
    },
  };
}
