/**
 * The OpenAPI 3.1 description of the server, generated from the zod schemas that validate the
 * requests (`z.toJSONSchema`), with one concrete `/models/{name}/predict` path per served model
 * whose request schema lists that model's features. Rebuilt when the serving state changes.
 */
import { z } from 'zod';

import type { AppDeps } from './context.ts';
import { COMMIT_HEADER, VERSION_HEADER } from './context.ts';
import { predictRequestSchema } from './inputs.ts';
import { oipInferRequestSchema, oipInferResponseSchema } from './oip.ts';
import type { ServingState } from './reconcile.ts';

const label = z.union([z.string(), z.number()]);
const rowAnswer = z.object({
  class: label.describe('The predicted class (highest probability; ties to the first class).'),
  probabilities: z.record(z.string(), z.number()).describe('Every class, in signature order.'),
});

/** `POST /predict` answers. */
export const predictResponseSchema = z.object({
  model: z.string(),
  version: z.int().min(1),
  commit: z.string().describe('The registry commit whose pin names this version.'),
  id: z.string().optional(),
  prediction: rowAnswer.optional().describe('For one row.'),
  predictions: z.array(rowAnswer).optional().describe('For a batch, in request order.'),
});

/** Every error. */
export const errorSchema = z.object({
  error: z.string().describe('What was wrong, where, and what to do.'),
  code: z.string().describe('Stable: invalid_input, invalid_json, model_not_found, ...'),
  field: z.string().optional().describe('The request field at fault, e.g. inputs[2].petal_width.'),
});

const problem = z.object({
  model: z.string().optional(),
  version: z.int().optional(),
  commit: z.string().nullable(),
  code: z.string(),
  message: z.string(),
});

/** `GET /health` answers (always 200). */
export const healthSchema = z.object({
  status: z.enum(['starting', 'ok', 'degraded']),
  ready: z.boolean(),
  notReady: z.array(z.string()).optional(),
  ref: z.string(),
  commit: z.string().nullable(),
  reconciledAt: z.string().nullable(),
  models: z.array(
    z.object({ name: z.string(), version: z.int(), commit: z.string(), loadedAt: z.string() }),
  ),
  problems: z.array(problem),
});

type Json = Record<string, unknown>;

function schema(s: z.ZodType, io: 'input' | 'output' = 'output'): Json {
  const { $schema: _drop, ...rest } = z.toJSONSchema(s, { io, unrepresentable: 'any' }) as Json;
  return rest;
}

const ref = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });
const json = (s: Json): Json => ({ 'application/json': { schema: s } });
const headers = {
  [VERSION_HEADER]: {
    description: 'The model version(s) that answered: iris@3.',
    schema: { type: 'string' },
  },
  [COMMIT_HEADER]: {
    description: 'The registry commit that answered.',
    schema: { type: 'string' },
  },
};
const ok = (description: string, s: Json): Json => ({ description, headers, content: json(s) });
const errors = (...codes: number[]): Json =>
  Object.fromEntries(
    codes.map((code) => [
      String(code),
      { description: 'Error', headers, content: json(ref('Error')) },
    ]),
  );

const cache = new WeakMap<ServingState, Json>();

