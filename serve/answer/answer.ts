/**
 * The one answer path of every prediction, whatever the protocol (pinml's `/predict`, the Open
 * Inference Protocol's `infer`, MLflow's `/invocations`, KServe v1's `:predict`): read what the
 * request asks → choose the served model and its arm (production, or a canary by the request's
 * key) → read its rows by the model's signature → predict → count → record in the prediction
 * log → the protocol's answer → after it, the model's shadow ({@link predictShadow}). A protocol only says
 * how its requests read and its answers look; everything that happens to a prediction happens
 * here, once.
 */
import type { AppContext, AppDeps } from '../deps.ts';
import type { ServedModel } from '../follow/load-registry.ts';
import { invalidInput } from '../http/errors.ts';
import type { AnswerPin } from './arm.ts';
import { KEY_HEADER, answeredBy, respond } from './respond.ts';
import { pickArm } from './pick.ts';

/** What every protocol's request may say before the model is known. */
export interface Asked {
  /** The model it names (in the body, a header or a query parameter). */
  model?: string | undefined;
  /** The version it insists on (404 unless that one is served). */
  version?: number | undefined;
}

/** A prediction protocol: how its requests read and how its answers look. */
export interface Protocol<R extends Asked> {
  /** Where its requests name a model, for messages (`model`, `model_name`, `X-Pinml-Model`). */
  readonly modelField: string;
  /** Reads a request (its parsed body, or text for CSV) before the model is known. */
  read(body: unknown): R;
  /** The request's rows, by the chosen model's signature. */
  rows(request: R, model: ServedModel, batchLimit: number): Float64Array[];
  /** The request id its body carries (pinml's and the OIP's `id`), if any. */
  idOf?(request: R): string | undefined;
  /** The arm-choosing key its body carries (pinml's `key`), if any. */
  keyOf?(request: R): string | undefined;
  /** The answer's body; `id` is the request id (see {@link rowId}), `pin` the answering pin. */
  answer(
    request: R,
    model: ServedModel,
    predictions: Predictions,
    id: string,
    pin: AnswerPin,
  ): unknown;
}

/**
 * A row's id in the prediction log (and for feedback): the request id when the request has one
 * row, `<request id>:<index>` for each row of a larger batch.
 */
export function rowId(id: string, index: number, rows: number): string {
  return rows === 1 ? id : `${id}:${index}`;
}

/** Predictions for rows: class index per row and probabilities, row-major (`rows × classes`). */
export interface Predictions {
  readonly rows: number;
  readonly classes: Int32Array;
  readonly probabilities: Float64Array;
  /** Rows per predicted class, for the metrics. */
  readonly counts: Uint32Array;
}

/**
 * Answers a prediction request of `protocol`. `path` is what the route's path (or headers)
 * says; a body that names another model than the path is refused. Throws `RequestError` for
 * the caller's mistakes; the model's headers are set as soon as it is chosen, so a refusal of
 * its rows names it too. A request is answered by one arm, whole: a canary is chosen by the
 * request's key (`X-Pinml-Key`, else the body's key, else the request id), a batch included.
 */
export function answerPrediction<R extends Asked>(
  c: AppContext,
  deps: Pick<AppDeps, 'metrics' | 'limits' | 'recorder' | 'log'>,
  protocol: Protocol<R>,
  body: unknown,
  path: Asked = {},
): Response {
  const request = protocol.read(body);
  if (path.model !== undefined && request.model !== undefined && request.model !== path.model) {
    throw invalidInput('model', `names ${request.model} but the path names ${path.model}`);
  }
  // The caller's X-Request-Id, else the body's id, else the one made for the request.
  const bodyId = c.get('requestIdGiven') ? undefined : protocol.idOf?.(request);
  if (bodyId !== undefined) c.set('requestId', bodyId);
  const id = c.get('requestId');
  const state = c.get('state');
  const { model, pin } = pickArm(
    state,
    path.model ?? request.model,
    path.version ?? request.version,
    protocol.modelField,
    () => c.req.header(KEY_HEADER) ?? protocol.keyOf?.(request) ?? id,
  );
  answeredBy(c, model, pin);
  const rows = protocol.rows(request, model, deps.limits.batchRows);
  const predictions = predictRows(model, rows);
  deps.metrics.predictions(model, pin, predictions.counts);
  const latencyMs = performance.now() - c.get('started');
  deps.recorder?.record(model, pin, id, rows, predictions, latencyMs);
  deps.metrics.answered(model, pin, latencyMs / 1000);
  const response = respond(c, protocol.answer(request, model, predictions, id, pin));
  const shadow = state.roles.get(model.name)?.shadow;
  if (shadow !== undefined) predictShadow(deps, protocol, request, shadow, model, rows, id);
  return response;
}

