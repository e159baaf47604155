/**
 * `GET /models` and `GET /models/{name}`: the served models with pin, commit, card summary and
 * signature; a model's canary and shadow are listed beside its production version.
 */
import { z } from '@hono/zod-openapi';

import { answeredBy, respond } from '../answer/respond.ts';
import { pickModel } from '../answer/pick.ts';
import type { ServedModel } from '../follow/load-registry.ts';
import type { ServingState } from '../follow/reconcile.ts';
import type { Pin } from '../../pipeline/log/store.ts';
import { declare, errorResponses, jsonResponse, type Routes } from './declare.ts';

/** A served model as `/models` describes it; a canary adds its `weight`. */
export function describeModel(
  m: ServedModel,
  pin: Pin = 'production',
  weight?: number,
): Record<string, unknown> {
  const card = m.card;
  return {
    name: m.name,
    version: m.version,
    ref: `${m.name}@${m.version}`,
    pin,
    ...(weight === undefined ? {} : { weight }),
    commit: m.commit,
    loadedAt: m.loadedAt,
    kind: m.predictor.kind,
    engine: m.predictor.engine,
    signature: card.signature,
    card: {
      createdAt: card.createdAt,
      trainingKey: card.trainingKey,
      code: card.code,
      dataset: { path: card.dataset.path, sha256: card.dataset.sha256, rows: card.dataset.rows },
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

/** Every version a state serves for `m`'s model: production, then its canary and shadow. */
export function describeRoles(state: ServingState, m: ServedModel): Record<string, unknown>[] {
  const roles = state.roles.get(m.name);
  return [
    describeModel(m),
    ...(roles?.canary ? [describeModel(roles.canary.model, 'canary', roles.canary.weight)] : []),
    ...(roles?.shadow ? [describeModel(roles.shadow, 'shadow')] : []),
  ];
}

/** The routes. */
export const modelRoutes: Routes = (app) => {
  declare(
    app,
    {
      method: 'get',
      path: '/models',
      tags: ['pinml'],
      summary: 'Served models: version, commit, card summary, signature',
      responses: { 200: jsonResponse('Models') },
    },
    (c) => {
      const state = c.get('state');
      return Promise.resolve(
        respond(c, {
          ref: state.ref,
          commit: state.commit,
          models: [...state.models.values()].flatMap((m) => describeRoles(state, m)),
          problems: state.problems,
        }),
      );
    },
  );
  declare(
    app,
    {
      method: 'get',
      path: '/models/{name}',
      tags: ['pinml'],
      summary: 'One served model',
      request: { params: z.object({ name: z.string() }) },
      responses: { 200: jsonResponse('Model'), ...errorResponses(404, 503) },
    },
    (c) => {
      const state = c.get('state');
      const [production, ...roles] = describeRoles(
        state,
        answeredBy(c, pickModel(state, c.req.param('name'))),
      );
      return Promise.resolve(respond(c, { ...production, roles }));
    },
  );
};
