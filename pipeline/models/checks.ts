/**
 * The checks every model family makes, kept in one place so the families agree: the artifact
 * header (kind, format version, features, classes), training input and prediction rows, plus
 * the small value tests and the message formatting they use.
 */
import { ModelFormatError, PinmlError } from '../errors.ts';
import type { Label } from '../label.ts';
import type { FitSpec, ModelArtifact } from './types.ts';

/**
 * A thrower for one artifact kind: `fail(field, message)` throws a `ModelFormatError`
 * "`<kind>` artifact: `<field>` `<message>`" with data `{ kind, field }`.
 */
export function artifactFailure(kind: string): (field: string, message: string) => never {
  return (field, message) => {
    throw new ModelFormatError(`${kind} artifact: ${field} ${message}`, { kind, field });
  };
}

/**
 * The fields every artifact carries; refuses another kind or a format version above
 * `supported` (`ModelFormatError` naming the first bad field).
 */
export function readArtifactHeader(value: unknown, kind: string, supported: number): ModelArtifact {
  if (!isRecord(value)) throw new ModelFormatError(`${kind} artifact: must be a JSON object`);
  const fail = artifactFailure(kind);
  if (value.kind !== kind) fail('kind', `must be "${kind}", got ${show(value.kind)}`);
  const v = value.formatVersion;
  if (v === undefined) fail('formatVersion', 'is missing');
  if (!isInt(v, 1)) fail('formatVersion', `must be a positive integer, got ${show(v)}`);
  if ((v as number) > supported) {
    fail(
      'formatVersion',
      `is ${show(v)} but this pinml reads up to ${supported}: this artifact was written by a newer pinml; upgrade`,
    );
  }
  const { features, classes } = value;
  if (
    !Array.isArray(features) ||
    features.length === 0 ||
    !features.every((f) => typeof f === 'string')
  ) {
    fail('features', 'must be a non-empty list of feature names');
  }
  if (new Set(features as string[]).size !== (features as string[]).length) {
    fail('features', 'must not repeat a name');
  }
  if (!Array.isArray(classes) || classes.length < 2 || !classes.every(isLabel)) {
    fail('classes', 'must list at least 2 labels (strings or finite numbers)');
  }
  if (new Set(classes as Label[]).size !== (classes as Label[]).length) {
    fail('classes', 'must not repeat a label');
  }
  return value as ModelArtifact;
}

/**
 * Refuses training input that does not match the spec (a caller's bug, not the user's data):
 * `PinmlError` `E_TRAINING`, or `E_DATA` for a bad row (see {@link checkRows}).
 */
export function checkFitInputs(
  rows: readonly (readonly number[])[],
  y: readonly number[],
  spec: FitSpec<unknown>,
): void {
  const fail = (message: string): never => {
    throw new PinmlError('E_TRAINING', `cannot train: ${message}`);
  };
  if (spec.features.length === 0) fail('there are no features');
  if (spec.classes.length < 2) fail(`there must be at least 2 classes, got ${spec.classes.length}`);
  if (rows.length === 0) fail('there are no training rows');
  if (y.length !== rows.length) fail(`${rows.length} rows but ${y.length} labels`);
  checkRows(rows, spec.features);
  const k = spec.classes.length;
  y.forEach((c, i) => {
    if (!isInt(c, 0) || c >= k) fail(`label ${i} is ${show(c)}, not a class index below ${k}`);
  });
}

/**
 * Each row must have one finite number per feature; otherwise a `PinmlError` `E_DATA` naming
 * the row (and the feature).
 */
export function checkRows(rows: readonly (readonly number[])[], features: readonly string[]): void {
  rows.forEach((row, i) => {
    if (row.length !== features.length) {
      throw new PinmlError(
        'E_DATA',
        `row ${i} has ${row.length} values; the model expects ${features.length} (${features.join(', ')})`,
        { row: i },
      );
    }
    const j = row.findIndex((x) => !Number.isFinite(x));
    if (j >= 0) {
      throw new PinmlError(
        'E_DATA',
        `row ${i}, feature ${features[j]}: ${row[j]} is not a finite number`,
        {
          row: i,
          column: features[j],
        },
      );
    }
  });
}

/** A plain JSON object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A safe integer no less than `min`. */
export function isInt(value: unknown, min = -Infinity): value is number {
  return Number.isSafeInteger(value) && (value as number) >= min;
}

/** A number other than NaN or ±Infinity. */
export function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function isLabel(value: unknown): value is Label {
  return typeof value === 'string' || isFiniteNumber(value);
}

/** A value as JSON for a message, cut short; `nothing` for a missing one. */
export function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  let text: string;
  try {
    text = JSON.stringify(value) ?? typeof value;
  } catch {
    text = typeof value;
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
