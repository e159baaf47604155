/**
 * What the model families share besides the input checks of `checks.ts` and the params rules of
 * `params.ts`: the checks that open every fit and every load, and the classifier skeleton (a
 * private copy of the artifact, labels from class indices, predictions over a batch predictor),
 * so the families word their errors and keep their artifacts alike.
 */
import { PinmlError } from '../errors.ts';
import type { Label } from '../label.ts';
import {
  artifactFailure,
  checkFitInputs,
  checkRows,
  isFiniteNumber,
  isInt,
  isRecord,
  readArtifactHeader,
  show,
} from './checks.ts';
import { paramsProblem } from './params.ts';
import type { Classifier, FitSpec, ModelArtifact, ParamsSchema, Predictor } from './types.ts';

/** What the checks opening a fit and a load need to know about a family. */
export interface FamilyChecks {
  /** The `pinml.yaml` algorithm name, which starts every training error. */
  algorithm: string;
  /** The artifact kind. */
  kind: string;
  /** The artifact format version the family writes, and the newest it reads. */
  formatVersion: number;
  /** The family's params schema (see `params.ts`). */
  params: ParamsSchema;
  /** The family draws random numbers: the fit's seed and the artifact's `seed` are integers. */
  seeded: boolean;
}

/**
 * Refuses a fit the family cannot run: training input that does not match the spec (see
 * {@link checkFitInputs}), then params the family's schema refuses and, for a seeded family, a
 * seed that is not an integer (`PinmlError` `E_TRAINING` "`<algorithm>`: params.…").
 */
export function checkFit(
  family: FamilyChecks,
  rows: readonly (readonly number[])[],
  y: readonly number[],
  spec: FitSpec<unknown>,
): void {
  checkFitInputs(rows, y, spec);
  const params = spec.params;
  const problem = paramsProblem(family.params, params);
  if (problem !== undefined) {
    const where = problem.startsWith('must') ? 'params ' : 'params.';
    throw new PinmlError('E_TRAINING', `${family.algorithm}: ${where}${problem}`, { params });
  }
  if (family.seeded && !Number.isInteger(spec.seed)) {
    throw new PinmlError(
      'E_TRAINING',
      `${family.algorithm}: seed must be an integer, got ${spec.seed}`,
    );
  }
}

/**
 * The fields every artifact of the family carries: the header (see {@link readArtifactHeader}),
 * `params` and, for a seeded family, `seed`. `ModelFormatError` naming the first bad field.
 */
export function readFamilyArtifact(family: FamilyChecks, value: unknown): ModelArtifact {
  const a = readArtifactHeader(value, family.kind, family.formatVersion);
  const fail = artifactFailure(family.kind);
  const problem = paramsProblem(family.params, a.params);
  if (problem !== undefined) fail('params', `is not valid: ${problem}`);
  if (family.seeded && !isInt(a.seed)) fail('seed', `must be an integer, got ${show(a.seed)}`);
  return a;
}

/**
 * A linear model's artifact: the family's fields (see {@link readFamilyArtifact}), then
 * `standardize` (a mean and a scale above 0 per feature) and `weights` (a row per class: a
 * weight per feature, then the intercept). `ModelFormatError` naming the first bad field.
 */
export function readLinearArtifact(family: FamilyChecks, value: unknown): ModelArtifact {
  const a = readFamilyArtifact(family, value);
  const fail = artifactFailure(family.kind);
  const d = a.features.length;
  const k = a.classes.length;
  const isVector = (v: unknown, length: number): v is number[] =>
    Array.isArray(v) && v.length === length && v.every(isFiniteNumber);
  const s = a.standardize;
  if (!isRecord(s)) return fail('standardize', 'must be an object with mean and scale');
  if (!isVector(s.mean, d)) {
    fail('standardize.mean', `must list ${d} finite numbers, one per feature`);
  }
  if (!isVector(s.scale, d) || !s.scale.every((x) => x > 0)) {
    fail('standardize.scale', `must list ${d} numbers > 0, one per feature`);
  }
  const w = a.weights;
  if (!Array.isArray(w) || w.length !== k) {
    fail('weights', `must have one row per class (${k} classes)`);
  }
  (w as unknown[]).forEach((row, i) => {
    if (!isVector(row, d + 1)) {
      fail(
        `weights[${i}]`,
        `must list ${d + 1} finite numbers (one per feature, then the intercept)`,
      );
    }
  });
  return a;
}

