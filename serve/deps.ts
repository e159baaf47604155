/**
 * What the app is built from (values and ports, no socket), and what a request carries through
 * Hono: the serving state it took when it started (so one request sees one version of
 * everything), its request id, the model that answered it, and how its protocol shapes errors.
 */
import type { Context } from 'hono';
import type { Logger } from 'pino';

import type { ReconcileResult, ReconcileTrigger, ServingState } from './follow/reconcile.ts';
import type { ServedModel } from './follow/load-registry.ts';
import type { AnswerPin } from './answer/arm.ts';
import type { ErrorBody } from './http/errors.ts';
import type { Recorder } from './log/recorder.ts';
import type { ServeMetrics } from './metrics.ts';

/** Limits on what a request may send. */
export interface Limits {
  /**
   * Largest request body in bytes (413 above it). Undefined: sized from the batch limit and the
   * served models' features (see `bodyLimitOf`).
   */
  bodyBytes: number | undefined;
  /** Most rows in one prediction request (400 above it). */
  batchRows: number;
}

/** What `createApp` is built from. */
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
  /** Package name and version for `/v2`, `/version` and the OpenAPI document. */
  server: { name: string; version: string };
  /** True once shutdown began: readiness turns false and every answer closes its connection. */
  draining?: () => boolean;
  /** Makes a request id when the caller sent none (default: a random UUID). */
  requestId?: () => string;
  /** Records every answered row in the prediction log; absent when the log is off. */
  recorder?: Recorder | undefined;
  /** The token `/logs` and `/feedback` require (`Authorization: Bearer …`); absent: they are off. */
  adminToken?: string | undefined;
}

/** Hono's environment for this app. */
export interface AppEnv {
  Variables: {
    state: ServingState;
    requestId: string;
    /** Whether the caller sent the request id (else a body id may name the request). */
    requestIdGiven: boolean;
    /** When the request arrived (`performance.now()`). */
    started: number;
    /** The model that answered (set once it is chosen), for the headers and the logs. */
    model: ServedModel | undefined;
    /** The pin of the model that answered: production, or its canary. */
    pin: AnswerPin | undefined;
    /** Whether the server is draining (every answer then closes its connection). */
    draining: (() => boolean) | undefined;
    /** How this route's protocol shapes an error body (MLflow adds `error_code`, `message`). */
    errorBody: ((body: ErrorBody, status: number) => object) | undefined;
  };
}

export type AppContext = Context<AppEnv>;
