/**
 * The `logistic-regression` family: multinomial (softmax) logistic regression on standardised
 * features with an L2 penalty, fitted by L-BFGS over Float64Arrays, as scikit-learn's
 * `make_pipeline(StandardScaler(), LogisticRegression())` fits it. Artifact kind
 * `softmax-regression`; the artifact holds plain numbers, so predicting needs no library.
 *
 * The objective is the mean log-loss plus `||W||^2 / (2 C n)` over n training rows (the
 * intercepts are not penalised): the minimiser of scikit-learn's `C * sum(loss) + ||W||^2 / 2`.
 */
import { z } from 'zod';

import { PinmlError } from '../errors.ts';
import {
  PredictorClassifier,
  checkFit,
  readLinearArtifact,
  rowPredictor,
  type BatchPredictor,
  type FamilyChecks,
} from './family.ts';
import { minimizeLbfgs } from './lbfgs.ts';
import type { FitSpec, ModelArtifact, ModelFamily } from './types.ts';

/** Hyper-parameters of `logistic-regression`, with scikit-learn's defaults. */
export const logisticRegressionParamsSchema = z.strictObject({
  /** Inverse strength of the L2 penalty, as scikit-learn's `C`: smaller is stronger. */
  C: z.number().gt(0).max(1e12).default(1),
  /** L-BFGS iterations at most. */
  maxIterations: z.int().min(1).max(100_000).default(100),
  /** Stop when no component of the objective's gradient exceeds this. */
  tolerance: z.number().gt(0).max(1).default(1e-4),
});

/** Hyper-parameters of `logistic-regression`. */
export type LogisticRegressionParams = z.output<typeof logisticRegressionParamsSchema>;

/** Every default of {@link logisticRegressionParamsSchema}. */
export const DEFAULT_LOGISTIC_REGRESSION_PARAMS: Readonly<LogisticRegressionParams> = Object.freeze(
  logisticRegressionParamsSchema.parse({}),
);

const KIND = 'softmax-regression';
const FORMAT_VERSION = 1;

const CHECKS = {
  algorithm: 'logistic-regression' as const,
  kind: KIND,
  formatVersion: FORMAT_VERSION,
  params: logisticRegressionParamsSchema,
  seeded: false,
} satisfies FamilyChecks;

/**
 * The `softmax-regression` artifact (format version 1). For a row `x`, with
 * `z[j] = (x[j] - mean[j]) / scale[j]`, class c scores `s[c] = weights[c][0..d-1] · z +
 * weights[c][d]` (the intercept last), and its probability is `exp(s[c]) / sum(exp(s))`.
 */
export interface LogisticRegressionArtifact extends ModelArtifact {
  kind: typeof KIND;
  formatVersion: typeof FORMAT_VERSION;
  params: LogisticRegressionParams;
  standardize: { mean: number[]; scale: number[] };
  /** One row per class: a weight per standardised feature, then the intercept. */
  weights: number[][];
}

/** The `logistic-regression` family. Artifact kind `softmax-regression`. */
export const logisticRegressionFamily: ModelFamily<
  typeof logisticRegressionParamsSchema,
  'logistic-regression'
> = {
  algorithm: CHECKS.algorithm,
  kind: KIND,
  params: CHECKS.params,
  fit(rows, y, spec) {
    return fitLogisticRegression(rows, y, spec);
  },
  load(artifact) {
    return new LogisticRegressionClassifier(readArtifact(artifact));
  },
  compile(artifact) {
    return compileLogisticRegression(readArtifact(artifact));
  },
};

