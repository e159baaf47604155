/**
 * pinml's own prediction protocol: `POST /predict` and `POST /models/{name}/predict` take one
 * row (`{"inputs": {...features}}`) or a batch (`{"inputs": [{...}, ...]}`) and answer the class
 * and every class's probability, with the model, version and commit that answered.
 */
import { z } from '@hono/zod-openapi';

import {
  answerPrediction,
  labelOf,
  probabilitiesOf,
  rowId,
  type Protocol,
} from '../answer/answer.ts';
import { versionSchema } from '../answer/pick.ts';
import { RequestError, describeValue, invalidInput } from '../http/errors.ts';
import { bodyLimitFor, jsonBody, limitBody, requireJson } from '../http/body.ts';
import { declare, errorResponses, jsonBodyOf, jsonResponse, type Routes } from './declare.ts';

/** The request body of `/predict` for a row schema and a batch limit. */
export function predictRequestSchema(row: z.ZodType, batchLimit: number) {
  return z.strictObject({
    model: z
      .string()
      .optional()
      .describe('The model to ask; optional when the server serves one model, or in the path.'),
    version: versionSchema
      .optional()
      .describe('Only answer if this is the version served (else 404 version_not_found).'),
    id: z
      .string()
      .max(256)
      .optional()
      .describe('The request id when no X-Request-Id header names it; echoed in the response.'),
    key: z
      .string()
      .max(256)
      .optional()
      .describe(
        'Chooses the arm when the model has a canary (same key, same arm) when no X-Pinml-Key header does; else the request id does.',
      ),
    inputs: z
      .union([row, z.array(row).min(1).max(batchLimit)])
      .describe('One row of features, or a batch (a list of rows) answered in order.'),
  });
}

const rowAnswer = z.object({
  id: z.string().describe('The row id in the prediction log, for feedback.'),
  class: z
    .union([z.string(), z.number()])
    .describe('The predicted class (highest probability; ties to the first class).'),
  probabilities: z.record(z.string(), z.number()).describe('Every class, in signature order.'),
});

/** `POST /predict` answers. */
export const predictResponseSchema = z
  .object({
    model: z.string(),
    version: z.int().min(1),
    commit: z.string().describe('The registry commit whose pin names this version.'),
    pin: z
      .enum(['production', 'canary'])
      .describe('The pin of the version that answered: production, or its canary.'),
    id: z
      .string()
      .describe("The request id: the caller's X-Request-Id, else the body's id, else a new one."),
    prediction: rowAnswer.optional().describe('For one row.'),
    predictions: z.array(rowAnswer).optional().describe('For a batch, in request order.'),
  })
  .openapi('PredictResponse');

/** What a `/predict` body asks, before the model is known. */
interface PredictRequest {
  model: string | undefined;
  version: number | undefined;
  id: string | undefined;
  key: string | undefined;
  inputs: unknown;
}

const ENVELOPE_KEYS = new Set(['model', 'version', 'id', 'key', 'inputs']);

/** Checks the fields around `inputs`; the rows are read once the model is known. */
export function readEnvelope(body: unknown): PredictRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new RequestError(
      'invalid_input',
      `the body must be a JSON object such as {"inputs": {...features}}, got ${describeValue(body)}`,
      '(body)',
    );
  }
  const b = body as Record<string, unknown>;
  const unknown = Object.keys(b).filter((key) => !ENVELOPE_KEYS.has(key));
  if (unknown.length > 0 && b.inputs === undefined) {
    // The shape FastAPI tutorials use: the features at the top level.
    const example = JSON.stringify(Object.fromEntries(unknown.slice(0, 4).map((k) => [k, b[k]])));
    throw new RequestError(
      'invalid_input',
      `the features must be inside "inputs": send {"inputs": ${example.slice(0, 200)}} ` +
        '(one row), or {"inputs": [{...}, {...}]} for a batch',
      'inputs',
    );
  }
  if (unknown.length > 0) {
    throw invalidInput(
      unknown[0] as string,
      'is not a field of a predict request (model, version, id, key, inputs)',
    );
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
  if (b.key !== undefined && (typeof b.key !== 'string' || b.key.length > 256)) {
    throw invalidInput('key', 'must be a string of at most 256 characters');
  }
  if (b.inputs === undefined) {
    throw invalidInput('inputs', 'is missing: send one row {"feature": number, ...} or a list');
  }
  return { model: b.model, version, id: b.id, key: b.key, inputs: b.inputs };
}

/** pinml's protocol. */
export const pinmlProtocol: Protocol<PredictRequest> = {
  modelField: 'model',
  read: readEnvelope,
  idOf: (request) => request.id,
  keyOf: (request) => request.key,
  rows: (request, model, batchLimit) =>
    Array.isArray(request.inputs)
      ? model.inputs.list(request.inputs, 'inputs', batchLimit)
      : [model.inputs.one(request.inputs, 'inputs')],
  answer(request, model, p, id, pin) {
    const row = (i: number) => ({
      id: rowId(id, i, p.rows),
      class: labelOf(model, p, i),
      probabilities: probabilitiesOf(model, p, i),
    });
    const { name, version, commit } = model;
    return Array.isArray(request.inputs)
      ? {
          model: name,
          version,
          commit,
          pin,
          id,
          predictions: Array.from({ length: p.rows }, (_, i) => row(i)),
        }
      : { model: name, version, commit, pin, id, prediction: row(0) };
  },
};

const anyRow = z.record(z.string(), z.number()).describe('Feature name → finite number.');

/** The routes. */
export const predictRoutes: Routes = (app, deps) => {
  const body = [limitBody(bodyLimitFor(deps.limits)), requireJson] as const;
  const request = (batchLimit: number) =>
    jsonBodyOf(
      predictRequestSchema(anyRow, batchLimit).openapi('PredictRequest'),
      `One row as an object of features, or a batch as a list of them (1 to ${batchLimit} rows).`,
    );
  const responses = {
    200: jsonResponse('Predictions', predictResponseSchema),
    ...errorResponses(400, 404, 413, 415, 503),
  };
  declare(
    app,
    {
      method: 'post',
      path: '/predict',
      tags: ['pinml'],
      summary: 'Predict with a served model (the only one, or the one named in `model`)',
      request: { body: request(deps.limits.batchRows) },
      responses,
    },
    ...body,
    async (c) => answerPrediction(c, deps, pinmlProtocol, await jsonBody(c)),
  );
  declare(
    app,
    {
      method: 'post',
      path: '/models/{name}/predict',
      tags: ['pinml'],
      summary: 'Predict with the named model',
      request: {
        params: z.object({ name: z.string() }),
        body: request(deps.limits.batchRows),
      },
      responses,
    },
    ...body,
    async (c) =>
      answerPrediction(c, deps, pinmlProtocol, await jsonBody(c), { model: c.req.param('name') }),
  );
};
