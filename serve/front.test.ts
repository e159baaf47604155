import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { COMMIT_HEADER, VERSION_HEADER } from './context.ts';
import { nodeListener } from './fast-predict.ts';
import { checkParser, createHttpServer, frontProblem } from './front.ts';
import { COMMIT_B, twoModelApp } from './testing/fixtures.ts';
import { RawConnection, rawRequest, type RawResponse } from './testing/raw-http.ts';
import { listenLoopback, stopServer } from './testing/server.ts';

const { deps, app } = await twoModelApp();
let front: Server;
let plain: Server;

let port: number;
let plainPort: number;
beforeAll(async () => {
  front = createHttpServer(app, deps);
  plain = createServer(nodeListener(app, deps));
  port = await listenLoopback(front);
  plainPort = await listenLoopback(plain);
});
afterAll(async () => {
  await Promise.all([stopServer(front), stopServer(plain)]);
});

const row = { sepal_length: 6.3, sepal_width: 2.9, petal_length: 5.6, petal_width: 1.8 };
const JSON_HEADERS = { 'Content-Type': 'application/json' };
const predict = (body: unknown = { model: 'iris', inputs: row }, path = '/predict'): string =>
  rawRequest('POST', path, JSON_HEADERS, JSON.stringify(body));

async function viaApp(path: string, init: RequestInit = {}): Promise<RawResponse> {
  const res = await app.request(path, init);
  return {
    status: res.status,
    headers: Object.fromEntries(res.headers),
    body: await res.text(),
    head: '',
  };
}

async function exchange(bytes: string, count: number, to = port): Promise<RawConnection> {
  const c = await RawConnection.open(to);
  c.write(bytes);
  await c.waitFor(count);
  return c;
}

const withoutDate = (head: string): string => head.replace(/\r\nDate: [^\r]*/, '');

