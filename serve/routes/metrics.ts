/** `GET /metrics`: the Prometheus text exposition of the server's metrics. */
import { respond } from '../answer/respond.ts';
import { z } from '@hono/zod-openapi';

import { declare, type Routes } from './declare.ts';

/** The route. */
export const metricsRoutes: Routes = (app, deps) => {
  declare(
    app,
    {
      method: 'get',
      path: '/metrics',
      tags: ['health'],
      summary: 'Prometheus metrics (text exposition format)',
      responses: {
        200: { description: 'Metrics', content: { 'text/plain': { schema: z.string() } } },
      },
    },
    async (c) =>
      respond(c, await deps.metrics.registry.metrics(), 200, deps.metrics.registry.contentType),
  );
};
