/** Choosing the served model a request asks for. */
import { z } from 'zod';

import type { ServingState } from '../follow/reconcile.ts';
import type { ServedModel } from '../follow/load-registry.ts';
import { RequestError, invalidInput } from '../http/errors.ts';
import { chooseArm, type AnswerPin } from './arm.ts';

/**
 * The served model a request names (`name`), or the only one served when it names none.
 * 404 for a model that is not served, 503 for one pinned but not loaded, 400 when several
 * are served and none is named; with `version`, 404 unless that version is the one served in
 * production or as its canary (then the canary is returned). `field` is where the request names a model (`model`, `model_name`, `X-Pinml-Model`).
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
        `this server serves several models (${[...state.models.keys()].join(', ')}): name one (${field})`,
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
    const canary = state.roles.get(model.name)?.canary?.model;
    if (canary?.version === version) return canary;
    throw new RequestError(
      'version_not_found',
      `${model.name}@${version} is not served: ${model.name}@${model.version} is, as pinned at ${model.commit.slice(0, 12)}` +
        (canary === undefined ? '' : ` (and ${model.name}@${canary.version} as its canary)`),
      'version',
    );
  }
  return model;
}

/** The served version that answers a request, and its pin. */
export interface Arm {
  readonly model: ServedModel;
  readonly pin: AnswerPin;
}

/**
 * The arm that answers a request for `name` (see {@link pickModel}): with `version`, the pin
 * serving that version; else, when the model has a canary, the arm its key chooses
 * (`chooseArm`); else production. `key` is only read when a canary needs it.
 */
export function pickArm(
  state: ServingState,
  name: string | undefined,
  version: number | undefined,
  field: string,
  key: () => string,
): Arm {
  const model = pickModel(state, name, version, field);
  const canary = state.roles.get(model.name)?.canary;
  if (canary === undefined) return { model, pin: 'production' };
  if (version !== undefined)
    return { model, pin: model === canary.model ? 'canary' : 'production' };
  return chooseArm(model.name, key(), canary.weight) === 'canary'
    ? { model: canary.model, pin: 'canary' }
    : { model, pin: 'production' };
}

/** A version as a path or query names it (`3`); 404 `version_not_found` for anything else. */
export function versionOf(text: string): number {
  if (!/^[1-9]\d{0,15}$/.test(text)) {
    throw new RequestError(
      'version_not_found',
      `${JSON.stringify(text)} is not a version: versions are positive integers`,
      'version',
    );
  }
  return Number(text);
}

/** A model version as a request body may name it: `3` or `"3"`. */
export const versionSchema = z.union([
  z.int().min(1),
  z.string().regex(/^[1-9]\d{0,15}$/, 'must be a positive integer'),
]);
