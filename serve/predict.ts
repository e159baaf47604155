/**
 * Choosing the model a request asks for, and predicting rows with it. Shared by pinml's own
 * `/predict` routes and the Open Inference Protocol's `infer`.
 */
import { RequestError, invalidInput } from './errors.ts';
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
