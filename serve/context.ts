/**
 * What every route shares: the app's dependencies, the serving state a request took when it
 * started (so one request sees one version of everything), and the headers that say which model
 * version and registry commit answered.
 */
import type { Context } from 'hono';
import type { Logger } from 'pino';

import { RequestError } from './errors.ts';
import type { ServeMetrics } from './metrics.ts';
import type { ServedModel } from './models.ts';
import type { ReconcileResult, ReconcileTrigger, ServingState } from './reconcile.ts';

/** Header naming the model version(s) that answered: `iris@3` (several: `a@1, b@2`; `none`). */
export const VERSION_HEADER = 'X-Pinml-Model-Version';
/** Header naming the registry commit that answered (`none` before the first reconcile). */
export const COMMIT_HEADER = 'X-Pinml-Registry-Commit';

/** Limits on what a request may send. */
export interface Limits {
  /** Largest request body in bytes (413 above it). */
  bodyBytes: number;
  /** Most rows in one prediction request (400 above it). */
  batchRows: number;
}

/** What `createApp` is built from: values and ports, no socket. */
export interface AppDeps {
  /** The current serving state (the reconciler's); read once per request. */
  state: () => ServingState;
  /** Starts a reconcile (a webhook calls it); absent when the server cannot reconcile. */
  reconcile?: (trigger: ReconcileTrigger) => Promise<ReconcileResult>;
  /** The shared secret of GitHub webhooks; without one, `/webhooks/github` answers 404. */
  webhookSecret?: string | undefined;
  metrics: ServeMetrics;
  log: Logger;
  limits: Limits;
  /** Package name and version for `/v2` and the OpenAPI document. */
  server: { name: string; version: string };
  /** True once shutdown began: readiness turns false while in-flight requests finish. */
  draining?: () => boolean;
}

/** Hono's environment for this app: the state a request started with. */
export interface AppEnv {
  Variables: { state: ServingState };
}

export type AppContext = Context<AppEnv>;

/** Sets the headers of a response answered by one served model. */
export function setModelHeaders(c: Context, model: ServedModel): void {
  c.header(VERSION_HEADER, `${model.name}@${model.version}`);
  c.header(COMMIT_HEADER, model.commit);
}

const summaries = new WeakMap<ServingState, { versions: string; commit: string }>();

/** The headers of a response about the whole server: every served version, the state's commit. */
export function stateHeaders(state: ServingState): { versions: string; commit: string } {
  let s = summaries.get(state);
  if (s === undefined) {
    const versions = [...state.models.values()].map((m) => `${m.name}@${m.version}`).join(', ');
    s = { versions: versions || 'none', commit: state.commit ?? 'none' };
    summaries.set(state, s);
  }
  return s;
}

/**
 * The answer to an error thrown while answering a request on `route`: a `RequestError`'s own
 * status and JSON, anything else (our bug) a 500 without details, logged. Counted either way.
 * The Hono app's `onError` and the prediction fast paths both answer with it.
 */
export function errorAnswer(
  err: unknown,
  route: string,
  deps: Pick<AppDeps, 'metrics' | 'log'>,
  request: { method: string; path: string },
): { status: number; json: object } {
  if (err instanceof RequestError) {
    deps.metrics.error(route, err.code);
    return { status: err.status, json: err.toJSON() };
  }
  deps.metrics.error(route, 'internal');
  deps.log.error({ err, ...request }, 'internal error');
  return {
    status: 500,
    json: { error: 'internal server error: see the server log', code: 'internal' },
  };
}

/**
 * Counts an answered request and its latency, and logs it at debug (one line per request): the
 * Hono app's middleware and the prediction fast paths both record with it.
 */
export function recordRequest(
  deps: Pick<AppDeps, 'metrics' | 'log'>,
  request: { method: string; path: string; route: string; status: number; model: string | null },
  started: number,
): void {
  const seconds = (performance.now() - started) / 1000;
  deps.metrics.request(request.method, request.route, request.status, seconds);
  if (deps.log.isLevelEnabled('debug')) {
    deps.log.debug({ ...request, ms: Math.round(seconds * 1e4) / 10 }, 'request');
  }
}
