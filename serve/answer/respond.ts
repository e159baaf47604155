/**
 * Every answer is one value, built once, here: status, body and headers. The headers say who
 * answered: `X-Pinml-Model-Version` (`iris@3`; several: `a@1, b@2`; `none`), `X-Pinml-Pin`
 * (`production` or `canary`, when one model answered),
 * `X-Pinml-Registry-Commit` (`none` before the first reconcile), `X-Request-Id`, and
 * `Connection: close` after a body over the limit and while the server drains. They are a plain
 * object (which `@hono/node-server` hands to `writeHead` as it is, where a `Headers` would be
 * validated and copied on every answer).
 */
import type { ServingState } from '../follow/reconcile.ts';
import { versionRef, type ServedModel } from '../follow/load-registry.ts';
import type { AppContext } from '../deps.ts';
import type { AnswerPin } from './arm.ts';

/** Header naming the model version(s) that answered. */
export const VERSION_HEADER = 'X-Pinml-Model-Version';
/** Header naming the registry commit that answered. */
export const COMMIT_HEADER = 'X-Pinml-Registry-Commit';
/** Header naming the pin of the version that answered (`production`, `canary`). */
export const PIN_HEADER = 'X-Pinml-Pin';
/** Header giving the key that chooses a canary's arm (the same key, the same arm). */
export const KEY_HEADER = 'X-Pinml-Key';
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

/** Records the model that answers a request, and its pin: for the headers, the logs and the metrics. */
export function answeredBy(
  c: AppContext,
  model: ServedModel,
  pin: AnswerPin = 'production',
): ServedModel {
  c.set('model', model);
  c.set('pin', pin);
  return model;
}

/**
 * The answer: `body` as JSON, or as it is with a `type` (a string); the headers name the model
 * that answered when a route chose one (`answeredBy`), else every model the state serves.
 */
export function respond(
  c: AppContext,
  body: unknown,
  status = 200,
  type?: string,
  extra?: Record<string, string>,
): Response {
  const model = c.get('model');
  const s = stampOf(model ?? c.get('state'));
  const headers: Record<string, string> = {
    'content-type': type ?? 'application/json',
    [VERSION_HEADER]: s.version,
    [COMMIT_HEADER]: s.commit,
    [REQUEST_ID_HEADER]: c.get('requestId'),
  };
  if (model !== undefined) headers[PIN_HEADER] = c.get('pin') ?? 'production';
  // A body over the limit is not read: the connection closes after the answer instead. While
  // draining, every answer closes its connection, so keep-alive clients leave (http/server.ts).
  if (status === 413 || c.get('draining')?.() === true) headers.connection = 'close';
  if (extra !== undefined) Object.assign(headers, extra);
  return new Response(type === undefined ? JSON.stringify(body) : (body as string), {
    status,
    headers,
  });
}

/** A caller's request id is kept when it is 1 to 128 visible ASCII characters. */
export function isUsableRequestId(id: string | undefined): id is string {
  return id !== undefined && /^[\x21-\x7e]{1,128}$/.test(id);
}