describe('the connection front', () => {
  it('answers a prediction with the same bytes as node:http, Date aside', async () => {
    for (const body of [
      { model: 'iris', inputs: row },
      { model: 'iris-lr', inputs: [row, row], id: 'b' },
      { model: 'iris', inputs: { ...row, petal_width: 'x' } },
      { model: 'roses', inputs: row },
    ]) {
      const [ours] = (await exchange(predict(body), 1)).responses;
      const [node] = (await exchange(predict(body), 1, plainPort)).responses;
      expect(withoutDate(ours?.head ?? '')).toBe(withoutDate(node?.head ?? ''));
      expect(ours?.body).toBe(node?.body);
      expect(ours?.headers.date).toMatch(/^\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT$/);
    }
  });

  it('keeps the connection open and answers pipelined requests in order, handing over at the first other one', async () => {
    const c = await exchange(
      predict() +
        predict({ model: 'iris-lr', inputs: row }) +
        rawRequest('GET', '/health') +
        predict({ model: 'iris-lr', inputs: [row] }, '/predict?x=1') +
        rawRequest('GET', '/models/iris'),
      5,
    );
    const [a, b, health, d, model] = c.responses;
    expect(a?.headers[VERSION_HEADER.toLowerCase()]).toBe('iris@1');
    expect(a?.headers.connection).toBe('keep-alive');
    expect(b?.headers[VERSION_HEADER.toLowerCase()]).toBe('iris-lr@2');
    expect(b?.headers[COMMIT_HEADER.toLowerCase()]).toBe(COMMIT_B);
    expect(health?.status).toBe(200);
    expect(health?.body).toBe((await viaApp('/health')).body);
    const init = { method: 'POST', headers: JSON_HEADERS };
    expect(d?.body).toBe(
      (
        await viaApp('/predict?x=1', {
          ...init,
          body: JSON.stringify({ model: 'iris-lr', inputs: [row] }),
        })
      ).body,
    );
    expect(JSON.parse(model?.body ?? '{}')).toMatchObject({ name: 'iris', version: 1 });
    // Still open after all five: one more on the same connection.
    c.write(predict());
    expect((await c.waitFor(6))[5]?.status).toBe(200);
    c.close();
  });

  it('answers or hands over a request whose head and body arrive in several writes', async () => {
    const body = JSON.stringify({
      inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP64', data: [6.3, 2.9, 5.6, 1.8] }],
    });
    // An OIP infer (answered by the front) and a POST to an unknown route (handed over).
    for (const [path, status] of [
      ['/v2/models/iris/infer', 200],
      ['/v2/models/nope/infer/x', 404],
    ] as const) {
      const bytes = rawRequest('POST', path, JSON_HEADERS, body);
      const c = await RawConnection.open(port);
      let from = 0;
      for (const cut of [5, 30, bytes.length - body.length + 3, bytes.length]) {
        c.write(bytes.slice(from, cut));
        from = cut;
        await new Promise((r) => setTimeout(r, 20));
      }
      const [res] = await c.waitFor(1);
      const expected = await viaApp(path, { method: 'POST', headers: JSON_HEADERS, body });
      expect(res?.status, path).toBe(status);
      expect(res?.status).toBe(expected.status);
      expect(res?.body).toBe(expected.body);
      c.close();
    }
  });

  it('reads a head of many headers that arrives byte by byte (node gives them in parts)', async () => {
    const pad: Record<string, string> = {};
    for (let i = 0; i < 40; i++) pad[`X-Pad-${i}`] = `v${i}`;
    const body = JSON.stringify({ model: 'iris', inputs: row });
    for (const [path, status] of [
      ['/predict', 200],
      ['/v2/models/iris/infer', 400],
    ] as const) {
      const bytes = rawRequest('POST', path, { ...pad, ...JSON_HEADERS }, body);
      const c = await RawConnection.open(port);
      for (let i = 0; i < bytes.length; i += 7) {
        c.write(bytes.slice(i, i + 7));
        if (i % 140 === 0) await new Promise((r) => setTimeout(r, 1));
      }
      const [res] = await c.waitFor(1);
      // The content type comes after 40 others: a lost header would make this a 415.
      expect(res?.status, path).toBe(status);
      expect(res?.body).toBe(
        (await viaApp(path, { method: 'POST', headers: JSON_HEADERS, body })).body,
      );
      c.close();
    }
  });

  it('answers a prediction whose body arrives byte by byte', async () => {
    const bytes = predict();
    const c = await RawConnection.open(port);
    const headEnd = bytes.indexOf('\r\n\r\n') + 4;
    c.write(bytes.slice(0, headEnd));
    for (let i = headEnd; i < bytes.length; i++) {
      c.write(bytes[i] as string);
      if (i % 10 === 0) await new Promise((r) => setTimeout(r, 1));
    }
    const [res] = await c.waitFor(1);
    expect(res?.body).toBe(
      (
        await viaApp('/predict', {
          method: 'POST',
          headers: JSON_HEADERS,
          body: JSON.stringify({ model: 'iris', inputs: row }),
        })
      ).body,
    );
    c.close();
  });

  it('leaves chunked bodies, Expect, oversized bodies and other content types to node:http and Hono', async () => {
    const json = JSON.stringify({ model: 'iris', inputs: row });
    const chunked = await exchange(
      rawRequest(
        'POST',
        '/predict',
        { ...JSON_HEADERS, 'Transfer-Encoding': 'chunked' },
        `${json.length.toString(16)}\r\n${json}\r\n0\r\n\r\n`,
      ),
      1,
    );
    expect(chunked.responses[0]?.status).toBe(200);
    expect(chunked.responses[0]?.headers[VERSION_HEADER.toLowerCase()]).toBe('iris@1');
    chunked.close();

    const c = await RawConnection.open(port);
    c.write(
      rawRequest('POST', '/predict', {
        ...JSON_HEADERS,
        Expect: '100-continue',
        'Content-Length': String(json.length),
      }),
    );
    const [cont] = await c.waitFor(1);
    expect(cont?.status).toBe(100);
    c.write(json);
    expect((await c.waitFor(2))[1]?.status).toBe(200);
    c.close();

    const big = await exchange(predict({ model: 'iris', inputs: row, id: 'x'.repeat(5000) }), 1);
    expect(big.responses[0]?.status).toBe(413);
    expect(JSON.parse(big.responses[0]?.body ?? '{}')).toMatchObject({ code: 'payload_too_large' });
    big.close();

    const text = await exchange(
      rawRequest('POST', '/predict', { 'Content-Type': 'text/plain' }, json),
      1,
    );
    expect(text.responses[0]?.status).toBe(415);
    text.close();
  });

  it('closes after the answer when the client asks (Connection: close, HTTP/1.0)', async () => {
    const closing = await exchange(
      rawRequest(
        'POST',
        '/predict',
        { ...JSON_HEADERS, Connection: 'close' },
        JSON.stringify({ model: 'iris', inputs: row }),
      ),
      1,
    );
    expect(closing.responses[0]?.headers.connection).toBe('close');
    await closing.closed;

    const body = JSON.stringify({ model: 'iris', inputs: row });
    const old = await exchange(
      `POST /predict HTTP/1.0\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
      1,
    );
    expect(old.responses[0]?.status).toBe(200);
    expect(old.responses[0]?.headers.connection).toBe('close');
    await old.closed;
  });

  it('refuses a malformed request with 400 and oversized headers with 431, and closes', async () => {
    for (const [bytes, status] of [
      [
        'POST /predict HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}',
        400,
      ],
      ['POST /predict HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n', 400],
      ['GARBAGE\r\n\r\n', 400],
      [`POST /predict HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431],
    ] as const) {
      const c = await RawConnection.open(port);
      c.write(bytes);
      await c.closed;
      expect(c.text, bytes.slice(0, 60)).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
    }
    const text = await deps.metrics.registry.metrics();
    expect(text).toMatch(
      /pinml_http_errors_total\{route="\(connection\)",code="malformed_request"\} [3-9]/,
    );
    expect(text).toMatch(
      /pinml_http_errors_total\{route="\(connection\)",code="headers_too_large"\} [1-9]/,
    );
  });

  it('answers every pipelined request of a client that reads late', async () => {
    const c = await RawConnection.open(port);
    c.socket.pause();
    const n = 3000;
    const one = predict();
    c.write(one.repeat(n));
    await new Promise((r) => setTimeout(r, 200));
    c.socket.resume();
    const responses = await c.waitFor(n);
    expect(responses.every((r) => r.status === 200)).toBe(true);
    c.close();
  });
});

