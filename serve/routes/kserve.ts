/**
 * KServe's v1 protocol (the TensorFlow Serving REST API KServe's model servers speak):
 * `POST /v1/models/{name}:predict` takes `{"instances": [...]}` (rows as objects or arrays in
 * signature order) or `{"inputs": ...}` (rows, or columns) and answers
 * `{"predictions": [class, ...]}`; `GET /v1/models` lists the served models and
 * `GET /v1/models/{name}` says whether one is ready. Errors are `{"error": "..."}` as KServe's
 * (plus pinml's `code` and `field`).
 */
import { z } from '@hono/zod-openapi';

import { answerPrediction, labelOf, type Asked, type Protocol } from '../answer/answer.ts';
import { answeredBy, respond } from '../answer/respond.ts';
import { pickModel } from '../answer/pick.ts';
import { bodyLimitFor, jsonBody, limitBody, requireJson } from '../http/body.ts';
import { RequestError, describeValue } from '../http/errors.ts';
import { declare, errorResponses, jsonBodyOf, jsonResponse, type Routes } from './declare.ts';
import { tfServingRows } from './tf-serving.ts';

type PredictV1 = Asked & { key: 'instances' | 'inputs'; data: unknown };

const kserveProtocol: Protocol<PredictV1> = {
  modelField: 'name',
  read(body) {
    const b = (
      typeof body === 'object' && body !== null && !Array.isArray(body) ? body : {}
    ) as Record<string, unknown>;
    const keys = (['instances', 'inputs'] as const).filter((k) => b[k] !== undefined);
    const other = Object.keys(b).filter((k) => k !== 'instances' && k !== 'inputs');
    if (keys.length !== 1 || other.length > 0 || b !== body) {
      throw new RequestError(
        'invalid_input',
        `the body must be {"instances": [...]} (or {"inputs": ...}), got ${
          b === body ? `the fields ${Object.keys(b).join(', ') || 'none'}` : describeValue(body)
        }`,
        other[0] ?? '(body)',
      );
    }
    const key = keys[0] as 'instances' | 'inputs';
    return { key, data: b[key] };
  },
  rows: (request, model, batchLimit) =>
    tfServingRows(request.data, request.key, model.inputs, batchLimit),
  answer: (_request, model, p) => ({
    predictions: Array.from({ length: p.rows }, (_, i) => labelOf(model, p, i)),
  }),
};

const rowsSchema = z.array(z.union([z.record(z.string(), z.number()), z.array(z.number())]));

/** The routes. */
export const kserveRoutes: Routes = (app, deps) => {
  const tags = ['KServe v1'];
  const name = z.object({ name: z.string() });
  declare(
    app,
    {
      method: 'get',
      path: '/v1/models',
      tags,
      summary: 'The served models',
      responses: { 200: jsonResponse('Names', z.object({ models: z.array(z.string()) })) },
    },
    (c) => Promise.resolve(respond(c, { models: [...c.get('state').models.keys()] })),
  );
  declare(
    app,
    {
      method: 'get',
      path: '/v1/models/{name}',
      tags,
      summary: 'Whether a model is ready (503 while pinned but not loaded, or shutting down)',
      request: { params: name },
      responses: {
        200: jsonResponse('Ready', z.object({ name: z.string(), ready: z.boolean() })),
        ...errorResponses(404, 503),
      },
    },
    (c) => {
      const model = answeredBy(
        c,
        pickModel(c.get('state'), c.req.param('name'), undefined, 'name'),
      );
      const ready = !(deps.draining?.() ?? false);
      return Promise.resolve(respond(c, { name: model.name, ready }, ready ? 200 : 503));
    },
  );
  declare(
    app,
    {
      method: 'post',
      path: '/v1/models/{name}:predict',
      tags,
      summary: 'Predict: class labels for `instances`',
      request: {
        params: name,
        body: jsonBodyOf(
          z
            .union([
              z.object({ instances: rowsSchema }),
              z.object({
                inputs: z.union([rowsSchema, z.record(z.string(), z.array(z.number()))]),
              }),
            ])
            .openapi('KServeV1Request'),
        ),
      },
      responses: {
        200: jsonResponse(
          'Predictions',
          z.object({ predictions: z.array(z.union([z.string(), z.number()])) }),
        ),
        ...errorResponses(400, 404, 413, 415, 503),
      },
    },
    limitBody(bodyLimitFor(deps.limits)),
    requireJson,
    async (c) =>
      answerPrediction(c, deps, kserveProtocol, await jsonBody(c), {
        // The route matches the whole `{name}:predict` segment.
        model: (c.req.param('name') ?? '').replace(/:predict$/, ''),
      }),
  );
};