/** Checked rows (see {@link checkRows}) as one row-major Float64Array. */
export function rowMatrix(
  rows: readonly (readonly number[])[],
  features: readonly string[],
): Float64Array {
  checkRows(rows, features);
  const d = features.length;
  const x = new Float64Array(rows.length * d);
  rows.forEach((row, i) => x.set(row, i * d));
  return x;
}

/** The index of the largest value (ties to the lower index). */
export function argmax(values: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) {
    if ((values[i] as number) > (values[best] as number)) best = i;
  }
  return best;
}

/**
 * A classifier kept as its artifact: a private copy of it, its kind, its features and classes
 * (frozen), labels from {@link predictIndex}, and a fresh copy of the artifact from `toJSON()`.
 */
export abstract class ArtifactClassifier<A extends ModelArtifact> implements Classifier {
  readonly kind: A['kind'];
  readonly features: readonly string[];
  readonly classes: readonly Label[];
  readonly #artifact: A;

  constructor(artifact: A) {
    this.kind = artifact.kind;
    this.#artifact = structuredClone(artifact);
    this.features = Object.freeze([...artifact.features]);
    this.classes = Object.freeze([...artifact.classes]);
  }

  /** The artifact the classifier keeps, not a copy: to read, never to change. */
  protected get artifact(): A {
    return this.#artifact;
  }

  predict(rows: readonly (readonly number[])[]): Label[] {
    return this.predictIndex(rows).map((k) => this.classes[k] as Label);
  }

  abstract predictIndex(rows: readonly (readonly number[])[]): number[];

  abstract predictProba(rows: readonly (readonly number[])[]): number[][];

  toJSON(): A {
    return structuredClone(this.#artifact);
  }
}

/**
 * Predicts the row stored at `x[at ..]` (one number per feature): writes its class
 * probabilities into `out[outAt ..]` and returns its class.
 */
export type RowAt = (x: ArrayLike<number>, at: number, out: Float64Array, outAt: number) => number;

/** A compiled predictor that also predicts a batch without its probabilities. */
export interface BatchPredictor extends Predictor {
  predictBatch(x: Float64Array, rows: number, proba?: Float64Array): Uint32Array;
}

/**
 * The predictor of a model whose arithmetic is one row at a time (`rowAt`): a batch is its rows
 * one after another, so it gives the bits of `predictRow`.
 */
export function rowPredictor(artifact: ModelArtifact, rowAt: RowAt): BatchPredictor {
  const d = artifact.features.length;
  const k = artifact.classes.length;
  const scratch = new Float64Array(k);
  return {
    kind: artifact.kind,
    engine: 'compiled',
    features: Object.freeze([...artifact.features]),
    classes: Object.freeze([...artifact.classes]),
    predictRow: (row, out) => rowAt(row, 0, out, 0),
    predictBatch(x, rows, proba) {
      const index = new Uint32Array(rows);
      for (let i = 0; i < rows; i++) {
        index[i] =
          proba === undefined ? rowAt(x, i * d, scratch, 0) : rowAt(x, i * d, proba, i * k);
      }
      return index;
    },
  };
}

/**
 * A classifier whose predictions all come from one batch predictor over row-major rows (the
 * form the server hands it too).
 */
export abstract class BatchClassifier<A extends ModelArtifact> extends ArtifactClassifier<A> {
  /**
   * Predicts `rows` rows stored row-major in `x`: the class of each (ties to the lower index)
   * and, when `proba` is given, the probabilities (`rows * classes` numbers).
   */
  abstract predictBatch(x: Float64Array, rows: number, proba?: Float64Array): Uint32Array;

  predictIndex(rows: readonly (readonly number[])[]): number[] {
    return Array.from(this.predictBatch(rowMatrix(rows, this.features), rows.length));
  }

  predictProba(rows: readonly (readonly number[])[]): number[][] {
    const k = this.classes.length;
    const proba = new Float64Array(rows.length * k);
    this.predictBatch(rowMatrix(rows, this.features), rows.length, proba);
    return rows.map((_, i) => Array.from(proba.subarray(i * k, (i + 1) * k)));
  }
}

/** A classifier that predicts with its compiled predictor, the one the server uses. */
export class PredictorClassifier<A extends ModelArtifact> extends BatchClassifier<A> {
  readonly #predictor: BatchPredictor;

  constructor(artifact: A, predictor: BatchPredictor) {
    super(artifact);
    this.#predictor = predictor;
  }

  predictBatch(x: Float64Array, rows: number, proba?: Float64Array): Uint32Array {
    return this.#predictor.predictBatch(x, rows, proba);
  }
}
