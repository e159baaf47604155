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
  const batch = model.predictor.predictBatch;
  if (batch !== undefined && rows.length > 1) {
    const d = model.predictor.features.length;
    const x = new Float64Array(rows.length * d);
    for (let i = 0; i < rows.length; i++) x.set(rows[i] as Float64Array, i * d);
    const index = batch(x, rows.length, probabilities);
    for (let i = 0; i < rows.length; i++) {
      const c = index[i] as number;
      classes[i] = c;
      counts[c] = (counts[c] as number) + 1;
    }
    return { classes, probabilities, counts };
  }
  for (let i = 0; i < rows.length; i++) {
    const out = rows.length === 1 ? probabilities : probabilities.subarray(i * k, i * k + k);
    const c = model.predictor.predictRow(rows[i] as Float64Array, out);
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

/** Where {@link answerPredict} records the model it picked (a refusal of its rows included). */
export interface Picked {
  model: ServedModel | undefined;
}

/**
 * Answers a `POST /predict` body (parsed JSON) against a serving state: picks the model (from
 * the path, else the body, else the only one), reads the rows, predicts and counts them, and
 * returns the answer as JSON text. Records the model in `picked` as soon as it is known, so even
 * a refusal of its rows can carry its headers. Throws `RequestError` for the caller's mistakes.
 * Shared by the Hono route and the node fast path.
 */
export function answerPredict(
  state: ServingState,
  body: unknown,
  pathModel: string | undefined,
  batchLimit: number,
  metrics: ServeMetrics,
  picked: Picked,
): string {
  const envelope = readEnvelope(body);
  if (pathModel !== undefined && envelope.model !== undefined && envelope.model !== pathModel) {
    throw invalidInput('model', `names ${envelope.model} but the path names ${pathModel}`);
  }
  const model = pickModel(state, pathModel ?? envelope.model, envelope.version);
  picked.model = model;
  const { rows, batch } = model.inputs.read(envelope.inputs, 'inputs', batchLimit);
  const p = predictRows(model, rows);
  metrics.predictions(model, p.counts);
  const w = writerOf(model);
  let text = w.head;
  if (envelope.id !== undefined) text += `,"id":${JSON.stringify(envelope.id)}`;
  if (batch) {
    text += ',"predictions":[';
    for (let i = 0; i < rows.length; i++) text += (i > 0 ? ',' : '') + w.row(p, i);
    return `${text}]}`;
  }
  return `${text},"prediction":${w.row(p, 0)}}`;
}

/**
 * The JSON of a model's answers, written as text from fragments made once per served model:
 * the same bytes as `JSON.stringify` of `{model, version, commit, id?, prediction(s)}` with
 * `{class, probabilities}` rows, without building those objects on every request.
 */
interface AnswerWriter {
  /** `{"model":…,"version":…,"commit":…` */
  readonly head: string;
  /** One row's `{"class":…,"probabilities":{…}}`. */
  row(p: Predictions, i: number): string;
}

const writers = new WeakMap<ServedModel, AnswerWriter>();

function writerOf(model: ServedModel): AnswerWriter {
  let w = writers.get(model);
  if (w === undefined) {
    w = answerWriter(model);
    writers.set(model, w);
  }
  return w;
}

function answerWriter(model: ServedModel): AnswerWriter {
  const head = JSON.stringify({ model: model.name, version: model.version, commit: model.commit });
  const keys = model.classKeys;
  const k = keys.length;
  // An object lists integer-like keys first, keeps one of equal keys and ignores `__proto__`:
  // where those would change the class keys, the object defines the bytes, so build it.
  const plain = (key: string): boolean => !/^(?:0|[1-9]\d*)$/.test(key) && key !== '__proto__';
  if (!keys.every(plain) || new Set(keys).size !== k) {
    return {
      head: head.slice(0, -1),
      row: (p, i) => JSON.stringify(rowAnswer(model, p, i)),
    };
  }
  const classes = model.predictor.classes.map(
    (c) => `{"class":${JSON.stringify(c)},"probabilities":{`,
  );
  const names = keys.map((key, j) => `${j > 0 ? ',' : ''}${JSON.stringify(key)}:`);
  return {
    head: head.slice(0, -1),
    row(p, i) {
      let text = classes[p.classes[i] as number] as string;
      for (let j = 0; j < k; j++) {
        text += (names[j] as string) + jsonNumber(p.probabilities[i * k + j] as number);
      }
      return `${text}}}`;
    },
  };
}

/** A number as `JSON.stringify` writes it. */
function jsonNumber(x: number): string {
  return Number.isFinite(x) ? String(x) : 'null';
}

function rowAnswer(model: ServedModel, p: Predictions, i: number): RowAnswer {
  const k = model.classKeys.length;
  const probabilities: Record<string, number> = {};
  for (let j = 0; j < k; j++) {
    probabilities[model.classKeys[j] as string] = p.probabilities[i * k + j] as number;
  }
  return { class: model.predictor.classes[p.classes[i] as number] as Label, probabilities };
}
