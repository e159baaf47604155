import { describe, expect, it } from 'vitest';

import { COMMIT_HEADER, VERSION_HEADER } from '../answer/respond.ts';
import { createApp } from '../app.ts';
import { COMMIT_B, depsOf, stateOf } from '../testing/fixtures.ts';
import { forest, logistic, one, post, probabilitiesOf, rows, two } from '../testing/routes.ts';

const FEATURES = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];
const batch = [rows[5], rows[75], rows[145]] as number[][];
const best = (p: Record<string, number>): string | undefined =>
  Object.entries(p).sort((a, b) => b[1] - a[1])[0]?.[0];

describe('KServe v1', () => {
  // The shapes of KServe's v1 protocol documentation (the sklearn iris example:
  // {"instances": [[6.8, 2.8, 4.8, 1.4], [6.0, 3.4, 4.5, 1.6]]} → {"predictions": [1, 1]}).
  it.each([
    ['instances as arrays in signature order', { instances: batch }],
    [
      'instances as objects',
      { instances: batch.map((r) => Object.fromEntries(FEATURES.map((f, j) => [f, r[j]]))) },
    ],
    ['inputs as rows', { inputs: batch }],
    [
      'inputs as columns',
      { inputs: Object.fromEntries(FEATURES.map((f, j) => [f, batch.map((r) => r[j])])) },
    ],
  ])('predicts %s', async (_what, body) => {
    const res = await two.request(post('/v1/models/iris-lr:predict', body));
    expect(res.status).toBe(200);
    expect(res.headers.get(VERSION_HEADER)).toBe('iris-lr@2');
    expect(res.headers.get(COMMIT_HEADER)).toBe(COMMIT_B);
    expect(await res.json()).toEqual({
      predictions: batch.map((r) => best(probabilitiesOf(logistic, r))),
    });
  });

  it('lists the served models and says whether one is ready', async () => {
    expect(await (await two.request('/v1/models')).json()).toEqual({ models: ['iris', 'iris-lr'] });
    const ready = await one.request('/v1/models/iris');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ name: 'iris', ready: true });
    const draining = createApp(depsOf(stateOf([forest]), { draining: () => true }));
    const leaving = await draining.request('/v1/models/iris');
    expect(leaving.status).toBe(503);
    expect(await leaving.json()).toEqual({ name: 'iris', ready: false });
    const broken = createApp(depsOf(stateOf([], { pinned: ['iris'] })));
    expect((await broken.request('/v1/models/iris')).status).toBe(503);
    const unknown = await one.request('/v1/models/roses');
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: expect.any(String) as unknown });
  });

  it.each([
    ['an unknown model', '/v1/models/roses:predict', { instances: batch }, 404, 'name'],
    ['no instances', '/v1/models/iris:predict', { rows: batch }, 400, 'rows'],
    ['a list body', '/v1/models/iris:predict', [batch], 400, '(body)'],
    ['a short row', '/v1/models/iris:predict', { instances: [[1, 2]] }, 400, 'instances[0]'],
    [
      'a null value',
      '/v1/models/iris:predict',
      { instances: [[1, null, 3, 4]] },
      400,
      'instances[0][1]',
    ],
    ['an instance that is a number', '/v1/models/iris:predict', { instances: 5 }, 400, 'instances'],
  ])('refuses %s with {"error": …} naming the field', async (_what, path, body, status, field) => {
    const res = await one.request(post(path, body));
    expect(res.status).toBe(status);
    const error = (await res.json()) as { error: string; field: string };
    expect(typeof error.error).toBe('string');
    expect(error.field).toBe(field);
  });

  it('labels its metrics with the route, not a regular expression', async () => {
    const deps = depsOf(stateOf([forest]));
    const app = createApp(deps);
    await app.request(post('/v1/models/iris:predict', { instances: batch }));
    const text = await deps.metrics.registry.metrics();
    expect(text).toContain(
      'pinml_http_requests_total{method="POST",route="/v1/models/:name:predict",status="200"} 1',
    );
  });
});
