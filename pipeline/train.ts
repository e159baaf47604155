/**
 * Training: every candidate is cross-validated on the training part (stratified, seeded
 * folds), the best by mean CV macro-F1 is refit on the whole training part and scored once on
 * the hold-out. Pure over its inputs: the same dataset, configuration and code version give
 * byte-identical results.
 */
import { mean, standardDeviation } from 'simple-statistics';
import type { CandidateConfig, ModelConfig } from './config.ts';
import type { CodeVersion } from './code-version.ts';
import type { Dataset, DatasetSignature } from './dataset.ts';
import { profileReference, type ReferenceProfile } from './drift/profile.ts';
import { DataError, UsageError } from './errors.ts';
import { applyGate, type GateVerdict } from './gate.ts';
import { canonicalJson, compactJson, sha256 } from './json.ts';
import { round, scoreClassification, type Metrics } from './metrics.ts';
import { familyFor } from './models/index.ts';
import type { Classifier, RunOptions } from './models/types.ts';
import { splitRows, type Split } from './split.ts';

/** Cross-validation figures of one candidate. */
export interface CvSummary {
  folds: { accuracy: number; macroF1: number }[];
  mean: { accuracy: number; macroPrecision: number; macroRecall: number; macroF1: number };
  std: { accuracy: number; macroF1: number };
}

/** One candidate as tried: its configuration, its training key and its CV figures. */
export interface CandidateResult {
  name: string;
  algorithm: string;
  params: Record<string, unknown>;
  seed: number;
  trainingKey: string;
  cv: CvSummary;
}

/** The candidate chosen: refit on the training part and scored on the hold-out. */
export interface ChosenResult extends CandidateResult {
  holdout: Metrics;
  /**
   * Each feature's share in the refit model's decisions (mean decrease in impurity, summing to
   * 1), for families that report it (forests); absent otherwise.
   */
  featureImportances?: { feature: string; importance: number }[];
  /** The refit model's out-of-bag accuracy (forests with bootstrap); absent otherwise. */
  outOfBag?: { accuracy: number; rows: number };
  artifact: { file: 'model.json'; sha256: string; bytes: number };
}

/** Everything a training run decided; `run.json` in the run folder. */
export interface RunRecord {
  formatVersion: 1;
  model: string;
  /** The model's configuration as used, with every default filled in. */
  config: Omit<ModelConfig, 'name'>;
  code: CodeVersion;
  dataset: {
    path: string;
    sha256: string;
    bytes: number;
    rows: number;
    classCounts: Record<string, number>;
  };
  signature: DatasetSignature;
  split: {
    seed: number;
    holdoutFraction: number;
    folds: number;
    trainRows: number;
    holdoutRows: number;
    holdoutClassCounts: Record<string, number>;
  };
  /** Every candidate tried, in configuration order. */
  candidates: CandidateResult[];
  chosen: ChosenResult;
  gate: GateVerdict;
  /**
   * The reference drift is measured against (drift/profile.ts); absent from run folders written
   * before pinml recorded it.
   */
  profile?: ReferenceProfile;
}

/** A run: its record and the chosen model's artifact as canonical JSON text. */
export interface TrainRun {
  record: RunRecord;
  artifactText: string;
}

export type TrainEvent =
  | { type: 'candidate'; name: string; index: number; total: number }
  | { type: 'fold'; name: string; fold: number; folds: number }
  | { type: 'candidate-done'; result: CandidateResult; seconds: number }
  | { type: 'refit'; name: string }
  | { type: 'done'; record: RunRecord; seconds: number };

export interface TrainOptions {
  model: ModelConfig;
  dataset: Dataset;
  code: CodeVersion;
  /** Train only these candidates (by name); all when absent. */
  only?: readonly string[];
  onEvent?: (event: TrainEvent) => void;
  /** Clock in milliseconds, for progress timings only (never written to the run). */
  now?: () => number;
  /**
   * The most threads a candidate trains and predicts on, the calling one included; by default
   * every core. It never changes the run (the CLI and the actions pass `PINML_TRAIN_THREADS`).
   */
  threads?: number;
}

