import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { seededRandom } from '../pipeline/stats.ts';
import { nodeListener } from './fast-predict.ts';
import { createHttpServer } from './front.ts';
import { twoModelApp } from './testing/fixtures.ts';
import { listenLoopback, stopServer } from './testing/server.ts';

/**
 * The front against node:http on the same bytes: seeded random sequences of requests (well
 * formed or not, prediction routes or not, whole or cut into pieces) go to a server with the
 * front and to node:http alone; everything each sends back, up to the close, must be the same
 * bytes (`Date` aside). Every sequence ends with a request that asks to close, so both servers
 * close the connection by themselves.
 */

const { deps, app } = await twoModelApp();
let front: Server;
let plain: Server;

let frontPort: number;
let plainPort: number;
beforeAll(async () => {
  front = createHttpServer(app, deps);
  plain = createServer(nodeListener(app, deps));
  [frontPort, plainPort] = await Promise.all([listenLoopback(front), listenLoopback(plain)]);
});
afterAll(async () => {
  await Promise.all([stopServer(front), stopServer(plain)]);
});

const row = { sepal_length: 6.3, sepal_width: 2.9, petal_length: 5.6, petal_width: 1.8 };

function pick<T>(random: () => number, options: readonly T[]): T {
  return options[Math.floor(random() * options.length)] as T;
}

/**
 * One request's bytes, drawn at random (most of them plain predictions). `wellFormed`: only
 * requests that parse and keep the connection open (any route, content type, size or framing).
 */
function randomRequest(random: () => number, wellFormed: boolean): string {
  const odd = (p: number): boolean => !wellFormed && random() < p;
  const method =
    random() < 0.75
      ? 'POST'
      : pick(
          random,
          wellFormed ? ['GET', 'PUT', 'QUERY'] : ['GET', 'PUT', 'QUERY', 'DELETE', 'PO ST'],
        );
  const path = pick(random, [
    '/predict',
    '/predict',
    '/predict?debug=1',
    '/models/iris/predict',
    '/models/iris-lr/predict',
    '/models/%ZZ/predict',
    '/models/a/b/predict',
    '/v2/models/iris/infer',
    '/v2/models/iris-lr/versions/2/infer',
    '/v2/models/iris/versions/3/infer',
    '/v2/health/live',
    '/nope',
  ]);
  const version = odd(0.1) ? pick(random, ['HTTP/1.0', 'HTTP/2.0', 'HTTP/1.x']) : 'HTTP/1.1';
  const body = pick(random, [
    JSON.stringify({ model: 'iris', inputs: row }),
    JSON.stringify({ model: 'iris-lr', inputs: [row, row] }),
    JSON.stringify({ inputs: row }),
    JSON.stringify({ model: 'iris', inputs: { ...row, petal_width: 'x' } }),
    JSON.stringify({ model: 'iris', inputs: row, id: 'x'.repeat(5000) }),
    JSON.stringify({
      inputs: Object.entries(row).map(([name, v]) => ({
        name,
        shape: [1],
        datatype: 'FP64',
        data: [v],
      })),
    }),
    JSON.stringify({
      id: 'r',
      inputs: [
        { name: 'x', shape: [2, 4], datatype: 'FP32', data: [6.3, 2.9, 5.6, 1.8, 5, 3, 1, 0.2] },
      ],
      outputs: [{ name: 'label' }],
    }),
    '{"inputs": ',
    '',
    'é',
  ]);
  const headers: string[] = [];
  if (!odd(0.1)) headers.push('Host: test');
  const type = pick(random, [
    'application/json',
    'application/json',
    'application/json',
    'application/json; charset=utf-8',
    'APPLICATION/JSON',
    'text/plain',
    undefined,
  ]);
  if (type !== undefined) headers.push(`Content-Type: ${type}`);
  const framing = random();
  const length = Buffer.byteLength(body);
  let framed = body;
  if (framing < 0.1) {
    headers.push('Transfer-Encoding: chunked');
    framed = body === '' ? '0\r\n\r\n' : `${length.toString(16)}\r\n${body}\r\n0\r\n\r\n`;
  } else if (odd(0.08)) {
    // Twice the same length, a length that is not a number, a body cut short.
    headers.push(
      ...pick(random, [
        [`Content-Length: ${length}`, `Content-Length: ${length}`],
        ['Content-Length: 1e2'],
        [`Content-Length: ${length + 5}`],
      ]),
    );
  } else if (framing < 0.2 && body === '') {
    // No framing at all: a request without a body.
  } else {
    headers.push(`Content-Length: ${length}`);
  }
  if (odd(0.1)) headers.push('Expect: 100-continue');
  if (random() < 0.05) headers.push(odd(0.5) ? 'Connection: close' : 'Connection: keep-alive');
  if (odd(0.05)) headers.push('Bad Header: x');
  if (odd(0.05)) headers.push(`X-Big: ${'a'.repeat(17_000)}`);
  if (odd(0.05)) headers.push('Upgrade: websocket', 'Connection: Upgrade');
  if (random() < 0.1) headers.push('X-Trace: abc');
  if (random() < 0.5) {
    // Header order varies too.
    headers.sort(() => random() - 0.5);
  }
  return `${method} ${path} ${version}\r\n${headers.map((h) => `${h}\r\n`).join('')}\r\n${framed}`;
}

