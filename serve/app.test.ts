import { describe, expect, it } from 'vitest';

import { COMMIT_HEADER, VERSION_HEADER } from './answer/headers.ts';
import { COMMIT_A } from './testing/fixtures.ts';
import { one, post } from './testing/routes.ts';

describe('every response', () => {
  it('carries the model version and registry commit headers, errors and 404s included', async () => {
    const requests: (string | Request)[] = [
      '/health',
      '/ready',
      '/models',
      '/models/iris',
      '/models/roses',
      '/metrics',
      '/openapi.json',
      '/docs',
      '/v2',
      '/v2/health/live',
      '/v2/health/ready',
      '/v2/models/iris',
      '/v2/models/iris/ready',
      '/nowhere',
      post('/predict', { inputs: {} }),
      post('/predict', 'x'),
      post('/webhooks/github', {}),
      post('/v2/models/iris/infer', {}),
    ];
    for (const r of requests) {
      const res = await one.request(r);
      const what = typeof r === 'string' ? r : r.url;
      expect(res.headers.get(VERSION_HEADER), what).toMatch(/^iris@1$/);
      expect(res.headers.get(COMMIT_HEADER), what).toBe(COMMIT_A);
    }
  });
});