/** The seed a candidate trains with: its own, or the split's. */
export function candidateSeed(candidate: CandidateConfig, model: ModelConfig): number {
  return candidate.seed ?? model.split.seed;
}

/**
 * The training key: a hash of the dataset's bytes, everything in the configuration that
 * changes what this candidate's training produces, and the code version. Registering a key
 * that is already registered is a no-op.
 */
export function trainingKey(
  model: ModelConfig,
  candidate: CandidateConfig,
  datasetSha256: string,
  code: CodeVersion,
): string {
  return sha256(
    compactJson({
      scheme: 'pinml-training-key-v1',
      dataset: datasetSha256,
      features: model.features,
      label: model.label,
      classes: model.classes ?? null,
      split: model.split,
      candidate: {
        algorithm: candidate.algorithm,
        params: candidate.params,
        seed: candidateSeed(candidate, model),
      },
      code: code.id,
    }),
  );
}

function pick<T>(items: readonly T[], indices: readonly number[]): T[] {
  return indices.map((i) => items[i] as T);
}

function summariseFolds(scores: Metrics[]): CvSummary {
  const of = (f: (m: Metrics) => number): number[] => scores.map(f);
  const std = (xs: number[]): number => (xs.length > 1 ? round(standardDeviation(xs)) : 0);
  return {
    folds: scores.map((m) => ({ accuracy: m.accuracy, macroF1: m.macroF1 })),
    mean: {
      accuracy: round(mean(of((m) => m.accuracy))),
      macroPrecision: round(mean(of((m) => m.macroPrecision))),
      macroRecall: round(mean(of((m) => m.macroRecall))),
      macroF1: round(mean(of((m) => m.macroF1))),
    },
    std: { accuracy: std(of((m) => m.accuracy)), macroF1: std(of((m) => m.macroF1)) },
  };
}

function fitCandidate(
  candidate: CandidateConfig,
  model: ModelConfig,
  dataset: Dataset,
  rows: readonly number[],
  run: RunOptions,
): Classifier {
  const family = familyFor(candidate.algorithm);
  return family.fit(
    pick(dataset.X, rows),
    pick(dataset.y, rows),
    {
      features: dataset.features,
      classes: dataset.classes,
      params: candidate.params,
      seed: candidateSeed(candidate, model),
    },
    run,
  );
}

/**
 * The best candidate: highest mean CV macro-F1, then highest mean CV accuracy, then the
 * earliest in the configuration. Depends only on the figures, so merging runs of single
 * candidates chooses what one run over all of them chooses.
 */
export function chooseBest<T extends Pick<CandidateResult, 'name' | 'cv'>>(
  results: readonly T[],
  order: readonly string[],
): T {
  const rank = (name: string): number => order.indexOf(name);
  const sorted = [...results].sort(
    (a, b) =>
      b.cv.mean.macroF1 - a.cv.mean.macroF1 ||
      b.cv.mean.accuracy - a.cv.mean.accuracy ||
      rank(a.name) - rank(b.name),
  );
  const best = sorted[0];
  if (!best) throw new UsageError('there is no candidate to choose from');
  return best;
}