/** Predicts rows with a served model: a batch of two or more rows through its batch path. */
export function predictRows(model: ServedModel, rows: readonly Float64Array[]): Predictions {
  const k = model.predictor.classes.length;
  const n = rows.length;
  const classes = new Int32Array(n);
  const probabilities = new Float64Array(n * k);
  const counts = new Uint32Array(k);
  const batch = model.predictor.predictBatch;
  if (batch !== undefined && n > 1) {
    const d = model.predictor.features.length;
    const x = new Float64Array(n * d);
    for (let i = 0; i < n; i++) x.set(rows[i] as Float64Array, i * d);
    classes.set(batch(x, n, probabilities));
  } else {
    for (let i = 0; i < n; i++) {
      const out = n === 1 ? probabilities : probabilities.subarray(i * k, i * k + k);
      classes[i] = model.predictor.predictRow(rows[i] as Float64Array, out);
    }
  }
  for (let i = 0; i < n; i++) {
    const c = classes[i] as number;
    counts[c] = (counts[c] as number) + 1;
  }
  return { rows: n, classes, probabilities, counts };
}

/** The predicted class of row `i`, as the model's signature names it. */
export function labelOf(model: ServedModel, p: Predictions, i: number): string | number {
  return model.predictor.classes[p.classes[i] as number] as string | number;
}

/** Row `i`'s probabilities keyed by class. */
export function probabilitiesOf(
  model: ServedModel,
  p: Predictions,
  i: number,
): Record<string, number> {
  const keys = model.classKeys;
  const k = keys.length;
  const out: Record<string, number> = {};
  for (let j = 0; j < k; j++) out[keys[j] as string] = p.probabilities[i * k + j] as number;
  return out;
}

/** How long between two log lines about failing shadows. */
const WARN_EVERY_MS = 30_000;
let lastWarning = -Infinity;

/** Whether two versions read the same rows (same features in the same order). */
function sameFeatures(a: ServedModel, b: ServedModel): boolean {
  const x = a.predictor.features;
  const y = b.predictor.features;
  return x.length === y.length && x.every((f, i) => f === y[i]);
}

/**
 * A model's shadow: a version that predicts every request of its model after the answer is
 * sent, so its predictions reach the prediction log (`pin: 'shadow'`) and `/metrics` beside the
 * answering version's, and never reach the caller. It runs in a `setImmediate` callback: the
 * answer is a `Response` with a string body, which `@hono/node-server` writes (`end`) in the
 * microtasks that follow the handler, and immediates run only after those. Its failures are
 * caught, counted (`pinml_shadow_failures_total`) and logged at most once per interval.
 *
 * Predicts `request` with `shadow` once the answer is on its way: the rows the answering
 * version read when the shadow's signature has the same features, else the request read again
 * by the shadow's signature. Returns at once; never throws.
 */
export function predictShadow<R extends Asked>(
  deps: Pick<AppDeps, 'metrics' | 'limits' | 'recorder' | 'log'>,
  protocol: Protocol<R>,
  request: R,
  shadow: ServedModel,
  answered: ServedModel,
  rows: readonly Float64Array[],
  id: string,
): void {
  setImmediate(() => {
    const started = performance.now();
    try {
      const own = sameFeatures(shadow, answered)
        ? rows
        : protocol.rows(request, shadow, deps.limits.batchRows);
      const predictions = predictRows(shadow, own);
      const ms = performance.now() - started;
      deps.metrics.predictions(shadow, 'shadow', predictions.counts);
      deps.metrics.answered(shadow, 'shadow', ms / 1000);
      deps.recorder?.record(shadow, 'shadow', id, own, predictions, ms);
    } catch (err) {
      deps.metrics.shadowFailure(shadow);
      const now = Date.now();
      if (now - lastWarning < WARN_EVERY_MS) return;
      lastWarning = now;
      deps.log.warn(
        { err, model: shadow.name, version: shadow.version, id },
        `the shadow ${shadow.name}@${shadow.version} failed to predict request ${id} ` +
          '(the caller was answered; see pinml_shadow_failures_total for how often)',
      );
    }
  });
}
