/**
 * The inference server as a Hono app, built from its dependencies; it never listens (only
 * `main.ts` opens a socket), so tests drive it through `app.request()`. Every request goes
 * through it: one middleware takes the serving state, stamps who answers and the request id,
 * closes the connection while draining, and counts and times the request; one `onError` answers
 * every refusal. The routes live in `routes/`, one module per protocol or concern.
 */
import { randomUUID } from 'node:crypto';

import { OpenAPIHono } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';

import { REQUEST_ID_HEADER, isUsableRequestId, respond } from './answer/respond.ts';
import type { AppContext, AppDeps, AppEnv } from './deps.ts';
import { RequestError, type ErrorBody } from './http/errors.ts';
import { docsRoutes } from './routes/docs.ts';
import { feedbackRoutes } from './routes/feedback.ts';
import { healthRoutes } from './routes/health.ts';
import { kserveRoutes } from './routes/kserve.ts';
import { logRoutes } from './routes/logs.ts';
import { metricsRoutes } from './routes/metrics.ts';
import { mlflowRoutes } from './routes/mlflow.ts';
import { modelRoutes } from './routes/models.ts';
import { oipRoutes } from './routes/oip.ts';
import { predictRoutes } from './routes/predict.ts';
import type { ServeApp } from './routes/declare.ts';
import { webhookRoutes } from './routes/webhook.ts';

export type { AppDeps } from './deps.ts';

/** Builds the app. */
export function createApp(deps: AppDeps): ServeApp {
  const app = new OpenAPIHono<AppEnv>();
  const newId = deps.requestId ?? randomUUID;

  const first: MiddlewareHandler<AppEnv> = async (c, next) => {
    const started = performance.now();
    const state = deps.state();
    c.set('state', state);
    const given = c.req.header(REQUEST_ID_HEADER);
    const usable = isUsableRequestId(given);
    const id = usable ? given : newId();
    c.set('requestId', id);
    c.set('requestIdGiven', usable);
    c.set('started', started);
    c.set('draining', deps.draining);
    await next();
    const seconds = (performance.now() - started) / 1000;
    // why: the middleware's context is typed loosely; the route helper reads nothing typed from it.
    const route = routeOf(c as Context);
    deps.metrics.request(c.req.method, route, c.res.status, seconds);
    if (deps.log.isLevelEnabled('debug')) {
      const model = c.get('model');
      deps.log.debug(
        {
          method: c.req.method,
          path: c.req.path,
          route,
          status: c.res.status,
          id: c.get('requestId'),
          model: model === undefined ? null : `${model.name}@${model.version}`,
          ms: Math.round(seconds * 1e4) / 10,
        },
        'request',
      );
    }
  };
  app.use('*', first);

  app.onError((err, c) => {
    const { status, body } = errorAnswer(err, routeOf(c), deps, c as AppContext);
    const shape = (c as AppContext).get('errorBody');
    return respond(c as AppContext, shape ? shape(body, status) : body, status);
  });

  app.notFound((c) => {
    deps.metrics.error('unmatched', 'not_found');
    return respond(
      c as AppContext,
      { error: `no route ${c.req.method} ${c.req.path}: see /docs`, code: 'not_found' },
      404,
    );
  });

  for (const routes of [
    predictRoutes,
    oipRoutes,
    mlflowRoutes,
    kserveRoutes,
    healthRoutes,
    modelRoutes,
    metricsRoutes,
    webhookRoutes,
    feedbackRoutes,
    logRoutes,
    docsRoutes,
  ]) {
    routes(app, deps);
  }
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description: 'PINML_ADMIN_TOKEN, for /logs and /feedback',
  });
  return app;
}

/**
 * The answer to an error thrown while answering a request: a `RequestError`'s own status and
 * body, anything else (our bug) a 500 without details, logged. Counted either way.
 */
function errorAnswer(
  err: unknown,
  route: string,
  deps: Pick<AppDeps, 'metrics' | 'log'>,
  c: AppContext,
): { status: number; body: ErrorBody } {
  if (err instanceof RequestError) {
    deps.metrics.error(route, err.code);
    return { status: err.status, body: err.toJSON() };
  }
  deps.metrics.error(route, 'internal');
  deps.log.error(
    { err, method: c.req.method, path: c.req.path, id: c.get('requestId') },
    'internal error',
  );
  return {
    status: 500,
    body: { error: 'internal server error: see the server log', code: 'internal' },
  };
}

/** Route patterns → their labels: the patterns are the app's own, so the map stays small. */
const labels = new Map<string, string>();

/** The matched route's pattern (a bounded metric label), or `unmatched`. */
function routeOf(c: Context): string {
  const path = routePath(c, -1);
  let label = labels.get(path);
  if (label === undefined) {
    label =
      path === '' || path === '*' || path === '/*'
        ? 'unmatched'
        : // `/v1/models/:name{[^/]+:predict}` (routes/declare.ts) is labelled `/v1/models/:name:predict`.
          path.replace(/\{\[\^\/\]\+([^}]*)\}/g, '$1');
    labels.set(path, label);
  }
  return label;
}