function countByClass(dataset: Dataset, rows: readonly number[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const c of dataset.classes) counts[String(c)] = 0;
  for (const i of rows) {
    const key = String(dataset.classes[dataset.y[i] ?? 0]);
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

/** Refuses a split that leaves a class with fewer training rows than folds. */
function checkFolds(model: ModelConfig, dataset: Dataset, split: Split): void {
  const counts = countByClass(dataset, split.train);
  const short = Object.entries(counts).filter(([, n]) => n < model.split.folds);
  if (short.length > 0) {
    throw new DataError(
      short.map(([cls, n]) => ({
        file: dataset.path,
        column: model.label,
        message:
          `class "${cls}" has ${n} training row${n === 1 ? '' : 's'} after the hold-out split, ` +
          `fewer than split.folds = ${model.split.folds}: add rows of this class or lower split.folds in pinml.yaml`,
      })),
    );
  }
}

/** Trains the model's candidates (or some of them) and returns the run. */
export function trainModel(options: TrainOptions): TrainRun {
  const { model, dataset, code } = options;
  const emit = options.onEvent ?? (() => {});
  const run: RunOptions = options.threads === undefined ? {} : { threads: options.threads };
  const now = options.now ?? (() => 0);
  const started = now();
  const order = model.candidates.map((c) => c.name);
  const selected = options.only
    ? options.only.map((name) => {
        const found = model.candidates.find((c) => c.name === name);
        if (!found) {
          throw new UsageError(
            `model "${model.name}" has no candidate "${name}"; candidates: ${order.join(', ')}`,
          );
        }
        return found;
      })
    : model.candidates;
  const candidates = [...new Set(selected)].sort(
    (a, b) => order.indexOf(a.name) - order.indexOf(b.name),
  );

  const split = splitRows(dataset, model.split);
  checkFolds(model, dataset, split);

  const results: CandidateResult[] = candidates.map((candidate, index) => {
    emit({ type: 'candidate', name: candidate.name, index, total: candidates.length });
    const t0 = now();
    const scores = split.folds.map((validation, k) => {
      emit({ type: 'fold', name: candidate.name, fold: k + 1, folds: split.folds.length });
      const inFold = new Set(validation);
      const fitRows = split.train.filter((i) => !inFold.has(i));
      const classifier = fitCandidate(candidate, model, dataset, fitRows, run);
      const predicted = classifier.predictIndex(pick(dataset.X, validation));
      return scoreClassification(pick(dataset.y, validation), predicted, dataset.classes);
    });
    const result: CandidateResult = {
      name: candidate.name,
      algorithm: candidate.algorithm,
      params: candidate.params,
      seed: candidateSeed(candidate, model),
      trainingKey: trainingKey(model, candidate, dataset.sha256, code),
      cv: summariseFolds(scores),
    };
    emit({ type: 'candidate-done', result, seconds: (now() - t0) / 1000 });
    return result;
  });

  const best = chooseBest(results, order);
  emit({ type: 'refit', name: best.name });
  const bestConfig = candidates.find((c) => c.name === best.name) as CandidateConfig;
  const classifier = fitCandidate(bestConfig, model, dataset, split.train, run);
  const holdout = scoreClassification(
    pick(dataset.y, split.holdout),
    classifier.predictIndex(pick(dataset.X, split.holdout)),
    dataset.classes,
  );
  const artifactText = canonicalJson(classifier.toJSON());
  const report = classifier.report?.() ?? {};
  const { name: _name, ...config } = model;
  const record: RunRecord = {
    formatVersion: 1,
    model: model.name,
    config,
    code,
    dataset: {
      path: dataset.path,
      sha256: dataset.sha256,
      bytes: dataset.bytes,
      rows: dataset.rows,
      classCounts: dataset.classCounts,
    },
    signature: dataset.signature,
    split: {
      seed: model.split.seed,
      holdoutFraction: model.split.holdout,
      folds: model.split.folds,
      trainRows: split.train.length,
      holdoutRows: split.holdout.length,
      holdoutClassCounts: countByClass(dataset, split.holdout),
    },
    candidates: results,
    chosen: {
      ...best,
      holdout,
      ...(report.featureImportances === undefined
        ? {}
        : {
            featureImportances: dataset.features.map((feature, j) => ({
              feature,
              importance: round(report.featureImportances?.[j] ?? 0),
            })),
          }),
      ...(report.outOfBag == null
        ? {}
        : {
            outOfBag: { accuracy: round(report.outOfBag.accuracy), rows: report.outOfBag.rows },
          }),
      artifact: {
        file: 'model.json',
        sha256: sha256(artifactText),
        bytes: Buffer.byteLength(artifactText),
      },
    },
    gate: applyGate(holdout, model.gate),
    profile: profileReference({
      dataset,
      train: split.train,
      holdoutConfusion: holdout.confusion,
    }),
  };
  emit({ type: 'done', record, seconds: (now() - started) / 1000 });
  return { record, artifactText };
}
