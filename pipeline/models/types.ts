/**
 * The contract every model family meets: its params schema, fit on class indices, predict
 * labels and probabilities, serialise to plain JSON with a kind tag and a format version.
 */
import type { z } from 'zod';
import type { Label } from '../label.ts';

/**
 * A family's hyper-parameters: a strict zod object whose every field has its rule and its
 * default (checked with `params.ts`).
 */
export type ParamsSchema = z.ZodObject<z.core.$ZodShape, z.core.$strict>;

/** What a family needs besides the rows: the signature names and the seed. */
export interface FitSpec<P> {
  /** Feature names, in column order of every row passed in. */
  features: readonly string[];
  /** Class labels; `y[i]` is an index into this list. */
  classes: readonly Label[];
  /** Hyper-parameters, already validated and defaulted by the family's schema. */
  params: P;
  /** Seed for every random choice the family makes. */
  seed: number;
}

/** A trained classifier. Pure: predicting does not change it. */
export interface Classifier {
  /** The artifact kind tag, e.g. `ml-random-forest`. */
  readonly kind: string;
  readonly features: readonly string[];
  readonly classes: readonly Label[];
  /** Predicted label per row. */
  predict(rows: readonly (readonly number[])[]): Label[];
  /** Class probabilities per row, in `classes` order, each row summing to 1. */
  predictProba(rows: readonly (readonly number[])[]): number[][];
  /** Predicted class index per row (ties go to the lower index). */
  predictIndex(rows: readonly (readonly number[])[]): number[];
  /** The artifact: plain JSON, never code. Same model → same object. */
  toJSON(): ModelArtifact;
  /** What the model learnt about the data besides predicting, for families that know it. */
  report?(): FitReport;
}

/**
 * A loaded model compiled for serving, one row or one batch at a time over flat arrays. Each
 * family compiles its own (its `compile`), with the arithmetic its classifier predicts with, so
 * the server answers exactly what the pipeline computes. Pure: predicting does not change it.
 */
export interface Predictor {
  /** The artifact kind, e.g. `ml-random-forest`. */
  readonly kind: string;
  /**
   * `compiled`: a flat-array predictor, as every family's is (`library` was a kind this server
   * could not compile; no family is one now).
   */
  readonly engine: 'compiled' | 'library';
  readonly features: readonly string[];
  readonly classes: readonly Label[];
  /**
   * Writes the class probabilities of one row (one finite number per feature, in `features`
   * order) into `out` (length `classes.length`) and returns the index of the class the model
   * predicts, as its classifier's `predictIndex` does (the most probable; ties go to the lower
   * index).
   */
  predictRow(row: ArrayLike<number>, out: Float64Array): number;
  /**
   * Where a predictor has one: predicts `rows` rows of `x` (row-major, `features.length` numbers
   * each) into `proba` (`rows × classes`) and returns the class indices: the same numbers as
   * `predictRow` row by row, faster for large batches (a forest's WebAssembly walk).
   */
  predictBatch?: (x: Float64Array, rows: number, proba: Float64Array) => Uint32Array;
  /**
   * Where a family has one: {@link predictBatch} on `threads` helper threads, leaving the
   * calling thread free (batch scoring reads the next rows meanwhile). The same numbers.
   */
  predictBatchAsync?: (
    x: Float64Array,
    rows: number,
    proba: Float64Array,
    threads: number,
  ) => Promise<Uint32Array>;
}

/** Figures a family reports about a fitted model (each optional). */
export interface FitReport {
  /**
   * Share of each feature (in `features` order) in the model's decisions, summing to 1, or all 0
   * when the model uses no feature (a forest of single leaves).
   */
  featureImportances?: number[];
  /**
   * Accuracy on the rows each part of the model did not train on (a forest's out-of-bag rows)
   * and how many rows that is; null when the model has none (a forest without bootstrap).
   */
  outOfBag?: { accuracy: number; rows: number } | null;
}

/** Fields every artifact carries. */
export interface ModelArtifact {
  kind: string;
  formatVersion: number;
  features: string[];
  classes: Label[];
  [key: string]: unknown;
}

/**
 * How a model runs: never what it computes (the same model, bit for bit, whatever the values).
 * The CLI and the actions fill it from `PINML_TRAIN_THREADS`; a model never reads the environment.
 */
export interface RunOptions {
  /** The most threads it may use, the calling one included; by default every core. */
  threads?: number;
}

/**
 * One model family: an algorithm name for `pinml.yaml`, its params schema (the one definition
 * of its hyper-parameters and their defaults), its artifact kind, fit and load.
 */
export interface ModelFamily<S extends ParamsSchema = ParamsSchema, A extends string = string> {
  /** The `algorithm` value in `pinml.yaml`. */
  readonly algorithm: A;
  /** The artifact `kind` it writes and loads. */
  readonly kind: string;
  /** Its hyper-parameters, each with its rule and default (`pinml.yaml`'s `params`). */
  readonly params: S;
  fit(
    rows: readonly (readonly number[])[],
    y: readonly number[],
    spec: FitSpec<z.output<S>>,
    run?: RunOptions,
  ): Classifier;
  /** Loads an artifact; refuses another kind or an unknown format version (ModelFormatError). */
  load(artifact: unknown, run?: RunOptions): Classifier;
  /**
   * Checks an artifact as `load` does and compiles it into the predictor the server uses: the
   * classifier's own arithmetic, so the same bits.
   */
  compile(artifact: unknown): Predictor;
}
