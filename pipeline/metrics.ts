/**
 * Classification metrics: accuracy, macro-averaged precision, recall and F1, per-class figures
 * and the confusion matrix. A class never predicted has precision 0 (scikit-learn's
 * `zero_division=0`), so macro figures never divide by zero.
 */
import type { Label } from './label.ts';

export interface ClassMetrics {
  class: Label;
  precision: number;
  recall: number;
  f1: number;
  /** Rows of this class in the scored set. */
  support: number;
}

export interface Metrics {
  rows: number;
  accuracy: number;
  macroPrecision: number;
  macroRecall: number;
  macroF1: number;
  perClass: ClassMetrics[];
  /** `confusion[t][p]`: rows of true class t predicted as p, in `classes` order. */
  confusion: number[][];
}

/** Rounds to 12 significant decimals so figures are stable text across platforms. */
export function round(x: number): number {
  return Number(x.toPrecision(12));
}

/** Scores predicted class indices against true ones. */
export function scoreClassification(
  yTrue: readonly number[],
  yPred: readonly number[],
  classes: readonly Label[],
): Metrics {
  if (yTrue.length !== yPred.length) {
    throw new RangeError(`yTrue has ${yTrue.length} rows but yPred has ${yPred.length}`);
  }
  const k = classes.length;
  const confusion = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (let i = 0; i < yTrue.length; i++) {
    const t = yTrue[i] ?? -1;
    const p = yPred[i] ?? -1;
    const row = confusion[t];
    if (!row || p < 0 || p >= k) throw new RangeError(`row ${i}: class index out of range`);
    row[p] = (row[p] ?? 0) + 1;
  }
  return metricsOfConfusion(confusion, classes);
}

/**
 * The metrics of a confusion matrix (`confusion[t][p]`, in `classes` order): what
 * {@link scoreClassification} computes, for callers that count as they go (batch scoring).
 */
export function metricsOfConfusion(
  confusion: readonly (readonly number[])[],
  classes: readonly Label[],
): Metrics {
  const k = classes.length;
  let rows = 0;
  let correct = 0;
  for (let t = 0; t < k; t++) {
    for (let p = 0; p < k; p++) rows += confusion[t]?.[p] ?? 0;
    correct += confusion[t]?.[t] ?? 0;
  }
  const perClass = classes.map((label, c): ClassMetrics => {
    const tp = confusion[c]?.[c] ?? 0;
    const support = (confusion[c] ?? []).reduce((a, b) => a + b, 0);
    const predicted = confusion.reduce((a, row) => a + (row[c] ?? 0), 0);
    const precision = predicted === 0 ? 0 : tp / predicted;
    const recall = support === 0 ? 0 : tp / support;
    const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
    return {
      class: label,
      precision: round(precision),
      recall: round(recall),
      f1: round(f1),
      support,
    };
  });
  const mean = (f: (m: ClassMetrics) => number): number =>
    round(perClass.reduce((a, m) => a + f(m), 0) / Math.max(1, k));
  return {
    rows,
    accuracy: round(rows === 0 ? 0 : correct / rows),
    macroPrecision: mean((m) => m.precision),
    macroRecall: mean((m) => m.recall),
    macroF1: mean((m) => m.f1),
    perClass,
    confusion: confusion.map((row) => [...row]),
  };
}

/** Macro-F1 (scikit-learn's `zero_division=0`) over a sample of rows, without building metrics. */
export function macroF1Of(
  yTrue: readonly number[],
  yPred: readonly number[],
  rows: readonly number[],
  classes: number,
): number {
  const tp = new Float64Array(classes);
  const predicted = new Float64Array(classes);
  const support = new Float64Array(classes);
  for (const i of rows) {
    const t = yTrue[i] as number;
    const p = yPred[i] as number;
    support[t] = (support[t] ?? 0) + 1;
    predicted[p] = (predicted[p] ?? 0) + 1;
    if (t === p) tp[t] = (tp[t] ?? 0) + 1;
  }
  let sum = 0;
  for (let c = 0; c < classes; c++) {
    const hit = tp[c] ?? 0;
    const precision = predicted[c] ? hit / (predicted[c] ?? 1) : 0;
    const recall = support[c] ? hit / (support[c] ?? 1) : 0;
    sum += precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  }
  return sum / Math.max(1, classes);
}
