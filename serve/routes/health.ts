/**
 * `GET /health` (liveness: always 200 while the process serves, `degraded` with the reasons
 * when a pinned version failed to load) and `GET /ready` (readiness: 200 when every pinned model
 * is served, 503 otherwise and while shutting down).
 */
import { respond } from '../answer/respond.ts';
import { z } from '@hono/zod-openapi';

import { notReadyReasons, statusOf, type ServingState } from '../follow/reconcile.ts';
import type { RecorderStatus } from '../log/recorder.ts';
import type { Pin } from '../../pipeline/log/store.ts';
import { declare, errorResponses, jsonResponse, type Routes } from './declare.ts';

const problem = z.object({
  model: z.string().optional(),
  version: z.int().optional(),
  pin: z.enum(['canary', 'shadow']).optional(),
  commit: z.string().nullable(),
  code: z.string(),
  message: z.string(),
});

/** `GET /health` answers (always 200). */
export const healthSchema = z
  .object({
    status: z.enum(['starting', 'ok', 'degraded']),
    ready: z.boolean(),
    notReady: z.array(z.string()).optional(),
    ref: z.string(),
    commit: z.string().nullable(),
    reconciledAt: z.string().nullable(),
    models: z.array(
      z.object({
        name: z.string(),
        version: z.int(),
        pin: z.enum(['production', 'canary', 'shadow']),
        weight: z.number().optional().describe("A canary's share of the requests."),
        commit: z.string(),
        loadedAt: z.string(),
      }),
    ),
    problems: z.array(problem),
    predictionLog: z
      .object({
        state: z.enum(['ok', 'degraded', 'off']),
        location: z.string().optional(),
        reason: z.string().optional(),
        queued: z.int().optional(),
        dropped: z.int().optional(),
      })
      .describe('The prediction log: degraded, with the reason, while it cannot be written.'),
  })
  .openapi('Health');

/** The `/health` body. */
export function health(
  state: ServingState,
  draining: boolean,
  log?: RecorderStatus,
): z.infer<typeof healthSchema> {
  const reasons = draining ? ['shutting down'] : notReadyReasons(state);
  const status = statusOf(state);
  return {
    status: status === 'ok' && log?.state === 'degraded' ? 'degraded' : status,
    ready: reasons.length === 0,
    ...(reasons.length > 0 ? { notReady: reasons } : {}),
    ref: state.ref,
    commit: state.commit,
    reconciledAt: state.reconciledAt,
    models: [...state.models.values()].flatMap((m) => {
      const roles = state.roles.get(m.name);
      const entry = (v: typeof m, pin: Pin, weight?: number) => ({
        name: v.name,
        version: v.version,
        pin,
        ...(weight === undefined ? {} : { weight }),
        commit: v.commit,
        loadedAt: v.loadedAt,
      });
      return [
        entry(m, 'production'),
        ...(roles?.canary ? [entry(roles.canary.model, 'canary', roles.canary.weight)] : []),
        ...(roles?.shadow ? [entry(roles.shadow, 'shadow')] : []),
      ];
    }),
    problems: [...state.problems],
    predictionLog:
      log === undefined
        ? { state: 'off' }
        : {
            state: log.state,
            location: log.location,
            ...(log.reason !== undefined ? { reason: log.reason } : {}),
            queued: log.queued,
            dropped: log.dropped,
          },
  };
}

/** The routes. */
export const healthRoutes: Routes = (app, deps) => {
  const draining = (): boolean => deps.draining?.() ?? false;
  declare(
    app,
    {
      method: 'get',
      path: '/health',
      tags: ['health'],
      summary: 'Status: ok, degraded (with the reasons) or starting; always 200',
      responses: { 200: jsonResponse('Status', healthSchema) },
    },
    (c) => Promise.resolve(respond(c, health(c.get('state'), draining(), deps.recorder?.status()))),
  );
  declare(
    app,
    {
      method: 'get',
      path: '/ready',
      tags: ['health'],
      summary: 'Readiness: 200 when every pinned model is served, else 503',
      responses: {
        200: jsonResponse('Ready', z.object({ ready: z.boolean(), reasons: z.array(z.string()) })),
        ...errorResponses(503),
      },
    },
    (c) => {
      const reasons = draining() ? ['shutting down'] : notReadyReasons(c.get('state'));
      return Promise.resolve(
        respond(c, { ready: reasons.length === 0, reasons }, reasons.length === 0 ? 200 : 503),
      );
    },
  );
};
