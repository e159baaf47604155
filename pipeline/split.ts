/**
 * The hold-out split and the cross-validation folds, both decided by seeded hashes of row
 * content rather than by shuffling positions: a row keeps its side when other rows are added,
 * removed or reordered, so production's training rows never leak into the hold-out that a
 * later candidate is compared on, and identical rows always fall on the same side.
 */
import { sha256 } from './json.ts';

/** The parts of a dataset the split reads. */
export interface SplitInput {
  /** Canonical content of each row (features and label). */
  rowKeys: readonly string[];
  /** Class index of each row. */
  y: readonly number[];
}

export interface SplitSpec {
  /** Fraction of each class to hold out, in (0, 1). */
  holdout: number;
  /** Number of stratified folds on the training part. */
  folds: number;
  seed: number;
}

export interface Split {
  /** Row indices used for cross-validation and the final fit, ascending. */
  train: number[];
  /** Row indices scored once, ascending. */
  holdout: number[];
  /** `folds[k]` lists the training rows validated in fold k, ascending. */
  folds: number[][];
}

/** A uniform number in [0, 1) from a seeded hash of `parts` (52 bits of SHA-256). */
export function hashUnit(...parts: readonly (string | number)[]): number {
  const hex = sha256(parts.join('\u0000')).slice(0, 13);
  return parseInt(hex, 16) / 2 ** 52;
}

/** Whether a row with this content falls in the hold-out, before the per-class safeguard. */
export function isHoldoutRow(rowKey: string, seed: number, fraction: number): boolean {
  return hashUnit('pinml-holdout-v1', seed, rowKey) < fraction;
}

/**
 * Splits rows into training and hold-out, then the training rows into stratified folds.
 *
 * A row is held out when its hash falls under `holdout`, independently of every other row.
 * Safeguard for small classes: a class with no hold-out row gives up the row with the smallest
 * hash, and a class with no training row keeps the row with the largest, so every class is
 * scored and trained on; only such degenerate classes can move when data changes.
 */
export function splitRows(input: SplitInput, spec: SplitSpec): Split {
  const n = input.rowKeys.length;
  const u = input.rowKeys.map((key) => hashUnit('pinml-holdout-v1', spec.seed, key));
  const isHoldout = u.map((v) => v < spec.holdout);
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const c = input.y[i] ?? 0;
    let rows = byClass.get(c);
    if (!rows) byClass.set(c, (rows = []));
    rows.push(i);
  }
  const classes = [...byClass.keys()].sort((a, b) => a - b);
  for (const c of classes) {
    const rows = byClass.get(c) ?? [];
    if (rows.length < 2) continue;
    const byU = [...rows].sort((a, b) => (u[a] ?? 0) - (u[b] ?? 0) || a - b);
    if (!rows.some((i) => isHoldout[i])) isHoldout[byU[0] ?? 0] = true;
    if (rows.every((i) => isHoldout[i])) isHoldout[byU[byU.length - 1] ?? 0] = false;
  }
  const train: number[] = [];
  const holdout: number[] = [];
  for (let i = 0; i < n; i++) (isHoldout[i] ? holdout : train).push(i);

  // Folds: within each class, order the training rows by a second hash and deal them out;
  // the dealing continues across classes so fold sizes differ by at most one row.
  const folds: number[][] = Array.from({ length: spec.folds }, () => []);
  let dealt = 0;
  for (const c of classes) {
    const rows = (byClass.get(c) ?? []).filter((i) => !isHoldout[i]);
    const keyed = rows.map((i) => ({
      i,
      h: hashUnit('pinml-fold-v1', spec.seed, input.rowKeys[i] ?? ''),
    }));
    keyed.sort((a, b) => a.h - b.h || a.i - b.i);
    for (const { i } of keyed) folds[dealt++ % spec.folds]?.push(i);
  }
  for (const fold of folds) fold.sort((a, b) => a - b);
  return { train, holdout, folds };
}
