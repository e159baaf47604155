import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { COMMIT_HEADER, VERSION_HEADER } from './context.ts';
import { createFastPredict, nodeListener } from './fast-predict.ts';
import { twoModelApp } from './testing/fixtures.ts';
import { listenLoopback, stopServer } from './testing/server.ts';

const { deps, app } = await twoModelApp();
let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer(nodeListener(app, deps));
  base = `http://127.0.0.1:${await listenLoopback(server)}`;
});
afterAll(() => stopServer(server));

const row = { sepal_length: 6.3, sepal_width: 2.9, petal_length: 5.6, petal_width: 1.8 };
const cases: [string, string, string, Record<string, string>?][] = [
  ['one row', '/predict', JSON.stringify({ model: 'iris', inputs: row })],
  ['a batch by path', '/models/iris-lr/predict', JSON.stringify({ inputs: [row, row], id: 'b' })],
  ['a query string', '/predict?debug=1', JSON.stringify({ model: 'iris', inputs: row })],
  ['a bad row', '/models/iris/predict', JSON.stringify({ inputs: { ...row, petal_width: 'x' } })],
  ['no model named', '/predict', JSON.stringify({ inputs: row })],
  ['an unknown model', '/models/roses/predict', JSON.stringify({ inputs: row })],
  ['an escaped model name', '/models/iris%2Dlr/predict', JSON.stringify({ inputs: row })],
  ['a wrong version', '/predict', JSON.stringify({ model: 'iris', version: 9, inputs: row })],
  ['malformed JSON', '/predict', '{"inputs": '],
  ['an empty body', '/predict', ''],
  ['a text body', '/predict', 'hello', { 'content-type': 'text/plain' }],
  ['an oversized body', '/predict', JSON.stringify({ inputs: row, id: 'x'.repeat(5000) })],
  ['an OIP infer, one tensor per feature', '/v2/models/iris/infer', JSON.stringify(infer())],
  [
    'an OIP infer, one [N, d] tensor, an id and one output',
    '/v2/models/iris-lr/versions/2/infer',
    JSON.stringify({
      id: 'r1',
      inputs: [
        { name: 'x', shape: [2, 4], datatype: 'FP32', data: [6.3, 2.9, 5.6, 1.8, 5, 3, 1, 0.2] },
      ],
      outputs: [{ name: 'label' }],
    }),
  ],
  ['an OIP infer of a wrong version', '/v2/models/iris/versions/7/infer', JSON.stringify(infer())],
  ['an OIP infer of a bad version', '/v2/models/iris/versions/x/infer', JSON.stringify(infer())],
  ['an OIP infer of an unknown model', '/v2/models/roses/infer', JSON.stringify(infer())],
  [
    'an OIP infer with a tensor too short',
    '/v2/models/iris/infer',
    JSON.stringify({ inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP64', data: [1, 2] }] }),
  ],
  ['an OIP infer that is not one', '/v2/models/iris/infer', JSON.stringify({ inputs: row })],
  ['an OIP infer of malformed JSON', '/v2/models/iris/infer', '{"inputs": '],
];

/** An infer request with one tensor per feature of `row`. */
function infer(): unknown {
  return {
    inputs: Object.entries(row).map(([name, v]) => ({
      name,
      shape: [1],
      datatype: 'FP64',
      data: [v],
    })),
  };
}

describe('the node fast path for predictions', () => {
  it.each(cases)('answers %s exactly as the Hono app does', async (_what, path, body, headers) => {
    const init = {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    };
    const viaSocket = await fetch(`${base}${path}`, init);
    const viaApp = await app.request(path, init);
    expect(viaSocket.status).toBe(viaApp.status);
    for (const h of [VERSION_HEADER, COMMIT_HEADER, 'content-type']) {
      expect(viaSocket.headers.get(h), h).toBe(viaApp.headers.get(h));
    }
    expect(await viaSocket.text()).toBe(await viaApp.text());
  });

  it('takes the plain JSON posts to the prediction routes and leaves everything else to Hono', () => {
    const fast = createFastPredict(deps);
    const taken = (method: string, url: string, headers: Record<string, string>): boolean => {
      const req = { method, url, headers, on: () => req, once: () => req } as never;
      return fast(req, {} as never);
    };
    const json = { 'content-type': 'application/json', 'content-length': '10' };
    expect(taken('POST', '/predict', json)).toBe(true);
    expect(taken('POST', '/models/iris/predict', json)).toBe(true);
    expect(taken('GET', '/predict', json)).toBe(false);
    expect(taken('POST', '/v2/models/iris/infer', json)).toBe(true);
    expect(taken('POST', '/v2/models/iris/versions/1/infer', json)).toBe(true);
    expect(taken('POST', '/v2/models/iris/ready', json)).toBe(false);
    expect(taken('POST', '/v2/models/iris/versions/infer', json)).toBe(false);
    expect(taken('POST', '/models/a/b/predict', json)).toBe(false);
    expect(taken('POST', '/predict', { 'content-type': 'application/json' })).toBe(false);
    expect(taken('POST', '/predict', { ...json, 'transfer-encoding': 'chunked' })).toBe(false);
    expect(taken('POST', '/predict', { ...json, 'content-type': 'text/plain' })).toBe(false);
    expect(taken('POST', '/predict', { ...json, 'content-length': '999999' })).toBe(false);
  });

  it('answers a body that arrives in pieces once its last byte is in', async () => {
    const body = JSON.stringify({ model: 'iris', inputs: row });
    const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
    const answer = new Promise<string>((resolve, reject) => {
      let text = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => {
        text += chunk;
        if (text.endsWith('}')) resolve(text);
      });
      socket.on('error', reject);
    });
    socket.write(
      `POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`,
    );
    await new Promise((r) => setTimeout(r, 50));
    socket.write(body.slice(10, 30));
    await new Promise((r) => setTimeout(r, 50));
    socket.write(body.slice(30));
    const text = await answer;
    socket.destroy();
    const viaApp = await app.request('/predict', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    expect(text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(text.slice(text.indexOf('\r\n\r\n') + 4)).toBe(await viaApp.text());
  });

  it('labels its requests with the routes the Hono app labels them with', async () => {
    const paths = [
      '/predict',
      '/models/iris/predict',
      '/v2/models/iris/infer',
      '/v2/models/iris/versions/1/infer',
    ];
    const init = { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' };
    // Each side with fresh metrics: the labels its four requests left.
    const routes = async (viaHono: boolean): Promise<string[]> => {
      const own = await twoModelApp();
      const listener = createServer(nodeListener(own.app, own.deps));
      const url = `http://127.0.0.1:${await listenLoopback(listener)}`;
      for (const path of paths) {
        const res = viaHono
          ? await own.app.request(path, init)
          : await fetch(`${url}${path}`, init);
        await res.text();
      }
      await stopServer(listener);
      const text = await own.deps.metrics.registry.metrics();
      return [...text.matchAll(/pinml_http_requests_total\{method="POST",route="([^"]+)"/g)]
        .map((m) => m[1] as string)
        .sort();
    };
    const viaHono = await routes(true);
    const viaFast = await routes(false);
    expect(viaFast).toEqual(viaHono);
    expect(viaHono).toHaveLength(4);
  });

  it('counts what it answers in the same metrics', async () => {
    await fetch(`${base}/models/iris/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: row }),
    });
    const text = await deps.metrics.registry.metrics();
    expect(text).toMatch(
      /pinml_http_requests_total\{method="POST",route="\/models\/:name\/predict",status="200"\} \d+/,
    );
    expect(text).toMatch(
      /pinml_predictions_total\{model="iris",version="1",class="virginica"\} \d+/,
    );
  });
});
