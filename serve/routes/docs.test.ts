import { describe, expect, it } from 'vitest';

import { FEATURES, one, two } from '../testing/routes.ts';

describe('GET /openapi.json and /docs', () => {
  it('generates the OpenAPI document from the request schemas, one path per served model', async () => {
    const res = await two.request('/openapi.json');
    expect(res.status).toBe(200);
    const doc = (await res.json()) as {
      openapi: string;
      paths: Record<string, unknown>;
      components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
    };
    expect(doc.openapi).toBe('3.1.0');
    for (const path of [
      '/predict',
      '/models/iris/predict',
      '/models/iris-lr/predict',
      '/health',
      '/ready',
      '/metrics',
      '/v2/health/live',
      '/v2/models/{model}/versions/{version}/infer',
      '/webhooks/github',
    ]) {
      expect(doc.paths, path).toHaveProperty([path]);
    }
    const iris = doc.components.schemas.PredictRequest_iris;
    expect(iris?.properties?.inputs).toMatchObject({
      anyOf: [
        { type: 'object', required: FEATURES, additionalProperties: false },
        { type: 'array', minItems: 1, maxItems: 5 },
      ],
    });
  });

  it('serves a docs page that needs nothing from the network', async () => {
    const res = await one.request('/docs');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await res.text();
    expect(html).toContain("fetch('/openapi.json')");
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
  });
});