describe('the connection front’s timeouts and shutdown', () => {
  it('closes idle connections after keepAliveTimeout and stalled heads after headersTimeout (408)', async () => {
    const server = createHttpServer(app, deps);
    server.keepAliveTimeout = 300;
    server.headersTimeout = 500;
    const p = await listenLoopback(server);
    const idle = await exchange(predict(), 1, p);
    await idle.closed;
    expect(idle.responses).toHaveLength(1);

    const stalled = await RawConnection.open(p);
    stalled.write('POST /predict HTTP/1.1\r\nHost: x\r\n');
    await stalled.closed;
    expect(stalled.text).toMatch(/^HTTP\/1\.1 408 /);
    await stopServer(server);
  });

  it('closes idle connections on closeIdleConnections and answers a request in flight with Connection: close', async () => {
    const server = createHttpServer(app, deps);
    const p = await listenLoopback(server);
    const idle = await exchange(predict(), 1, p);
    const busy = await RawConnection.open(p);
    const bytes = predict();
    busy.write(bytes.slice(0, bytes.length - 5));
    await new Promise((r) => setTimeout(r, 50));
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    await idle.closed;
    busy.write(bytes.slice(bytes.length - 5));
    const [answer] = await busy.waitFor(1);
    expect(answer?.status).toBe(200);
    expect(answer?.headers.connection).toBe('close');
    await busy.closed;
    await closed;
  });
});

describe('the check of node’s parser binding', () => {
  it('finds nothing to object to on this Node.js', () => {
    expect(frontProblem()).toBeUndefined();
  });

  it('finds a binding that behaves differently', () => {
    const binding = createRequire(import.meta.url)('node:_http_common') as Parameters<
      typeof checkParser
    >[0];
    const { HTTPParser } = binding;
    // A binding whose callbacks moved by one (as if node renumbered them).
    class Shifted extends HTTPParser {}
    Object.assign(Shifted, {
      REQUEST: HTTPParser.REQUEST,
      kOnMessageBegin: HTTPParser.kOnMessageBegin,
      kOnHeaders: HTTPParser.kOnHeaders,
      kOnHeadersComplete: HTTPParser.kOnBody,
      kOnBody: HTTPParser.kOnHeadersComplete,
      kOnMessageComplete: HTTPParser.kOnMessageComplete,
    });
    expect(checkParser({ ...binding, HTTPParser: Shifted })).toMatch(
      /^node's HTTP parser binding (failed its check|does not behave)/,
    );
    expect(checkParser(binding)).toBeUndefined();
  });

  it('leaves every request to node:http when the front is off (--http node)', async () => {
    const server = createHttpServer(app, deps, { front: false });
    expect(server.listeners('connection')).toHaveLength(1);
    const p = await listenLoopback(server);
    const c = await exchange(predict(), 1, p);
    expect(c.responses[0]?.status).toBe(200);
    c.close();
    await stopServer(server);
  });
});