/** What the family's `fit` does; also reports how the optimiser ended. */
export function fitLogisticRegression(
  rows: readonly (readonly number[])[],
  y: readonly number[],
  spec: FitSpec<LogisticRegressionParams>,
): LogisticRegressionClassifier {
  checkFit(CHECKS, rows, y, spec);
  const params = spec.params;
  const n = rows.length;
  const d = spec.features.length;
  const k = spec.classes.length;
  const standardize = standardization(rows, d);
  // Standardised rows, row-major.
  const z = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    const row = rows[i] as readonly number[];
    for (let j = 0; j < d; j++) {
      z[i * d + j] =
        ((row[j] as number) - (standardize.mean[j] as number)) / (standardize.scale[j] as number);
    }
  }
  const labels = Int32Array.from(y);
  const width = d + 1;
  const penalty = 1 / (params.C * n);
  const scores = new Float64Array(k);

  // Parameters: class c's weights at c * width, its intercept at c * width + d.
  const objective = (w: Float64Array, gradient: Float64Array): number => {
    gradient.fill(0);
    let loss = 0;
    for (let i = 0; i < n; i++) {
      const base = i * d;
      let top = -Infinity;
      for (let c = 0; c < k; c++) {
        const at = c * width;
        let s = w[at + d] as number;
        for (let j = 0; j < d; j++) s += (w[at + j] as number) * (z[base + j] as number);
        scores[c] = s;
        if (s > top) top = s;
      }
      const label = labels[i] as number;
      // log-loss = log(sum(exp(s - top))) - (s[label] - top), finite however far apart.
      const labelScore = (scores[label] as number) - top;
      let total = 0;
      for (let c = 0; c < k; c++) {
        const e = Math.exp((scores[c] as number) - top);
        scores[c] = e;
        total += e;
      }
      loss += Math.log(total) - labelScore;
      for (let c = 0; c < k; c++) {
        const residual = (scores[c] as number) / total - (c === label ? 1 : 0);
        const at = c * width;
        for (let j = 0; j < d; j++) {
          gradient[at + j] = (gradient[at + j] as number) + residual * (z[base + j] as number);
        }
        gradient[at + d] = (gradient[at + d] as number) + residual;
      }
    }
    let norm = 0;
    for (let c = 0; c < k; c++) {
      const at = c * width;
      for (let j = 0; j < d; j++) {
        const v = w[at + j] as number;
        norm += v * v;
        gradient[at + j] = (gradient[at + j] as number) / n + penalty * v;
      }
      gradient[at + d] = (gradient[at + d] as number) / n;
    }
    return loss / n + (penalty / 2) * norm;
  };

  const result = minimizeLbfgs(objective, new Float64Array(k * width), {
    maxIterations: params.maxIterations,
    gradientTolerance: params.tolerance,
  });
  const weights: number[][] = [];
  for (let c = 0; c < k; c++)
    weights.push(Array.from(result.x.subarray(c * width, (c + 1) * width)));
  if (!weights.every((row) => row.every(Number.isFinite))) {
    throw new PinmlError(
      'E_TRAINING',
      `logistic-regression diverged (a weight is not finite): lower params.C (${params.C})`,
      { params },
    );
  }
  return new LogisticRegressionClassifier(
    {
      kind: KIND,
      formatVersion: FORMAT_VERSION,
      features: [...spec.features],
      classes: [...spec.classes],
      params: { ...params },
      standardize,
      weights,
    },
    { iterations: result.iterations, converged: result.converged },
  );
}

/** Per-feature mean and population standard deviation; a constant feature gets scale 1. */
function standardization(
  rows: readonly (readonly number[])[],
  d: number,
): LogisticRegressionArtifact['standardize'] {
  const n = rows.length;
  const mean: number[] = [];
  const scale: number[] = [];
  for (let j = 0; j < d; j++) {
    let sum = 0;
    let constant = true;
    const first = (rows[0] as readonly number[])[j] as number;
    for (let i = 0; i < n; i++) {
      const v = (rows[i] as readonly number[])[j] as number;
      sum += v;
      if (v !== first) constant = false;
    }
    const m = sum / n;
    let squares = 0;
    for (let i = 0; i < n; i++) {
      const v = ((rows[i] as readonly number[])[j] as number) - m;
      squares += v * v;
    }
    const sd = Math.sqrt(squares / n);
    // A constant column can have a tiny non-zero sd from rounding the mean: test constancy.
    mean.push(m);
    scale.push(constant || !(sd > 0) ? 1 : sd);
  }
  return { mean, scale };
}

/** A fitted or loaded `logistic-regression`: its compiled predictor and its artifact. */
export class LogisticRegressionClassifier extends PredictorClassifier<LogisticRegressionArtifact> {
  /** How the optimiser ended, for a model fitted in this process (not kept in the artifact). */
  readonly optimizer: { iterations: number; converged: boolean } | undefined;

  constructor(
    artifact: LogisticRegressionArtifact,
    optimizer?: { iterations: number; converged: boolean },
  ) {
    super(artifact, compileLogisticRegression(artifact));
    this.optimizer = optimizer;
  }
}

/**
 * The predictor of a `softmax-regression` artifact (already checked): standardise, one score
 * per class (intercept last), the softmax of the scores; the class of the highest probability.
 */
export function compileLogisticRegression(a: LogisticRegressionArtifact): BatchPredictor {
  const d = a.features.length;
  const k = a.classes.length;
  const width = d + 1;
  const mean = Float64Array.from(a.standardize.mean);
  const scale = Float64Array.from(a.standardize.scale);
  const w = Float64Array.from(a.weights.flat());
  const z = new Float64Array(d);
  return rowPredictor(a, (x, at, out, outAt) => {
    for (let j = 0; j < d; j++) {
      z[j] = ((x[at + j] as number) - (mean[j] as number)) / (scale[j] as number);
    }
    let top = -Infinity;
    for (let c = 0; c < k; c++) {
      const base = c * width;
      let score = w[base + d] as number;
      for (let j = 0; j < d; j++) score += (w[base + j] as number) * (z[j] as number);
      out[outAt + c] = score;
      if (score > top) top = score;
    }
    let total = 0;
    for (let c = 0; c < k; c++) {
      const e = Math.exp((out[outAt + c] as number) - top);
      out[outAt + c] = e;
      total += e;
    }
    // The class of the highest probability, as the server picks it (ties to the lower index).
    let best = 0;
    for (let c = 0; c < k; c++) {
      const p = (out[outAt + c] as number) / total;
      out[outAt + c] = p;
      if (p > (out[outAt + best] as number)) best = c;
    }
    return best;
  });
}

/** Checks a `softmax-regression` artifact field by field; the error names the first bad field. */
function readArtifact(value: unknown): LogisticRegressionArtifact {
  return readLinearArtifact(CHECKS, value) as LogisticRegressionArtifact;
}
