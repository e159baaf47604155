/**
 * MLflow's scoring server protocol (`mlflow models serve`, MLflow 2 and 3), which is also
 * SageMaker's container contract: `POST /invocations` takes JSON with exactly one of
 * `dataframe_split`, `dataframe_records`, `instances` or `inputs` (rows as objects or as arrays
 * in signature order; `inputs` also as columns), or `text/csv` with a header row, and answers
 * `{"predictions": [class, ...]}` as MLflow does for a classifier. `GET /ping` answers 200 when
 * ready (503 when not), `GET /version` the server's version. Errors keep pinml's fields and add
 * MLflow's `error_code` and `message`.
 *
 * With several models served, `/invocations` is told which by the `X-Pinml-Model` header or the
 * `model` query parameter (`iris`, or `iris@3` to insist on a version).
 */
import { respond } from '../answer/respond.ts';
import { z } from '@hono/zod-openapi';
import { CsvError, parse } from 'csv-parse/sync';

import { answerPrediction, labelOf, type Asked, type Protocol } from '../answer/answer.ts';
import { versionOf } from '../answer/pick.ts';
import type { AppContext } from '../deps.ts';
import { notReadyReasons } from '../follow/reconcile.ts';
import type { ServedModel } from '../follow/load-registry.ts';
import { bodyLimitFor, bodyText, limitBody, parseJsonBody, JSON_TYPE } from '../http/body.ts';
import { RequestError, describeValue, invalidInput, type ErrorBody } from '../http/errors.ts';
import { declare, errorResponses, jsonBodyOf, jsonResponse, type Routes } from './declare.ts';
import { tfServingRows } from './tf-serving.ts';

/** The header that names the model on `/invocations` when several are served. */
export const MODEL_HEADER = 'X-Pinml-Model';

const FORMATS = ['dataframe_split', 'dataframe_records', 'instances', 'inputs'] as const;
type Format = (typeof FORMATS)[number];

/** What an `/invocations` body asks. */
type Invocation = Asked &
  ({ format: Format; data: unknown } | { format: 'csv'; header: string[]; rows: string[][] });

/** MLflow's `error_code` for a pinml error code (its `databricks_pb2` codes). */
function errorCodeOf(code: ErrorBody['code']): string {
  switch (code) {
    case 'invalid_json':
      return 'MALFORMED_REQUEST';
    case 'model_not_found':
    case 'version_not_found':
    case 'not_found':
      return 'RESOURCE_DOES_NOT_EXIST';
    case 'model_not_ready':
      return 'TEMPORARILY_UNAVAILABLE';
    case 'internal':
      return 'INTERNAL_ERROR';
    default:
      return 'BAD_REQUEST';
  }
}

/** An error body as MLflow's scoring server writes it, with pinml's fields kept. */
export function mlflowErrorBody(body: ErrorBody): object {
  return { ...body, error_code: errorCodeOf(body.code), message: body.error };
}

function readJson(body: unknown): Invocation {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new RequestError(
      'invalid_input',
      `the body must be a JSON object with exactly one of ${FORMATS.join(', ')}, got ${describeValue(body)}`,
      '(body)',
    );
  }
  const b = body as Record<string, unknown>;
  const given = FORMATS.filter((f) => b[f] !== undefined);
  const other = Object.keys(b).filter(
    (k) => k !== 'params' && !(FORMATS as readonly string[]).includes(k),
  );
  if (given.length !== 1 || other.length > 0) {
    throw new RequestError(
      'invalid_input',
      `the body must have exactly one of the input fields ${FORMATS.join(', ')} (and optionally params); ` +
        `got ${Object.keys(b).join(', ') || 'none'}`,
      other[0] ?? given[1] ?? '(body)',
    );
  }
  const params = b.params;
  if (
    params !== undefined &&
    (typeof params !== 'object' || params === null || Object.keys(params).length > 0)
  ) {
    throw invalidInput('params', 'this model takes no inference parameters: leave params out');
  }
  const format = given[0] as Format;
  return { format, data: b[format] };
}

