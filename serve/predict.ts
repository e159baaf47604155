/**
 * Choosing the model a request asks for, and predicting rows with it. Shared by pinml's own
 * `/predict` routes and the Open Inference Protocol's `infer`.
 */
import type { Label } from '../pipeline/models/types.ts';
import { RequestError, invalidInput } from './errors.ts';
import { readEnvelope } from './inputs.ts';
import type { ServeMetrics } from './metrics.ts';
import type { ServedModel } from './models.ts';
import type { ServingState } from './reconcile.ts';

/**
 * The served model a request names (`name`), or the only one served when it names none.
 * 404 for a model that is not served, 503 for one pinned but not loaded, 400 when several
 * are served and none is named; with `version`, 404 unless that version is the one served.
 */
export function pickModel(
  state: ServingState,
  name: string | undefined,
  version?: number,
  field = 'model',
): ServedModel {
  let model: ServedModel | undefined;
  if (name === undefined) {
    if (state.models.size === 1) model = state.models.values().next().value;
    else if (state.models.size === 0) {
      throw new RequestError(
        'model_not_ready',
        `no model is served yet (${state.reconciledAt === null ? 'starting' : 'see /health'})`,
      );
    } else {
      throw invalidInput(
        field,
        `this server serves several models (${[...state.models.keys()].join(', ')}): name one, or POST /models/{name}/predict`,
      );
    }
  } else {
    model = state.models.get(name);
    if (model === undefined) {
      if (state.pinned.includes(name)) {
        throw new RequestError(
          'model_not_ready',
          `${name} is pinned but no version of it could be loaded: see /health`,
        );
      }
      const served = [...state.models.keys()].join(', ') || 'none';
      throw new RequestError(
        'model_not_found',
        `no model named ${JSON.stringify(name)} is served (served: ${served})`,
        field,
      );
    }
  }
  if (model === undefined) throw new RequestError('model_not_ready', 'no model is served yet');
  if (version !== undefined && version !== model.version) {
    throw new RequestError(
      'version_not_found',
      `${model.name}@${version} is not served: ${model.name}@${model.version} is, as pinned at ${model.commit.slice(0, 12)}`,
      'version',
    );
  }
  return model;
}

/** Predictions for rows: class index per row and probabilities, row-major (`rows × classes`). */
export interface Predictions {
  classes: Int32Array;
  probabilities: Float64Array;
  /** Rows per predicted class, for the metrics. */
  counts: Uint32Array;
}

export function predictRows(model: ServedModel, rows: readonly Float64Array[]): Predictions {
  const k = model.predictor.classes.length;
  const classes = new Int32Array(rows.length);
  const probabilities = new Float64Array(rows.length * k);
  const counts = new Uint32Array(k);
  for (let i = 0; i < rows.length; i++) {
    const c = model.predictor.predictRow(
      rows[i] as Float64Array,
      probabilities.subarray(i * k, i * k + k),
    );
    classes[i] = c;
    counts[c] = (counts[c] as number) + 1;
  }
  return { classes, probabilities, counts };
}

/** One row's answer: the class and every class's probability. */
export interface RowAnswer {
  class: string | number;
  probabilities: Record<string, number>;
}

function rowAnswer(model: ServedModel, p: Predictions, i: number): RowAnswer {
  const k = model.classKeys.length;
  const probabilities: Record<string, number> = {};
  for (let j = 0; j < k; j++) {
    probabilities[model.classKeys[j] as string] = p.probabilities[i * k + j] as number;
  }
  return { class: model.predictor.classes[p.classes[i] as number] as Label, probabilities };
}

/** Where {@link answerPredict} records the model it picked (a refusal of its rows included). */
export interface Picked {
  model: ServedModel | undefined;
}

/**
 * Answers a `POST /predict` body (parsed JSON) against a serving state: picks the model (from
 * the path, else the body, else the only one), reads the rows, predicts and counts them. Records
 * the model in `picked` as soon as it is known, so even a refusal of its rows can carry its
 * headers. Throws `RequestError` for the caller's mistakes. Shared by the Hono route and the
 * node fast path.
 */
export function answerPredict(
  state: ServingState,
  body: unknown,
  pathModel: string | undefined,
  batchLimit: number,
  metrics: ServeMetrics,
  picked: Picked,
): Record<string, unknown> {
  const envelope = readEnvelope(body);
  if (pathModel !== undefined && envelope.model !== undefined && envelope.model !== pathModel) {
    throw invalidInput('model', `names ${envelope.model} but the path names ${pathModel}`);
  }
  const model = pickModel(state, pathModel ?? envelope.model, envelope.version);
  picked.model = model;
  const { rows, batch } = model.inputs.read(envelope.inputs, 'inputs', batchLimit);
  const p = predictRows(model, rows);
  metrics.predictions(model, p.counts);
  const out: Record<string, unknown> = {
    model: model.name,
    version: model.version,
    commit: model.commit,
  };
  if (envelope.id !== undefined) out.id = envelope.id;
  if (batch) {
    const predictions: RowAnswer[] = new Array<RowAnswer>(rows.length);
    for (let i = 0; i < rows.length; i++) predictions[i] = rowAnswer(model, p, i);
    out.predictions = predictions;
  } else {
    out.prediction = rowAnswer(model, p, 0);
  }
  return out;
}
