/**
 * The server in this process on a real loopback socket, following a local repository, for
 * end-to-end tests; and `waitFor`, which polls a condition with a generous deadline instead of
 * asserting on timing; `pushWebhook`, a signed GitHub push event as GitHub sends it; and
 * `listenLoopback` / `stopServer` for any node:http server in a test. Test
 * and bench helper only: product code never imports it.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { pino, type Logger } from 'pino';

import { createApp, type AppDeps } from '../app.ts';
import { Reconciler } from '../follow/reconcile.ts';
import { localSource } from '../follow/source.ts';
import { createHttpServer } from '../http/server.ts';
import { createMetrics } from '../metrics.ts';
import { signBody } from '../routes/webhook.ts';

/** POSTs a GitHub `push` event for main moving to `after`, signed with `secret`, to `url`. */
export function pushWebhook(url: string, secret: string, after: string): Promise<Response> {
  const body = JSON.stringify({ ref: 'refs/heads/main', after });
  return fetch(`${url}/webhooks/github`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-github-event': 'push',
      'x-hub-signature-256': signBody(secret, body),
    },
    body,
  });
}

export interface RunningServer {
  url: string;
  reconciler: Reconciler;
  close(): Promise<void>;
}

/** Starts the app on 127.0.0.1 (any free port) and waits for its first reconcile. */
export async function startServer(options: {
  repo: string;
  pollMs: number;
  webhookSecret?: string;
  log?: Logger;
}): Promise<RunningServer> {
  const log = options.log ?? pino({ level: 'silent' });
  const metrics = createMetrics({ defaults: false });
  const reconciler = new Reconciler({ source: localSource(options.repo, 'main'), log, metrics });
  const deps: AppDeps = {
    state: () => reconciler.state,
    reconcile: (trigger) => reconciler.reconcile(trigger),
    webhookSecret: options.webhookSecret,
    metrics,
    log,
    limits: { bodyBytes: undefined, batchRows: 1000 },
    server: { name: 'pinml', version: 'test' },
  };
  const app = createApp(deps);
  const server = createHttpServer(app.fetch, {
    requestTimeoutMs: 30_000,
    headersTimeoutMs: 10_000,
  });
  const port = await listenLoopback(server);
  await reconciler.reconcile('startup');
  reconciler.start(options.pollMs);
  return {
    url: `http://127.0.0.1:${port}`,
    reconciler,
    async close() {
      await reconciler.stop();
      await stopServer(server);
    },
  };
}

/** Listens on a free loopback port; resolves with the port. */
export async function listenLoopback(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return (server.address() as AddressInfo).port;
}

/** Closes the server and every connection it still has. */
export async function stopServer(server: Server): Promise<void> {
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

export { waitFor } from '../../pipeline/testing/wait.ts';