function readCsv(text: string): Invocation {
  let records: string[][];
  try {
    const options = { bom: true, skip_empty_lines: true, trim: true };
    records = parse(text, options);
  } catch (err) {
    const message = err instanceof CsvError ? err.message : String(err);
    throw new RequestError('invalid_input', `the CSV body cannot be read: ${message}`, '(body)');
  }
  const [header, ...rows] = records;
  if (header === undefined) {
    throw new RequestError(
      'invalid_input',
      'the CSV body is empty: send a header row and rows',
      '(body)',
    );
  }
  return { format: 'csv', header, rows };
}

/** A CSV cell as a number; the field names its line (the header is line 1) and column. */
function csvNumber(cell: string | undefined, line: number, column: string): number {
  const x = cell === undefined || cell === '' ? Number.NaN : Number(cell);
  if (!Number.isFinite(x)) {
    throw invalidInput(
      `line ${line}, column ${column}`,
      `must be a finite number, got ${cell === undefined || cell === '' ? 'an empty cell' : JSON.stringify(cell.slice(0, 40))}`,
    );
  }
  return x;
}

function rowsOf(request: Invocation, model: ServedModel, batchLimit: number): Float64Array[] {
  const reader = model.inputs;
  if (request.format === 'csv') {
    const { header, rows } = request;
    rows.forEach((cells, i) => {
      if (cells.length !== header.length) {
        throw invalidInput(
          `line ${i + 2}`,
          `has ${cells.length} cells; the header has ${header.length}`,
        );
      }
    });
    return reader.columns(
      header,
      (j) => rows.map((cells, i) => csvNumber(cells[j], i + 2, header[j] ?? '')),
      (j) => (j < 0 ? '(body)' : `column ${header[j] ?? ''}`),
      batchLimit,
    );
  }
  const { format, data } = request;
  switch (format) {
    case 'dataframe_records':
      return reader.list(data, format, batchLimit);
    case 'instances':
    case 'inputs':
      return tfServingRows(data, format, reader, batchLimit);
    case 'dataframe_split': {
      if (typeof data !== 'object' || data === null || Array.isArray(data)) {
        throw invalidInput(
          format,
          `must be {"columns": [...], "data": [[...], ...]}, got ${describeValue(data)}`,
        );
      }
      const split = data as { columns?: unknown; data?: unknown };
      if (split.columns === undefined)
        return reader.list(split.data, `${format}.data`, batchLimit, true);
      if (!Array.isArray(split.columns) || !split.columns.every((c) => typeof c === 'string')) {
        throw invalidInput(`${format}.columns`, 'must be a list of column names');
      }
      const columns = split.columns;
      const rows = split.data;
      if (!Array.isArray(rows)) throw invalidInput(`${format}.data`, 'must be a list of rows');
      rows.forEach((r, i) => {
        if (!Array.isArray(r) || r.length !== columns.length) {
          throw invalidInput(
            `${format}.data[${i}]`,
            `must be a list of ${columns.length} values, one per column`,
          );
        }
      });
      return reader.columns(
        columns,
        (j) => rows.map((r) => (r as unknown[])[j]),
        (j, i) =>
          j < 0 ? format : i < 0 ? `${format}.columns[${j}]` : `${format}.data[${i}][${j}]`,
        batchLimit,
      );
    }
  }
}

const mlflowProtocol: Protocol<Invocation> = {
  modelField: MODEL_HEADER,
  read: (body) => body as Invocation,
  rows: rowsOf,
  answer: (_request, model, p) => ({
    predictions: Array.from({ length: p.rows }, (_, i) => labelOf(model, p, i)),
  }),
};

/** The model `/invocations` is asked for: `X-Pinml-Model` or `?model=` (`iris` or `iris@3`). */
function askedModel(c: AppContext): Asked {
  const text = c.req.header(MODEL_HEADER) ?? c.req.query('model');
  if (text === undefined || text === '') return {};
  const at = text.lastIndexOf('@');
  return at < 0
    ? { model: text }
    : { model: text.slice(0, at), version: versionOf(text.slice(at + 1)) };
}

