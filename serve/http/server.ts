/**
 * The HTTP edge: node:http → `@hono/node-server` → the Hono app, for every request, with the
 * timeouts a prediction server should have (node's own `requestTimeout` and `headersTimeout`:
 * a client that sends its request too slowly gets node's 408 and the connection closes), `Expect:
 * 100-continue` answered only when the body is wanted, and a graceful drain for SIGTERM.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Server as NetServer } from 'node:net';

import { getRequestListener } from '@hono/node-server';

/** What the edge is configured with. */
export interface EdgeOptions {
  /** How long a client may take to send a whole request. */
  requestTimeoutMs: number;
  /** How long a client may take to send a request's headers. */
  headersTimeoutMs: number;
}

/** A node:http server that hands every request to `fetch` (the Hono app's). */
export function createHttpServer(
  fetch: (request: Request) => Response | Promise<Response>,
  options: EdgeOptions,
): Server {
  const listener = getRequestListener(fetch);
  const server = createServer(
    {
      requestTimeout: options.requestTimeoutMs,
      headersTimeout: options.headersTimeoutMs,
      // node checks both timeouts on this interval (30 s by default, as long as the timeouts).
      connectionsCheckingInterval: Math.max(
        100,
        Math.min(1000, Math.floor(options.headersTimeoutMs / 4)),
      ),
    },
    (req, res) => void listener(req, res),
  );
  // A client that asks before sending its body (`Expect: 100-continue`, as curl does for large
  // uploads) is told to go on only once the app reads the body: a body the app refuses by its
  // Content-Length (413) is never sent.
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    req.once('resume', () => {
      if (!res.headersSent) res.writeContinue();
    });
    void listener(req, res);
  });
  return server;
}

/**
 * Drains a server after SIGTERM: stops accepting connections at once, and resolves once every
 * open connection has closed: one with a request in flight or arriving closes after its answer
 * (the app answers with `Connection: close` while draining), an idle keep-alive one when node's
 * `keepAliveTimeout` expires, as its client was told (`Keep-Alive: timeout=5`). After
 * `timeoutMs` the connections still open are closed. Resolves `true` when none had to be.
 *
 * It stops the listener with `net.Server`'s `close`, not `http.Server`'s: since Node 19 the
 * latter also destroys every idle keep-alive connection at once, and a client whose next request
 * is already on the wire then loses it (ECONNRESET).
 */
export function drain(server: Server, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const force = setTimeout(() => {
      server.closeAllConnections();
      resolve(false);
    }, timeoutMs);
    NetServer.prototype.close.call(server, () => {
      clearTimeout(force);
      resolve(true);
    });
  });
}
