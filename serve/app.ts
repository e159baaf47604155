/**
 * The inference server as a Hono app, built from its dependencies; it never listens (only
 * `main.ts` opens a socket), so tests drive it through `app.request()`.
 *
 * Routes: `POST /predict` and `POST /models/{name}/predict`; the Open Inference Protocol v2 under
 * `/v2`; `GET /health`, `/ready`, `/models`, `/models/{name}`, `/metrics`, `/openapi.json`,
 * `/docs`; `POST /webhooks/github`. Every response carries `X-Pinml-Model-Version` and
 * `X-Pinml-Registry-Commit`.
 */
import { Hono, type Context } from 'hono';
import { routePath } from 'hono/route';

import { bodyBytes, jsonBody, limitBody, requireJson } from './body.ts';
import {
  COMMIT_HEADER,
  VERSION_HEADER,
  setModelHeaders,
  stateHeaders,
  type AppContext,
  type AppDeps,
  type AppEnv,
  errorAnswer,
  recordRequest,
} from './context.ts';
import { docsPage } from './docs.ts';
import { RequestError } from './errors.ts';
import type { ServedModel } from './models.ts';
import { oipRoutes } from './oip.ts';
import { openApiDocument } from './openapi.ts';
import { answerPredict, pickModel, type Picked } from './predict.ts';
import { notReadyReasons, statusOf, type ServingState } from './reconcile.ts';
import { isValidSignature, readDelivery } from './webhook.ts';

export type { AppDeps } from './context.ts';

/** GitHub sends payloads of up to 25 MB; a push's is far smaller. Read at most this much. */
const WEBHOOK_BODY_BYTES = 5 * 1024 * 1024;

/** A served model as `/models` describes it: pin, version, commit, card summary, signature. */
export function describeModel(m: ServedModel): Record<string, unknown> {
  const card = m.card;
  return {
    name: m.name,
    version: m.version,
    ref: `${m.name}@${m.version}`,
    pin: 'production',
    commit: m.commit,
    loadedAt: m.loadedAt,
    kind: m.predictor.kind,
    engine: m.predictor.engine,
    signature: card.signature,
    card: {
      createdAt: card.createdAt,
      trainingKey: card.trainingKey,
      code: card.code,
      dataset: {
        path: card.dataset.path,
        sha256: card.dataset.sha256,
        rows: card.dataset.rows,
      },
      candidate: card.candidate,
      metrics: {
        holdout: {
          accuracy: card.metrics.holdout.accuracy,
          macroF1: card.metrics.holdout.macroF1,
          rows: card.metrics.holdout.rows,
        },
        cv: card.metrics.cv.mean,
      },
      decision: card.decision,
      artifact: card.artifact,
    },
  };
}

