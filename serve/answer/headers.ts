/**
 * The headers that say who answered: `X-Pinml-Model-Version` (`iris@3`; several: `a@1, b@2`;
 * `none`), `X-Pinml-Registry-Commit` (`none` before the first reconcile) and `X-Request-Id`.
 * Stamped once per request when it starts (the whole server's versions) and again when a route
 * chooses its model; this is the only place these headers are written.
 */
import type { ServingState } from '../follow/reconcile.ts';
import { versionRef, type ServedModel } from '../follow/served.ts';
import type { AppContext } from '../deps.ts';

/** Header naming the model version(s) that answered. */
export const VERSION_HEADER = 'X-Pinml-Model-Version';
/** Header naming the registry commit that answered. */
export const COMMIT_HEADER = 'X-Pinml-Registry-Commit';
/** The request's id: the caller's `X-Request-Id` when it is a usable one, else a new one. */
export const REQUEST_ID_HEADER = 'X-Request-Id';

interface Stamp {
  version: string;
  commit: string;
}

const stamps = new WeakMap<ServingState | ServedModel, Stamp>();

function stampOf(by: ServingState | ServedModel): Stamp {
  let s = stamps.get(by);
  if (s === undefined) {
    s =
      'models' in by
        ? {
            version: [...by.models.values()].map(versionRef).join(', ') || 'none',
            commit: by.commit ?? 'none',
          }
        : { version: versionRef(by), commit: by.commit };
    stamps.set(by, s);
  }
  return s;
}

/** Says in the headers that `by` (the whole serving state, or one model) answers. */
export function stamp(c: AppContext, by: ServingState | ServedModel): void {
  const s = stampOf(by);
  c.header(VERSION_HEADER, s.version);
  c.header(COMMIT_HEADER, s.commit);
}

/** Records the model that answers a request: for the headers, the logs and the metrics. */
export function answeredBy(c: AppContext, model: ServedModel): ServedModel {
  c.set('model', model);
  stamp(c, model);
  return model;
}

/** A caller's request id is kept when it is 1 to 128 visible ASCII characters. */
export function isUsableRequestId(id: string | undefined): id is string {
  return id !== undefined && /^[\x21-\x7e]{1,128}$/.test(id);
}
