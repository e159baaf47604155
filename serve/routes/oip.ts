/**
 * The Open Inference Protocol v2 REST API (KServe, Triton, MLServer, Seldon), as described in
 * `../shared/specs/oip/open_inference_rest.yaml` and its prose spec (inference_rest.md):
 * health, server and model metadata, model readiness and inference, with the `/versions/{v}`
 * variants. Errors are `{"error": "..."}` as the spec's error objects (plus `code`, `field`).
 *
 * A model takes either one tensor per feature (named after it, shape `[N]` or `[N, 1]`), which
 * is what its metadata advertises, or a single tensor of shape `[N, d]` (any name, features in
 * signature order), as scikit-learn runtimes take. It answers `label` (`[N]`) and
 * `probabilities` (`[N, classes]`, FP64, classes in the order of the metadata's
 * `parameters.classes`); `outputs` in the request picks among them.
 */
import { z } from '@hono/zod-openapi';

import { answerPrediction, labelOf, type Asked, type Protocol } from '../answer/answer.ts';
import { answeredBy, respond } from '../answer/respond.ts';
import { checkBatch } from '../answer/rows.ts';
import { pickModel, versionOf } from '../answer/pick.ts';
import type { AppContext } from '../deps.ts';
import { notReadyReasons, type ServingState } from '../follow/reconcile.ts';
import type { ServedModel } from '../follow/load-registry.ts';
import { bodyLimitFor, jsonBody, limitBody, requireJson } from '../http/body.ts';
import { describeValue, invalidInput } from '../http/errors.ts';
import { declare, errorResponses, jsonBodyOf, jsonResponse, type Routes } from './declare.ts';

const NUMERIC = new Set([
  'FP16',
  'FP32',
  'FP64',
  'INT8',
  'INT16',
  'INT32',
  'INT64',
  'UINT8',
  'UINT16',
  'UINT32',
  'UINT64',
]);

/** Tensor data: numbers, possibly nested row-major (the spec's `tensor_data`). */
const tensorData = z.array(z.unknown());

/** `request_input` of the spec. */
export const oipInputSchema = z.object({
  name: z.string(),
  shape: z.array(z.int().min(0)),
  datatype: z.string(),
  parameters: z.record(z.string(), z.unknown()).optional(),
  data: tensorData,
});

/** `inference_request` of the spec. */
export const oipInferRequestSchema = z.object({
  id: z.string().optional(),
  parameters: z.record(z.string(), z.unknown()).optional(),
  inputs: z.array(oipInputSchema).min(1),
  outputs: z
    .array(z.object({ name: z.string(), parameters: z.record(z.string(), z.unknown()).optional() }))
    .optional(),
});

export type OipInferRequest = z.infer<typeof oipInferRequestSchema>;

/** `response_output` of the spec. */
export const oipOutputSchema = z.object({
  name: z.string(),
  datatype: z.string(),
  shape: z.array(z.int()),
  data: z.array(z.union([z.number(), z.string()])),
});

/** `inference_response` of the spec. */
export const oipInferResponseSchema = z.object({
  model_name: z.string(),
  model_version: z.string(),
  id: z.string().optional(),
  parameters: z.object({
    registry_commit: z.string(),
    pin: z.enum(['production', 'canary']).describe('The pin of the version that answered.'),
  }),
  outputs: z.array(oipOutputSchema),
});

const OUTPUTS = ['label', 'probabilities'] as const;

/** The field a zod issue path names: `inputs[0].shape`. */
export function fieldOf(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : `${out ? '.' : ''}${String(p)}`;
  return out || '(body)';
}

function labelType(model: ServedModel): 'BYTES' | 'INT64' | 'FP64' {
  const classes = model.predictor.classes;
  if (classes.some((c) => typeof c === 'string')) return 'BYTES';
  return classes.every((c) => Number.isInteger(c)) ? 'INT64' : 'FP64';
}

/** The model metadata response (`metadata_model_response`). */
export function modelMetadata(model: ServedModel): Record<string, unknown> {
  return {
    name: model.name,
    versions: [String(model.version)],
    platform: `pinml/${model.predictor.kind}`,
    inputs: model.predictor.features.map((name) => ({ name, datatype: 'FP64', shape: [-1] })),
    outputs: [
      { name: 'label', datatype: labelType(model), shape: [-1] },
      { name: 'probabilities', datatype: 'FP64', shape: [-1, model.predictor.classes.length] },
    ],
    parameters: {
      registry_commit: model.commit,
      classes: model.classKeys.join(','),
      sha256: model.card.artifact.sha256,
    },
  };
}

