/**
 * Live quality: how a model version does on the rows whose ground truth came back. Accuracy
 * with a Wilson score interval, macro-F1 with a seeded percentile bootstrap interval (the rows
 * resampled with replacement, as `pipeline/stats.ts` resamples the A/B comparison), the number
 * of labelled rows, the requests and the predicted-class mix. Pure: counts in, figures out.
 */
import { percentileBootstrap } from '../stats.ts';
import type { QualityCounts } from './store.ts';

/** An estimate and its interval. */
export interface Interval {
  estimate: number;
  low: number;
  high: number;
}

/** One model version's live quality over a window. */
export interface LiveQuality {
  model: string;
  version: number;
  pin: QualityCounts['pin'];
  /** Rows recorded in the window. */
  rows: number;
  /** Recorded rows with feedback. */
  labelled: number;
  /** The smallest sampling rate of the rows (1: every row was recorded). */
  sampleRate: number;
  /** Null without labelled rows. */
  accuracy: Interval | null;
  macroF1: (Interval & { resamples: number; seed: number; fromRows: number }) | null;
  /** Share of the recorded rows per predicted class. */
  predictedShare: Record<string, number>;
  /** What the figures rest on, for people: sampling, too few labels. */
  notes: string[];
}

/** How the intervals are made. */
export interface QualityOptions {
  /** Two-sided confidence of both intervals (0.95). */
  confidence: number;
  /** Bootstrap resamples (1000) and the PRNG seed (7). */
  resamples: number;
  seed: number;
  /** The bootstrap reads at most this many labelled rows (an even subsample beyond). */
  maxBootstrapRows: number;
  /** Below this many labelled rows a note says the figures are unsteady. */
  minLabelled: number;
}

export const DEFAULT_QUALITY_OPTIONS: QualityOptions = {
  confidence: 0.95,
  resamples: 1000,
  seed: 7,
  maxBootstrapRows: 10_000,
  minLabelled: 30,
};

/**
 * The standard normal quantile (Acklam's rational approximation, relative error below 1.2e-9).
 * simple-statistics' `probit` is 1.4e-3 off at 0.975 (1.9572 for 1.9600), too far for an interval.
 */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`p must be in (0, 1), got ${p}`);
  const a = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716,
    2.506628277459239,
  ];
  const b = [
    -54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972,
    -13.28068155288572,
  ];
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734,
    4.374664141464968, 2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const poly = (k: readonly number[], x: number): number => k.reduce((acc, v) => acc * x + v, 0);
  const low = 0.02425;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    return poly(c, q) / (poly(d, q) * q + 1);
  }
  if (p > 1 - low) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return (poly(a, r) * q) / (poly(b, r) * r + 1);
}

/** The Wilson score interval of `correct` successes out of `n`. */
export function wilsonInterval(correct: number, n: number, confidence: number): Interval {
  if (n <= 0) throw new RangeError('a Wilson interval needs at least one row');
  const z = normalQuantile(1 - (1 - confidence) / 2);
  const p = correct / n;
  const z2 = z * z;
  const denominator = 1 + z2 / n;
  const center = (p + z2 / (2 * n)) / denominator;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denominator;
  return { estimate: p, low: Math.max(0, center - half), high: Math.min(1, center + half) };
}

/**
 * Macro-F1 of a confusion matrix (`confusion[t][p]`) over `k` classes: the mean over classes of
 * F1, a class never predicted and never true counting 0 (scikit-learn's `zero_division=0`, as
 * `scoreClassification` does).
 */
export function macroF1(confusion: Float64Array, k: number): number {
  let sum = 0;
  for (let c = 0; c < k; c++) {
    let support = 0;
    let predicted = 0;
    for (let j = 0; j < k; j++) {
      support += confusion[c * k + j] as number;
      predicted += confusion[j * k + c] as number;
    }
    const tp = confusion[c * k + c] as number;
    const precision = predicted === 0 ? 0 : tp / predicted;
    const recall = support === 0 ? 0 : tp / support;
    sum += precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  }
  return k === 0 ? 0 : sum / k;
}

/**
 * Live quality from a window's counts. The macro average runs over the version's classes (the
 * counts' `classes`, and `classes` when the caller knows more), and any label or prediction
 * outside them: a class of the version that is never true and never predicted counts 0.
 */
export function liveQuality(
  counts: QualityCounts,
  classes: readonly string[] = [],
  options: QualityOptions = DEFAULT_QUALITY_OPTIONS,
): LiveQuality {
  const names: string[] = [];
  for (const name of [...counts.classes, ...classes]) if (!names.includes(name)) names.push(name);
  for (const cell of counts.confusion) {
    for (const name of [cell.label, cell.predicted]) if (!names.includes(name)) names.push(name);
  }
  const k = names.length;
  const index = new Map(names.map((n, i) => [n, i]));
  const labelled = counts.confusion.reduce((n, cell) => n + cell.rows, 0);
  const notes: string[] = [];
  if (counts.sampleRate < 1) {
    notes.push(
      `computed from a sample: ${Math.round(counts.sampleRate * 1000) / 10}% of the rows were recorded`,
    );
  }
  if (labelled > 0 && labelled < options.minLabelled) {
    notes.push(`only ${labelled} labelled rows: the intervals are wide`);
  }
  let accuracy: LiveQuality['accuracy'] = null;
  let f1: LiveQuality['macroF1'] = null;
  if (labelled > 0) {
    const correct = counts.confusion.reduce(
      (n, c) => n + (c.label === c.predicted ? c.rows : 0),
      0,
    );
    accuracy = wilsonInterval(correct, labelled, options.confidence);
    // Rows as (true, predicted) class indices, an even subsample past the bootstrap's limit.
    const stride = Math.max(1, Math.ceil(labelled / options.maxBootstrapRows));
    const truth: number[] = [];
    const predicted: number[] = [];
    let i = 0;
    for (const cell of counts.confusion) {
      for (let r = 0; r < cell.rows; r++, i++) {
        if (i % stride !== 0) continue;
        truth.push(index.get(cell.label) as number);
        predicted.push(index.get(cell.predicted) as number);
      }
    }
    if (stride > 1)
      notes.push(`the macro-F1 interval is from an even sample of ${truth.length} labelled rows`);
    const confusion = new Float64Array(k * k);
    const statistic = (rows: readonly number[]): number => {
      confusion.fill(0);
      for (const r of rows) {
        const at = (truth[r] as number) * k + (predicted[r] as number);
        confusion[at] = (confusion[at] as number) + 1;
      }
      return macroF1(confusion, k);
    };
    const b = percentileBootstrap(truth.length, statistic, {
      resamples: options.resamples,
      seed: options.seed,
      confidence: options.confidence,
    });
    const full = new Float64Array(k * k);
    for (const cell of counts.confusion) {
      const at = (index.get(cell.label) as number) * k + (index.get(cell.predicted) as number);
      full[at] = (full[at] as number) + cell.rows;
    }
    f1 = {
      estimate: macroF1(full, k),
      low: b.low,
      high: b.high,
      resamples: b.resamples,
      seed: b.seed,
      fromRows: truth.length,
    };
  }
  const predictedShare = Object.fromEntries(
    Object.entries(counts.predicted).map(([name, n]) => [
      name,
      counts.rows === 0 ? 0 : n / counts.rows,
    ]),
  );
  return {
    model: counts.model,
    version: counts.version,
    pin: counts.pin,
    rows: counts.rows,
    labelled,
    sampleRate: counts.sampleRate,
    accuracy,
    macroF1: f1,
    predictedShare,
    notes,
  };
}