/** The document for the current state. */
export function openApiDocument(
  state: ServingState,
  deps: Pick<AppDeps, 'limits' | 'server'>,
): Json {
  const cached = cache.get(state);
  if (cached !== undefined) return cached;
  const limit = deps.limits.batchRows;
  const anyRow = z.record(z.string(), z.number()).describe('Feature name → finite number.');
  const schemas: Json = {
    PredictRequest: schema(predictRequestSchema(anyRow, limit), 'input'),
    PredictResponse: schema(predictResponseSchema),
    Error: schema(errorSchema),
    Health: schema(healthSchema),
    InferenceRequest: schema(oipInferRequestSchema, 'input'),
    InferenceResponse: schema(oipInferResponseSchema),
  };
  const predictOp = (summary: string, request: Json, params: Json[] = []): Json => ({
    post: {
      summary,
      description:
        'One row as an object of features, or a batch as a list of them (1 to ' +
        `${limit} rows). Errors name the field: a missing or unknown feature, a value that is not ` +
        'a finite number, an empty or oversized batch.',
      parameters: params,
      requestBody: { required: true, content: json(request) },
      responses: {
        '200': ok('Predictions', ref('PredictResponse')),
        ...errors(400, 404, 413, 415, 503),
      },
    },
  });
  const paths: Json = {
    '/predict': predictOp(
      'Predict with a served model (the only one, or the one named in `model`)',
      ref('PredictRequest'),
    ),
    '/models/{name}/predict': predictOp('Predict with the named model', ref('PredictRequest'), [
      { name: 'name', in: 'path', required: true, schema: { type: 'string' } },
    ]),
  };
  for (const m of state.models.values()) {
    const name = `PredictRequest_${m.name.replace(/[^A-Za-z0-9_]/g, '_')}`;
    schemas[name] = schema(predictRequestSchema(m.inputs.row, limit), 'input');
    paths[`/models/${m.name}/predict`] = predictOp(
      `Predict with ${m.name} (serving v${m.version}; features ${m.predictor.features.join(', ')})`,
      ref(name),
    );
  }
  const get = (summary: string, response: Json, extra: Json = {}): Json => ({
    get: { summary, responses: { '200': ok('OK', response), ...extra } },
  });
  const obj = { type: 'object' };
  Object.assign(paths, {
    '/health': get(
      'Status: ok, degraded (with the reasons) or starting; always 200',
      ref('Health'),
    ),
    '/ready': get('Readiness: 200 when every pinned model is served, else 503', obj, errors(503)),
    '/models': get('Served models: version, commit, card summary, signature', obj),
    '/models/{name}': {
      get: {
        summary: 'One served model',
        parameters: [{ name: 'name', in: 'path', required: true, schema: { type: 'string' } }],
        responses: { '200': ok('OK', obj), ...errors(404, 503) },
      },
    },
    '/metrics': {
      get: {
        summary: 'Prometheus metrics (text exposition format)',
        responses: {
          '200': {
            description: 'OK',
            headers,
            content: { 'text/plain': { schema: { type: 'string' } } },
          },
        },
      },
    },
    '/openapi.json': get('This document', obj),
    '/docs': {
      get: {
        summary: 'This document as a page',
        responses: {
          '200': { description: 'OK', content: { 'text/html': { schema: { type: 'string' } } } },
        },
      },
    },
    '/webhooks/github': {
      post: {
        summary: 'GitHub push/ping webhook (X-Hub-Signature-256 required): reconcile now',
        parameters: [
          { name: 'X-GitHub-Event', in: 'header', required: true, schema: { type: 'string' } },
          { name: 'X-Hub-Signature-256', in: 'header', required: true, schema: { type: 'string' } },
        ],
        requestBody: { required: true, content: json(obj) },
        responses: {
          '200': ok('ping answered', obj),
          '202': ok('push accepted (reconciling) or ignored', obj),
          ...errors(400, 401, 404, 413),
        },
      },
    },
  });
  const v = (extra = ''): Json[] => [
    { name: 'model', in: 'path', required: true, schema: { type: 'string' } },
    ...(extra ? [{ name: 'version', in: 'path', required: true, schema: { type: 'string' } }] : []),
  ];
  Object.assign(paths, {
    '/v2/health/live': get('OIP: server live', obj),
    '/v2/health/ready': get('OIP: server ready (400 when not)', obj, errors(400)),
    '/v2': get('OIP: server metadata', obj),
  });
  for (const base of ['/v2/models/{model}', '/v2/models/{model}/versions/{version}']) {
    const params = v(base.includes('{version}') ? 'version' : '');
    paths[base] = {
      get: {
        summary: 'OIP: model metadata',
        parameters: params,
        responses: { '200': ok('OK', obj), ...errors(404, 503) },
      },
    };
    paths[`${base}/ready`] = {
      get: {
        summary: 'OIP: model ready',
        parameters: params,
        responses: { '200': ok('OK', obj), ...errors(400, 404, 503) },
      },
    };
    paths[`${base}/infer`] = {
      post: {
        summary: 'OIP: inference',
        parameters: params,
        requestBody: { required: true, content: json(ref('InferenceRequest')) },
        responses: {
          '200': ok('OK', ref('InferenceResponse')),
          ...errors(400, 404, 413, 415, 503),
        },
      },
    };
  }
  const doc: Json = {
    openapi: '3.1.0',
    info: {
      title: `${deps.server.name} inference server`,
      version: deps.server.version,
      description:
        'Serves the model versions the registry pins at the followed ref. Every response carries ' +
        `${VERSION_HEADER} and ${COMMIT_HEADER}.`,
    },
    paths,
    components: { schemas },
  };
  cache.set(state, doc);
  return doc;
}