/** Flattens row-major tensor data (nested lists allowed), checking each element is finite. */
function flatNumbers(data: readonly unknown[], field: string): number[] {
  const out: number[] = [];
  const walk = (values: readonly unknown[], at: string): void => {
    values.forEach((v, i) => {
      if (Array.isArray(v)) return walk(v, `${at}[${i}]`);
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        throw invalidInput(`${at}[${i}]`, `must be a finite number, got ${describeValue(v)}`);
      }
      out.push(v);
    });
  };
  walk(data, field);
  return out;
}

/** The rows of an infer request for a model (see the module's description). */
export function readTensorRows(
  request: OipInferRequest,
  model: ServedModel,
  batchLimit: number,
): Float64Array[] {
  const features = model.predictor.features;
  const d = features.length;
  request.inputs.forEach((t, i) => {
    if (!NUMERIC.has(t.datatype)) {
      throw invalidInput(
        `inputs[${i}].datatype`,
        `must be a numeric type (FP32, FP64, INT32, ...), got ${JSON.stringify(t.datatype)}`,
      );
    }
  });
  const named = request.inputs.every((t) => features.includes(t.name));
  if (request.inputs.length === 1 && !(named && d === 1)) {
    const t = request.inputs[0] as OipInferRequest['inputs'][number];
    if (features.includes(t.name) && d > 1) {
      // One feature alone: the caller meant the one-tensor-per-feature form.
      const missing = features.filter((f) => f !== t.name);
      throw invalidInput('inputs', `is missing the tensors of ${missing.join(', ')}`);
    }
    if (t.shape.length !== 2 || t.shape[1] !== d) {
      throw invalidInput(
        'inputs[0].shape',
        `must be [N, ${d}] (rows of ${features.join(', ')}), got ${JSON.stringify(t.shape)}`,
      );
    }
    const n = t.shape[0] as number;
    checkBatch(n, 'inputs[0].shape', batchLimit);
    const values = flatNumbers(t.data, 'inputs[0].data');
    if (values.length !== n * d) {
      throw invalidInput(
        'inputs[0].data',
        `has ${values.length} values; shape ${JSON.stringify(t.shape)} needs ${n * d}`,
      );
    }
    return Array.from({ length: n }, (_, r) => Float64Array.from(values.slice(r * d, r * d + d)));
  }
  const columns = new Map<string, number[]>();
  let n: number | undefined;
  request.inputs.forEach((t, i) => {
    if (!features.includes(t.name)) {
      throw invalidInput(
        `inputs[${i}].name`,
        `${JSON.stringify(t.name)} is not a feature of ${model.name} (features: ${features.join(', ')})`,
      );
    }
    if (columns.has(t.name)) throw invalidInput(`inputs[${i}].name`, `${t.name} is sent twice`);
    const ok = t.shape.length === 1 || (t.shape.length === 2 && t.shape[1] === 1);
    if (!ok) {
      throw invalidInput(
        `inputs[${i}].shape`,
        `must be [N] or [N, 1], got ${JSON.stringify(t.shape)}`,
      );
    }
    const rows = t.shape[0] as number;
    if (n !== undefined && rows !== n) {
      throw invalidInput(`inputs[${i}].shape`, `has ${rows} rows; the tensors before it have ${n}`);
    }
    n = rows;
    checkBatch(rows, `inputs[${i}].shape`, batchLimit);
    const values = flatNumbers(t.data, `inputs[${i}].data`);
    if (values.length !== rows) {
      throw invalidInput(
        `inputs[${i}].data`,
        `has ${values.length} values; its shape says ${rows}`,
      );
    }
    columns.set(t.name, values);
  });
  const missing = features.filter((f) => !columns.has(f));
  if (missing.length > 0)
    throw invalidInput('inputs', `is missing the tensors of ${missing.join(', ')}`);
  const cols = features.map((f) => columns.get(f) as number[]);
  return Array.from({ length: n ?? 0 }, (_, r) =>
    Float64Array.from(cols, (col) => col[r] as number),
  );
}

