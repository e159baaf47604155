import { describe, expect, it } from 'vitest';

import { COMMIT_HEADER, REQUEST_ID_HEADER, VERSION_HEADER } from './answer/respond.ts';
import { createApp } from './app.ts';
import { COMMIT_A, depsOf, stateOf } from './testing/fixtures.ts';
import { forest, one, post, rowObject, rows } from './testing/routes.ts';

describe('every prediction route', () => {
  it('never answers a 5xx to random bodies', async () => {
    const good = rowObject(rows[0] as number[]);
    const values: unknown[] = [
      null,
      true,
      0,
      -1,
      1e308,
      '',
      'x',
      [],
      {},
      [[]],
      [{}],
      { a: 1 },
      good,
      [good],
      [[1, 2, 3, 4]],
      [1, 2, 3, 4],
      { sepal_length: [1] },
    ];
    const keys = [
      'inputs',
      'instances',
      'dataframe_split',
      'dataframe_records',
      'columns',
      'data',
      'model',
      'version',
      'params',
      'id',
      'outputs',
      'name',
      'shape',
      'datatype',
    ];
    let seed = 11;
    const next = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const randomValue = (depth: number): unknown => {
      if (depth > 2 || next(3) > 0) return values[next(values.length)];
      const o: Record<string, unknown> = {};
      for (let k = next(3); k >= 0; k--)
        o[keys[next(keys.length)] as string] = randomValue(depth + 1);
      return next(4) === 0 ? [o] : o;
    };
    const paths = [
      '/predict',
      '/models/iris/predict',
      '/v2/models/iris/infer',
      '/invocations',
      '/v1/models/iris:predict',
    ];
    for (let i = 0; i < 400; i++) {
      const path = paths[i % paths.length] as string;
      const body = randomValue(0);
      const res = await one.request(post(path, body));
      expect(res.status, `${path} ${JSON.stringify(body)}`).toBeLessThan(500);
      expect(res.headers.get(VERSION_HEADER)).toBe('iris@1');
    }
  });
});

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
      '/v1/models',
      '/v1/models/iris',
      '/ping',
      '/version',
      '/nowhere',
      post('/predict', { inputs: {} }),
      post('/predict', 'x'),
      post('/webhooks/github', {}),
      post('/v2/models/iris/infer', {}),
      post('/invocations', {}),
      post('/v1/models/iris:predict', {}),
    ];
    for (const r of requests) {
      const res = await one.request(r);
      const what = typeof r === 'string' ? r : r.url;
      expect(res.headers.get(VERSION_HEADER), what).toMatch(/^iris@1$/);
      expect(res.headers.get(COMMIT_HEADER), what).toBe(COMMIT_A);
    }
  });

  it('carries a request id: the caller’s when it is usable, else a new one', async () => {
    let n = 0;
    const app = createApp(depsOf(stateOf([forest]), { requestId: () => `generated-${++n}` }));
    const given = await app.request('/health', { headers: { 'x-request-id': 'abc-123' } });
    expect(given.headers.get(REQUEST_ID_HEADER)).toBe('abc-123');
    const none = await app.request('/health');
    expect(none.headers.get(REQUEST_ID_HEADER)).toBe('generated-1');
    const unusable = await app.request('/health', { headers: { 'x-request-id': 'x'.repeat(200) } });
    expect(unusable.headers.get(REQUEST_ID_HEADER)).toBe('generated-2');
    const error = await app.request(post('/predict', 'x', { 'x-request-id': 'r-9' }));
    expect(error.status).toBe(400);
    expect(error.headers.get(REQUEST_ID_HEADER)).toBe('r-9');
    const random = await one.request('/health');
    expect(random.headers.get(REQUEST_ID_HEADER)).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('closes the connection after a body over the limit, and after every answer while draining', async () => {
    const big = await one.request(post('/predict', { inputs: {}, id: 'x'.repeat(5000) }));
    expect(big.status).toBe(413);
    expect(big.headers.get('connection')).toBe('close');
    const ok = await one.request(post('/predict', { inputs: rowObject(rows[0] as number[]) }));
    expect(ok.headers.get('connection')).toBeNull();
    const draining = createApp(depsOf(stateOf([forest]), { draining: () => true }));
    for (const path of ['/health', '/models/iris']) {
      expect((await draining.request(path)).headers.get('connection'), path).toBe('close');
    }
    const answered = await draining.request(
      post('/predict', { inputs: rowObject(rows[0] as number[]) }),
    );
    expect(answered.status).toBe(200);
    expect(answered.headers.get('connection')).toBe('close');
  });
});
