/**
 * The Open Inference Protocol v2 REST API (KServe, Triton, MLServer, Seldon), as described in
 * ../shared/specs/oip/open_inference_rest.yaml and its prose spec (inference_rest.md):
 * health, server and model metadata, model readiness and inference, with the `/versions/{v}`
 * variants. Errors are `{"error": "..."}` as the spec's error objects (plus `code`, `field`).
 *
 * A model takes either one tensor per feature (named after it, shape `[N]` or `[N, 1]`), which
 * is what its metadata advertises, or a single tensor of shape `[N, d]` (any name, features in
 * signature order), as scikit-learn runtimes take. It answers `label` (`[N]`) and
 * `probabilities` (`[N, classes]`, FP64, classes in the order of the metadata's
 * `parameters.classes`); `outputs` in the request picks among them.
 */
import { Hono } from 'hono';
import { z } from 'zod';

import { jsonBody, limitBody, requireJson } from './body.ts';
import { RequestError, describeValue, invalidInput } from './errors.ts';
import { setModelHeaders, type AppContext, type AppDeps, type AppEnv } from './context.ts';
import type { ServedModel } from './models.ts';
import type { ServeMetrics } from './metrics.ts';
import { pickModel, predictRows, type Picked } from './predict.ts';
import { notReadyReasons, type ServingState } from './reconcile.ts';

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
  parameters: z.object({ registry_commit: z.string() }),
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
  const rowsFrom = (n: number, field: string): void => {
    if (n === 0) throw invalidInput(field, 'is an empty batch: send at least one row');
    if (n > batchLimit) {
      throw invalidInput(
        field,
        `a batch of ${n} rows is over this server's limit of ${batchLimit}`,
      );
    }
  };
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
    rowsFrom(n, 'inputs[0].shape');
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
    rowsFrom(rows, `inputs[${i}].shape`);
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

/** The OIP routes, to mount at `/v2`. */
export function oipRoutes(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const ready = (state: ServingState): boolean =>
    !(deps.draining?.() ?? false) && notReadyReasons(state).length === 0;

  const model = (c: AppContext): ServedModel => {
    const v = c.req.param('version');
    const m = pickModel(
      c.get('state'),
      c.req.param('model'),
      v === undefined ? undefined : versionOf(v),
      'model_name',
    );
    setModelHeaders(c, m);
    return m;
  };

  app.get('/health/live', (c) => c.json({ live: true }));
  app.get('/health/ready', (c) => {
    const ok = ready(c.get('state'));
    // The spec: 200 means ready, a 4xx means not (Triton answers 400).
    return c.json({ ready: ok }, ok ? 200 : 400);
  });
  const serverMetadata = (c: AppContext): Response =>
    c.json({ name: deps.server.name, version: deps.server.version, extensions: [] });
  app.get('/', serverMetadata);

  for (const base of ['/models/:model', '/models/:model/versions/:version']) {
    app.get(base, (c) => c.json(modelMetadata(model(c))));
    app.get(`${base}/ready`, (c) => {
      const state = c.get('state');
      const name = c.req.param('model') ?? '';
      // Pinned but not loadable: not ready, which the spec says with a 4xx (not 503).
      if (!state.models.has(name) && state.pinned.includes(name)) {
        return c.json({ name, ready: false }, 400);
      }
      const m = model(c);
      const ok = !(deps.draining?.() ?? false);
      return c.json({ name: m.name, ready: ok }, ok ? 200 : 400);
    });
    app.post(`${base}/infer`, limitBody(deps.limits.bodyBytes), requireJson, async (c) => {
      const body = await jsonBody(c);
      const picked: Picked = { model: undefined };
      let answer: string;
      try {
        answer = answerInfer(
          c.get('state'),
          body,
          c.req.param('model') ?? '',
          c.req.param('version'),
          deps.limits.batchRows,
          deps.metrics,
          picked,
        );
      } finally {
        // Before the answer or the error response is built, so both carry the model's headers.
        if (picked.model !== undefined) setModelHeaders(c, picked.model);
      }
      return c.body(answer, 200, { 'Content-Type': 'application/json' });
    });
  }
  return app;
}

/**
 * The answer to an infer request (`/v2/models/{model}[/versions/{version}]/infer`) as JSON text;
 * `picked` gets the model once it is chosen, so an error after that still names it. Both the Hono
 * route and the prediction fast paths (serve/fast-predict.ts) answer with it.
 */
export function answerInfer(
  state: ServingState,
  body: unknown,
  modelName: string,
  versionText: string | undefined,
  batchLimit: number,
  metrics: ServeMetrics,
  picked: Picked,
): string {
  const parsed = oipInferRequestSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = fieldOf(issue?.path ?? []);
    throw invalidInput(field, issue?.message ?? 'is not valid');
  }
  const request = parsed.data;
  const m = pickModel(
    state,
    modelName,
    versionText === undefined ? undefined : versionOf(versionText),
    'model_name',
  );
  picked.model = m;
  const wanted = request.outputs?.map((o, i) => {
    if (!(OUTPUTS as readonly string[]).includes(o.name)) {
      throw invalidInput(
        `outputs[${i}].name`,
        `must be one of ${OUTPUTS.join(', ')}, got ${JSON.stringify(o.name)}`,
      );
    }
    return o.name;
  }) ?? [...OUTPUTS];
  const rows = readTensorRows(request, m, batchLimit);
  const p = predictRows(m, rows);
  metrics.predictions(m, p.counts);
  const outputs = wanted.map((name) =>
    name === 'label'
      ? {
          name,
          datatype: labelType(m),
          shape: [rows.length],
          data: Array.from(p.classes, (k) => m.predictor.classes[k] as string | number),
        }
      : {
          name,
          datatype: 'FP64',
          shape: [rows.length, m.predictor.classes.length],
          data: Array.from(p.probabilities),
        },
  );
  return JSON.stringify({
    model_name: m.name,
    model_version: String(m.version),
    ...(request.id !== undefined ? { id: request.id } : {}),
    parameters: { registry_commit: m.commit },
    outputs,
  });
}

function versionOf(text: string): number {
  if (!/^[1-9]\d{0,15}$/.test(text)) {
    throw new RequestError(
      'version_not_found',
      `${JSON.stringify(text)} is not a version: versions are positive integers`,
      'version',
    );
  }
  return Number(text);
}
