/**
 * How a model's signature turns what a request sent into rows (feature vectors in signature
 * order), for every protocol: a row as an object of features (pinml, MLflow, KServe), as an
 * array in signature order (MLflow's and KServe's `instances`/`inputs`), or columns of values
 * (MLflow's `inputs` as a dict, `dataframe_split`). Every refusal names the field.
 */
import { z } from 'zod';

import { RequestError, describeValue, invalidInput } from '../http/errors.ts';

/** One row: every feature of the signature, each a finite number, nothing else. */
export type RowSchema = z.ZodType<Record<string, number>>;

/** The row schema of a signature (z.number() refuses NaN and ±Infinity, e.g. `1e999`). */
export function rowSchema(features: readonly string[]): RowSchema {
  const shape: Record<string, z.ZodNumber> = Object.fromEntries(
    features.map((f) => [f, z.number()]),
  );
  return z.strictObject(shape);
}

/** Reads a model's rows from what a request sent. */
export interface RowReader {
  readonly features: readonly string[];
  /** The schema of one row as an object (for the OpenAPI document). */
  readonly row: RowSchema;
  /**
   * One row: an object of every feature, or (`positional`) also an array of one number per
   * feature in signature order.
   */
  one(value: unknown, field: string, positional?: boolean): Float64Array;
  /** A list of 1 to `batchLimit` rows, each as {@link one} reads it. */
  list(value: unknown, field: string, batchLimit: number, positional?: boolean): Float64Array[];
  /**
   * Columns: every feature named once with a list of values (`{"f": [1, 2]}`), or `names` and
   * rows of values in that order (`dataframe_split`'s `columns` and `data`).
   */
  columns(
    columns: readonly string[],
    values: (j: number) => readonly unknown[],
    field: (j: number, i: number) => string,
    batchLimit: number,
  ): Float64Array[];
}

/** Checks a batch's size: at least one row, at most `batchLimit`. */
export function checkBatch(n: number, field: string, batchLimit: number): void {
  if (n === 0) throw invalidInput(field, 'is an empty batch: send at least one row');
  if (n > batchLimit) {
    throw new RequestError(
      'invalid_input',
      `${field}: a batch of ${n} rows is over this server's limit of ${batchLimit}: split it`,
      field,
    );
  }
}

/** The reader for a signature's features. */
export function rowReader(features: readonly string[]): RowReader {
  const row = rowSchema(features);
  const d = features.length;
  const index = new Map(features.map((f, j) => [f, j]));
  const list = features.join(', ');
  const objectRow = (value: unknown, field: string): Float64Array => {
    const out = new Float64Array(d);
    if (readPlainRow(value, index, out)) return out;
    // Anything else: zod decides, and names the first problem.
    const parsed = row.safeParse(value);
    if (!parsed.success) throw rowProblem(parsed.error, value, field, features);
    for (let j = 0; j < d; j++) out[j] = parsed.data[features[j] as string] as number;
    return out;
  };
  const one = (value: unknown, field: string, positional = false): Float64Array => {
    if (!positional || !Array.isArray(value)) return objectRow(value, field);
    if (value.length !== d) {
      throw invalidInput(
        field,
        `has ${value.length} values; a row in signature order has ${d} (${list})`,
      );
    }
    const out = new Float64Array(d);
    for (let j = 0; j < d; j++) out[j] = finite(value[j], `${field}[${j}]`);
    return out;
  };
  return {
    features,
    row,
    one,
    list(value, field, batchLimit, positional = false) {
      if (!Array.isArray(value)) {
        throw invalidInput(field, `must be a list of rows, got ${describeValue(value)}`);
      }
      checkBatch(value.length, field, batchLimit);
      return value.map((v, i) => one(v, `${field}[${i}]`, positional));
    },
    columns(columns, values, field, batchLimit) {
      const at = new Int32Array(d).fill(-1);
      columns.forEach((name, j) => {
        const f = index.get(name);
        if (f === undefined) {
          throw invalidInput(
            field(j, -1),
            `${JSON.stringify(name)} is not a feature (features: ${list})`,
          );
        }
        if (at[f] !== -1) throw invalidInput(field(j, -1), `${name} is sent twice`);
        at[f] = j;
      });
      const missing = features.filter((_, f) => at[f] === -1);
      if (missing.length > 0) {
        throw invalidInput(field(-1, -1), `is missing ${missing.join(', ')} (features: ${list})`);
      }
      const cols = features.map((_, f) => values(at[f] as number));
      const n = (cols[0] as readonly unknown[]).length;
      checkBatch(n, field(-1, -1), batchLimit);
      const out = Array.from({ length: n }, () => new Float64Array(d));
      cols.forEach((col, f) => {
        const j = at[f] as number;
        if (col.length !== n) {
          throw invalidInput(field(j, -1), `has ${col.length} values; the first column has ${n}`);
        }
        for (let i = 0; i < n; i++) (out[i] as Float64Array)[f] = finite(col[i], field(j, i));
      });
      return out;
    },
  };
}

/** A finite number, else a 400 naming the field. */
export function finite(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw invalidInput(field, `must be a finite number, got ${describeValue(value)}`);
  }
  return value;
}

/**
 * Reads a row that is exactly what the row schema accepts (an object of every feature, each a
 * finite number, nothing else) into `out`, in signature order, without zod: the common case,
 * on every request. False for anything else, which is then zod's to judge.
 */
function readPlainRow(
  value: unknown,
  index: ReadonlyMap<string, number>,
  out: Float64Array,
): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const v = value as Record<string, unknown>;
  let seen = 0;
  for (const key in v) {
    const j = index.get(key);
    const x = v[key];
    if (j === undefined || typeof x !== 'number' || !Number.isFinite(x)) return false;
    out[j] = x;
    seen++;
  }
  return seen === out.length;
}

/** The first problem zod found in a row, as one message naming the field. */
function rowProblem(
  error: z.ZodError,
  value: unknown,
  field: string,
  features: readonly string[],
): RequestError {
  const list = features.join(', ');
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return invalidInput(
      field,
      `must be an object of features {${features.map((f) => `"${f}": number`).join(', ')}}, got ${describeValue(value)}`,
    );
  }
  const issue = error.issues[0];
  const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more problems)` : '';
  if (issue?.code === 'unrecognized_keys') {
    const key = issue.keys[0] ?? '';
    return invalidInput(
      `${field}.${key}`,
      `is not a feature of this model (features: ${list})${more}`,
    );
  }
  const name = String(issue?.path[0] ?? '');
  const got = (value as Record<string, unknown>)[name];
  if (got === undefined) {
    return invalidInput(`${field}.${name}`, `is missing (features: ${list})${more}`);
  }
  return invalidInput(
    `${field}.${name}`,
    `must be a finite number, got ${describeValue(got)}${more}`,
  );
}