/** Reads the body by its content type: JSON or CSV, UTF-8 only (415 for anything else). */
async function readInvocation(c: AppContext): Promise<Invocation> {
  const type = c.req.header('content-type') ?? '';
  const charset = /;\s*charset=([^;\s]+)/i.exec(type)?.[1];
  if (charset !== undefined && charset.toLowerCase() !== 'utf-8') {
    throw new RequestError(
      'unsupported_media_type',
      `only UTF-8 bodies are read, not charset ${charset}`,
      '(content-type)',
    );
  }
  if (JSON_TYPE.test(type)) return readJson(parseJsonBody(await bodyText(c)));
  if (/^text\/csv\s*(?:;|$)/i.test(type)) return readCsv(await bodyText(c));
  throw new RequestError(
    'unsupported_media_type',
    `/invocations takes application/json or text/csv, not ${type === '' ? 'no content type' : JSON.stringify(type)}`,
    '(content-type)',
  );
}

const splitSchema = z.object({
  columns: z.array(z.string()).optional(),
  data: z.array(z.array(z.number())),
});
const rowsSchema = z.array(z.union([z.record(z.string(), z.number()), z.array(z.number())]));
const invocationSchema = z
  .union([
    z.object({ dataframe_split: splitSchema }),
    z.object({ dataframe_records: z.array(z.record(z.string(), z.number())) }),
    z.object({ instances: rowsSchema }),
    z.object({ inputs: z.union([rowsSchema, z.record(z.string(), z.array(z.number()))]) }),
  ])
  .openapi('MlflowInvocation');

/** The routes. */
export const mlflowRoutes: Routes = (app, deps) => {
  const tags = ['MLflow scoring protocol'];
  const errors = (c: AppContext, next: () => Promise<void>): Promise<void> => {
    c.set('errorBody', mlflowErrorBody);
    return next();
  };
  declare(
    app,
    {
      method: 'post',
      path: '/invocations',
      tags,
      summary: 'Predict (MLflow): class labels for rows given as JSON or CSV',
      request: {
        query: z.object({ model: z.string().optional() }),
        body: {
          ...jsonBodyOf(invocationSchema),
          content: {
            'application/json': { schema: invocationSchema },
            'text/csv': { schema: z.string() },
          },
        },
      },
      responses: {
        200: jsonResponse(
          'Predictions',
          z.object({ predictions: z.array(z.union([z.string(), z.number()])) }),
        ),
        ...errorResponses(400, 404, 413, 415, 503),
      },
    },
    errors,
    limitBody(bodyLimitFor(deps.limits)),
    async (c) => {
      const asked = askedModel(c);
      return answerPrediction(c, deps, mlflowProtocol, await readInvocation(c), asked);
    },
  );
  declare(
    app,
    {
      method: 'get',
      path: '/ping',
      tags,
      summary: 'Ready (MLflow, SageMaker): 200 when every pinned model is served, else 503',
      responses: { 200: jsonResponse('Ready'), ...errorResponses(503) },
    },
    errors,
    (c) => {
      const reasons = deps.draining?.() ? ['shutting down'] : notReadyReasons(c.get('state'));
      if (reasons.length > 0)
        throw new RequestError('model_not_ready', `not ready: ${reasons.join('; ')}`);
      return Promise.resolve(respond(c, '\n', 200, 'application/json'));
    },
  );
  declare(
    app,
    {
      method: 'get',
      path: '/version',
      tags,
      summary: "The server's version (MLflow answers its own)",
      responses: {
        200: { description: 'The version', content: { 'text/plain': { schema: z.string() } } },
      },
    },
    (c) => Promise.resolve(respond(c, deps.server.version, 200, 'text/plain; charset=UTF-8')),
  );
};