/** The Open Inference Protocol. */
const oipProtocol: Protocol<OipInferRequest & Asked> = {
  modelField: 'model_name',
  read(body) {
    const parsed = oipInferRequestSchema.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw invalidInput(fieldOf(issue?.path ?? []), issue?.message ?? 'is not valid');
    }
    return parsed.data;
  },
  rows: readTensorRows,
  idOf: (request) => request.id,
  answer(request, m, p, id, pin) {
    const wanted =
      request.outputs?.map((o, i) => {
        if (!(OUTPUTS as readonly string[]).includes(o.name)) {
          throw invalidInput(
            `outputs[${i}].name`,
            `must be one of ${OUTPUTS.join(', ')}, got ${JSON.stringify(o.name)}`,
          );
        }
        return o.name;
      }) ?? OUTPUTS;
    const outputs = wanted.map((name) =>
      name === 'label'
        ? {
            name,
            datatype: labelType(m),
            shape: [p.rows],
            data: Array.from({ length: p.rows }, (_, i) => labelOf(m, p, i)),
          }
        : {
            name,
            datatype: 'FP64',
            shape: [p.rows, m.predictor.classes.length],
            data: Array.from(p.probabilities),
          },
    );
    return {
      model_name: m.name,
      model_version: String(m.version),
      id,
      parameters: { registry_commit: m.commit, pin },
      outputs,
    };
  },
};

/** The OIP routes under `/v2`. */
export const oipRoutes: Routes = (app, deps) => {
  const ready = (state: ServingState): boolean =>
    !(deps.draining?.() ?? false) && notReadyReasons(state).length === 0;
  const tags = ['Open Inference Protocol v2'];
  const get = (path: string, summary: string, handler: (c: AppContext) => Response, extra = {}) =>
    declare(
      app,
      { method: 'get', path, tags, summary, responses: { 200: jsonResponse('OK'), ...extra } },
      (c) => Promise.resolve(handler(c)),
    );

  get('/v2/health/live', 'Server live', (c) => respond(c, { live: true }));
  // The spec: 200 means ready, a 4xx means not (Triton answers 400).
  get(
    '/v2/health/ready',
    'Server ready (400 when not)',
    (c) => {
      const ok = ready(c.get('state'));
      return respond(c, { ready: ok }, ok ? 200 : 400);
    },
    errorResponses(400),
  );
  const serverMetadata = (c: AppContext): Response =>
    respond(c, { name: deps.server.name, version: deps.server.version, extensions: [] });
  get('/v2', 'Server metadata', serverMetadata);
  // The spec writes the server metadata path as `/v2/`.
  app.get('/v2/', serverMetadata);

  for (const base of ['/v2/models/{model}', '/v2/models/{model}/versions/{version}']) {
    const withVersion = base.includes('{version}');
    const params = withVersion
      ? z.object({ model: z.string(), version: z.string() })
      : z.object({ model: z.string() });
    const model = (c: AppContext): ServedModel => {
      const v = c.req.param('version');
      return answeredBy(
        c,
        pickModel(
          c.get('state'),
          c.req.param('model'),
          v === undefined ? undefined : versionOf(v),
          'model_name',
        ),
      );
    };
    declare(
      app,
      {
        method: 'get',
        path: base,
        tags,
        summary: 'Model metadata',
        request: { params },
        responses: { 200: jsonResponse('OK'), ...errorResponses(404, 503) },
      },
      (c) => Promise.resolve(respond(c, modelMetadata(model(c)))),
    );
    declare(
      app,
      {
        method: 'get',
        path: `${base}/ready`,
        tags,
        summary: 'Model ready (400 when not)',
        request: { params },
        responses: { 200: jsonResponse('OK'), ...errorResponses(400, 404, 503) },
      },
      (c) => {
        const state = c.get('state');
        const name = c.req.param('model') ?? '';
        // Pinned but not loadable: not ready, which the spec says with a 4xx (not 503).
        if (!state.models.has(name) && state.pinned.includes(name)) {
          return Promise.resolve(respond(c, { name, ready: false }, 400));
        }
        const m = model(c);
        const ok = !(deps.draining?.() ?? false);
        return Promise.resolve(respond(c, { name: m.name, ready: ok }, ok ? 200 : 400));
      },
    );
    declare(
      app,
      {
        method: 'post',
        path: `${base}/infer`,
        tags,
        summary: 'Inference',
        request: { params, body: jsonBodyOf(oipInferRequestSchema.openapi('InferenceRequest')) },
        responses: {
          200: jsonResponse('OK', oipInferResponseSchema.openapi('InferenceResponse')),
          ...errorResponses(400, 404, 413, 415, 503),
        },
      },
      limitBody(bodyLimitFor(deps.limits)),
      requireJson,
      async (c) => {
        const v = c.req.param('version');
        return answerPrediction(c, deps, oipProtocol, await jsonBody(c), {
          model: c.req.param('model'),
          ...(v === undefined ? {} : { version: versionOf(v) }),
        });
      },
    );
  }
};