/** Builds the app. */
export function createApp(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { log, metrics, limits } = deps;
  const draining = (): boolean => deps.draining?.() ?? false;

  // First: take the state once, stamp the headers, count and time the request.
  app.use('*', async (c, next) => {
    const started = performance.now();
    const state = deps.state();
    c.set('state', state);
    const h = stateHeaders(state);
    c.header(VERSION_HEADER, h.versions);
    c.header(COMMIT_HEADER, h.commit);
    await next();
    recordRequest(
      deps,
      {
        method: c.req.method,
        path: c.req.path,
        // why: the middleware's input type is `any`; the route helper reads nothing typed from it.
        route: routeOf(c as Context),
        status: c.res.status,
        model: c.res.headers.get(VERSION_HEADER),
      },
      started,
    );
  });

  app.onError((err, c) => {
    const { status, json } = errorAnswer(err, routeOf(c), deps, {
      method: c.req.method,
      path: c.req.path,
    });
    return c.json(json, status as 400);
  });

  app.notFound((c) => {
    metrics.error('unmatched', 'not_found');
    return c.json(
      {
        error: `no route ${c.req.method} ${c.req.path}: see /docs`,
        code: 'not_found',
      },
      404,
    );
  });

  // ------------------------------------------------------------------ predictions
  const predict = async (c: AppContext, pathModel?: string): Promise<Response> => {
    const body = await jsonBody(c);
    const picked: Picked = { model: undefined };
    let answer: string;
    try {
      answer = answerPredict(c.get('state'), body, pathModel, limits.batchRows, metrics, picked);
    } finally {
      // Before the answer or the error response is built, so both carry the model's headers.
      if (picked.model !== undefined) setModelHeaders(c, picked.model);
    }
    return c.body(answer, 200, { 'Content-Type': 'application/json' });
  };
  const body = [limitBody(limits.bodyBytes), requireJson] as const;
  app.post('/predict', ...body, (c) => predict(c));
  app.post('/models/:name/predict', ...body, (c) => predict(c, c.req.param('name')));

  // ------------------------------------------------------------------ health and models
  app.get('/health', (c) => {
    const state = c.get('state');
    return c.json(health(state, draining()));
  });
  app.get('/ready', (c) => {
    const state = c.get('state');
    const reasons = draining() ? ['shutting down'] : notReadyReasons(state);
    return c.json({ ready: reasons.length === 0, reasons }, reasons.length === 0 ? 200 : 503);
  });
  app.get('/models', (c) => {
    const state = c.get('state');
    return c.json({
      ref: state.ref,
      commit: state.commit,
      models: [...state.models.values()].map(describeModel),
      problems: state.problems,
    });
  });
  app.get('/models/:name', (c) => {
    const model = pickModel(c.get('state'), c.req.param('name'));
    setModelHeaders(c, model);
    return c.json(describeModel(model));
  });
  app.get('/metrics', async (c) => {
    const text = await metrics.registry.metrics();
    return c.text(text, 200, { 'Content-Type': metrics.registry.contentType });
  });

  // ------------------------------------------------------------------ docs
  app.get('/openapi.json', (c) => c.json(openApiDocument(c.get('state'), deps)));
  app.get('/docs', (c) => c.html(docsPage(deps.server)));

  // ------------------------------------------------------------------ webhook
  app.post('/webhooks/github', limitBody(WEBHOOK_BODY_BYTES), async (c) => {
    const secret = deps.webhookSecret;
    if (secret === undefined || secret === '' || deps.reconcile === undefined) {
      throw new RequestError(
        'webhook_disabled',
        'webhooks are off: start the server with a webhook secret (PINML_WEBHOOK_SECRET)',
      );
    }
    const raw = await bodyBytes(c);
    if (!isValidSignature(secret, raw, c.req.header('x-hub-signature-256'))) {
      log.warn({ delivery: c.req.header('x-github-delivery') }, 'webhook refused: bad signature');
      throw new RequestError(
        'invalid_signature',
        'X-Hub-Signature-256 is missing or does not match the body signed with the webhook secret',
        'X-Hub-Signature-256',
      );
    }
    const action = readDelivery(
      c.req.header('x-github-event'),
      raw,
      c.req.header('content-type'),
      c.get('state').ref,
    );
    const delivery = c.req.header('x-github-delivery');
    if (action.kind === 'ping') return c.json({ ok: true, event: 'ping', zen: action.zen ?? null });
    if (action.kind === 'ignore') {
      log.info({ delivery, reason: action.reason }, 'webhook ignored');
      return c.json({ accepted: false, reason: action.reason }, 202);
    }
    log.info({ delivery, ref: action.ref, after: action.after }, 'webhook: reconciling');
    // Answer at once (GitHub waits 10 s at most); the reconcile logs and reports its outcome.
    const reconcile = deps.reconcile;
    void reconcile('webhook').catch((err: unknown) =>
      log.error({ err }, 'webhook reconcile failed'),
    );
    return c.json({ accepted: true, ref: action.ref, after: action.after ?? null }, 202);
  });

  app.route('/v2', oipRoutes(deps));
  // The spec writes the server metadata path as `/v2/`; `/v2` is mounted above.
  app.get('/v2/', (c) =>
    c.json({ name: deps.server.name, version: deps.server.version, extensions: [] }),
  );
  return app;
}

/** The `/health` body: always answered with 200, so a liveness probe never kills a server that serves. */
export function health(state: ServingState, draining: boolean): Record<string, unknown> {
  const reasons = draining ? ['shutting down'] : notReadyReasons(state);
  return {
    status: statusOf(state),
    ready: reasons.length === 0,
    ...(reasons.length > 0 ? { notReady: reasons } : {}),
    ref: state.ref,
    commit: state.commit,
    reconciledAt: state.reconciledAt,
    models: [...state.models.values()].map((m) => ({
      name: m.name,
      version: m.version,
      commit: m.commit,
      loadedAt: m.loadedAt,
    })),
    problems: state.problems,
  };
}

/** The matched route's pattern (a bounded metric label), or `unmatched`. */
function routeOf(c: Context): string {
  const path = routePath(c, -1);
  return path === '' || path === '*' || path === '/*' ? 'unmatched' : path;
}