const CLOSE = 'GET /v2/health/live HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n';

/**
 * Writes `pieces` to a new connection to `port` (then, with `end`, closes its sending side) and
 * resolves with all it got, once the server closes it.
 */
async function exchange(port: number, pieces: readonly string[], end = false): Promise<string> {
  const socket = connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  let text = '';
  socket.on('data', (chunk: Buffer) => {
    text += chunk.toString('latin1');
  });
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  socket.on('error', () => {});
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  for (const piece of pieces) {
    if (socket.destroyed) break;
    socket.write(piece);
    await new Promise((r) => setTimeout(r, 2));
  }
  if (end && !socket.destroyed) {
    await new Promise((r) => setTimeout(r, 20));
    socket.end();
  }
  await closed;
  return text.replace(/\r\nDate: [^\r]*/g, '');
}

/** `bytes` cut into 1 to 4 pieces at random points. */
function cut(random: () => number, bytes: string): string[] {
  const cuts = Array.from({ length: Math.floor(random() * 4) }, () =>
    Math.floor(random() * bytes.length),
  ).sort((x, y) => x - y);
  return [0, ...cuts].map((at, i) => bytes.slice(at, [...cuts, bytes.length][i]));
}

function count(text: string, what: string): number {
  return text.split(what).length - 1;
}

describe('the connection front against node:http', () => {
  // Pipelined well-formed requests only: after a refused one, node:http itself answers or drops
  // the requests still in flight depending on how it read them (from its C++ stream or from
  // JavaScript), so pipelines ending in a refusal have no single right answer to compare with.
  it(
    'answers 200 pipelines of well-formed requests, cut anywhere, with node:http’s bytes',
    { timeout: 120_000 },
    async () => {
      const random = seededRandom(20261123);
      let answered = 0;
      let fast = 0;
      for (let n = 0; n < 200; n++) {
        const requests = Array.from({ length: 1 + Math.floor(random() * 3) }, () =>
          randomRequest(random, true),
        );
        const pieces = cut(random, requests.join('') + CLOSE);
        const viaNode = await exchange(plainPort, pieces);
        const viaFront = await exchange(frontPort, pieces);
        expect(viaFront, `case ${n}: ${JSON.stringify(pieces)}`).toBe(viaNode);
        answered += count(viaNode, 'HTTP/1.1 ');
        fast += count(viaNode, 'X-Pinml-Model-Version: iris');
      }
      // Not all refusals: many answers, many of them predictions on the fast paths.
      expect(answered).toBeGreaterThan(400);
      expect(fast).toBeGreaterThan(50);
    },
  );

  it(
    'answers 300 single requests of any kind, cut anywhere, then the client’s close, with node:http’s bytes',
    { timeout: 120_000 },
    async () => {
      const random = seededRandom(7);
      const statuses = new Set<string>();
      for (let n = 0; n < 300; n++) {
        const pieces = cut(random, randomRequest(random, false));
        const viaNode = await exchange(plainPort, pieces, true);
        const viaFront = await exchange(frontPort, pieces, true);
        expect(viaFront, `case ${n}: ${JSON.stringify(pieces)}`).toBe(viaNode);
        for (const m of viaNode.matchAll(/HTTP\/1\.1 (\d{3})/g)) statuses.add(m[1] as string);
      }
      // Answers, refusals and cut-off requests all came up.
      expect([...statuses].sort()).toEqual(
        expect.arrayContaining(['100', '200', '400', '404', '413', '415', '431']),
      );
    },
  );
});
