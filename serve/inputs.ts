/**
 * Request bodies for `POST /predict` and how a model's signature turns them into rows: the zod
 * schemas here validate every request and are also what `/openapi.json` is generated from.
 */
import { z } from 'zod';

import { RequestError, describeValue, invalidInput } from './errors.ts';

/** One row: every feature of the signature, each a finite number, nothing else. */
export type RowSchema = z.ZodType<Record<string, number>>;

/** The row schema of a signature (z.number() refuses NaN and ±Infinity, e.g. `1e999`). */
export function rowSchema(features: readonly string[]): RowSchema {
  const shape: Record<string, z.ZodNumber> = Object.fromEntries(
    features.map((f) => [f, z.number()]),
  );
  return z.strictObject(shape);
}

/** A model version as a request may name it: `3` or `"3"`. */
export const versionSchema = z.union([
  z.int().min(1),
  z.string().regex(/^[1-9]\d{0,15}$/, 'must be a positive integer'),
]);

/** `POST /predict` and `POST /models/{name}/predict`, for a row schema and a batch limit. */
export function predictRequestSchema(row: z.ZodType, batchLimit: number) {
  return z.strictObject({
    model: z
      .string()
      .optional()
      .describe('The model to ask; optional when the server serves one model, or in the path.'),
    version: versionSchema
      .optional()
      .describe('Only answer if this is the version served (else 404 version_not_found).'),
    id: z.string().max(256).optional().describe('Echoed in the response.'),
    inputs: z
      .union([row, z.array(row).min(1).max(batchLimit)])
      .describe('One row of features, or a batch (a list of rows) answered in order.'),
  });
}

/** The envelope of a predict request, before the model is known. */
export interface PredictEnvelope {
  model: string | undefined;
  version: number | undefined;
  id: string | undefined;
  inputs: unknown;
}

const ENVELOPE_KEYS = new Set(['model', 'version', 'id', 'inputs']);

/** Checks the fields around `inputs`; the rows are read once the model is known. */
export function readEnvelope(body: unknown): PredictEnvelope {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new RequestError(
      'invalid_input',
      `the body must be a JSON object such as {"inputs": {...features}}, got ${describeValue(body)}`,
      '(body)',
    );
  }
  const b = body as Record<string, unknown>;
  for (const key in b) {
    if (!ENVELOPE_KEYS.has(key)) {
      throw invalidInput(key, 'is not a field of a predict request (model, version, id, inputs)');
    }
  }
  if (b.model !== undefined && typeof b.model !== 'string') {
    throw invalidInput('model', `must be a model name (a string), got ${describeValue(b.model)}`);
  }
  let version: number | undefined;
  if (b.version !== undefined) {
    const v = versionSchema.safeParse(b.version);
    if (!v.success) {
      throw invalidInput('version', `must be a positive integer, got ${describeValue(b.version)}`);
    }
    version = Number(v.data);
  }
  if (b.id !== undefined && (typeof b.id !== 'string' || b.id.length > 256)) {
    throw invalidInput('id', 'must be a string of at most 256 characters');
  }
  if (b.inputs === undefined) {
    throw invalidInput('inputs', 'is missing: send one row {"feature": number, ...} or a list');
  }
  return { model: b.model, version, id: b.id, inputs: b.inputs };
}

/** Reads a model's rows from a request: one object, or a list of 1 to `batchLimit` objects. */
export interface RowReader {
  readonly features: readonly string[];
  readonly row: RowSchema;
  /** The rows as feature vectors in signature order; `batch` says whether a list was sent. */
  read(
    inputs: unknown,
    field: string,
    batchLimit: number,
  ): { rows: Float64Array[]; batch: boolean };
}

/** The reader for a signature's features. */
export function rowReader(features: readonly string[]): RowReader {
  const row = rowSchema(features);
  const d = features.length;
  const index = new Map(features.map((f, j) => [f, j]));
  const toRow = (value: unknown, field: string): Float64Array => {
    const out = new Float64Array(d);
    if (readPlainRow(value, index, out)) return out;
    // Anything else: zod decides, and names the first problem.
    const parsed = row.safeParse(value);
    if (!parsed.success) throw rowProblem(parsed.error, value, field, features);
    for (let j = 0; j < d; j++) out[j] = parsed.data[features[j] as string] as number;
    return out;
  };
  return {
    features,
    row,
    read(inputs, field, batchLimit) {
      if (!Array.isArray(inputs)) return { rows: [toRow(inputs, field)], batch: false };
      if (inputs.length === 0)
        throw invalidInput(field, 'is an empty batch: send at least one row');
      if (inputs.length > batchLimit) {
        throw new RequestError(
          'invalid_input',
          `${field}: a batch of ${inputs.length} rows is over this server's limit of ${batchLimit}: split it`,
          field,
        );
      }
      return { rows: inputs.map((v, i) => toRow(v, `${field}[${i}]`)), batch: true };
    },
  };
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
