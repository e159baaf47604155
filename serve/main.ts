/**
 * The server's entry point (`npm start`, bin `pinml-serve`): reads the configuration, opens the
 * socket, reconciles with the registry, polls, and shuts down gracefully on SIGTERM or SIGINT
 * (readiness turns false, the listener closes, in-flight requests finish, then the process exits).
 */
import { readFile, stat } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { pino, type Logger } from 'pino';

import { PinmlError, UsageError } from '../pipeline/errors.ts';
import { openThreadedSqliteLog } from '../pipeline/log/thread.ts';
import { createApp, type AppDeps } from './app.ts';
import { Reconciler, type ServingState } from './follow/reconcile.ts';
import { localSource, remoteSource, type RegistrySource } from './follow/source.ts';
import { HELP, USAGE, parseConfig, type ServeConfig } from './http/options.ts';
import { createHttpServer, drain } from './http/server.ts';
import { LiveMonitor } from './log/live.ts';
import { Recorder } from './log/recorder.ts';
import { createMetrics, type ServeMetrics } from './metrics.ts';

/**
 * Most rows waiting for the prediction log: ~20 s at 5,000 rows/s, 5 s at 20,000; ~80 MB of heap
 * at most for one-row requests (serve/log/recorder.ts).
 */
export const LOG_QUEUE_ROWS = 100_000;
/** How often the prediction log is written: a crash loses at most the rows of one interval. */
const LOG_FLUSH_MS = 250;

// why: the server's bundle (serve/scripts/build.ts) is not beside package.json; it has the version built in.
declare const __PINML_PACKAGE_VERSION__: string | undefined;

async function packageVersion(): Promise<string> {
  if (typeof __PINML_PACKAGE_VERSION__ !== 'undefined') return __PINML_PACKAGE_VERSION__;
  const text = await readFile(new URL('../package.json', import.meta.url), 'utf8');
  return (JSON.parse(text) as { version?: string }).version ?? '0.0.0';
}

function sourceFor(config: ServeConfig): RegistrySource {
  const r = config.repo;
  return r.kind === 'local'
    ? localSource(r.dir, config.ref)
    : remoteSource({ url: r.url, ref: config.ref, cacheDir: r.cacheDir, token: r.token });
}

/**
 * Runs the server until a signal stops it; resolves to the process exit code (0 after a clean
 * shutdown, 1 when it cannot start, 2 for a usage error).
 */
export async function main(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<number> {
  let config: ServeConfig;
  try {
    const parsed = parseConfig(argv, env, process.cwd());
    if (parsed === HELP) {
      process.stdout.write(USAGE);
      return 0;
    }
    config = parsed;
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`pinml-serve: ${err.message}\n`);
      return 2;
    }
    throw err;
  }

  const log = pino({
    level: config.logLevel,
    base: { service: 'pinml-serve' },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
  if (config.repo.kind === 'local') {
    const dir = config.repo.dir;
    const isDir = await stat(dir).then(
      (s) => s.isDirectory(),
      () => false,
    );
    if (!isDir) {
      log.fatal(
        { repo: dir },
        `${dir} is not a folder: give --repo a repository path or an https:// URL`,
      );
      return 1;
    }
  }

  const metrics = createMetrics();
  const source = sourceFor(config);
  const reconciler = new Reconciler({ source, log, metrics });
  const { recorder, live } = predictionLog(config, log, metrics, () => reconciler.state);
  let draining = false;
  const deps: AppDeps = {
    state: () => reconciler.state,
    reconcile: (trigger) => reconciler.reconcile(trigger),
    webhookSecret: config.webhookSecret,
    metrics,
    log,
    limits: { bodyBytes: config.bodyLimitBytes, batchRows: config.batchLimit },
    server: { name: 'pinml', version: await packageVersion() },
    draining: () => draining,
    recorder,
    adminToken: config.adminToken,
  };
  const app = createApp(deps);

  const server = await listen(createHttpServer(app.fetch, config), config, log);
  if (server === undefined) return 1;
  const { port } = server.address() as AddressInfo;
  log.info(
    {
      host: config.host,
      port,
      repo: source.location,
      ref: config.ref,
      pollSeconds: config.pollMs / 1000,
      webhook: config.webhookSecret ? 'on' : 'off',
      bodyLimitBytes: config.bodyLimitBytes ?? 'sized from the batch limit',
      batchLimit: config.batchLimit,
      requestTimeoutSeconds: config.requestTimeoutMs / 1000,
      predictionLog: config.predictionLog?.file ?? 'off',
      admin: config.adminToken === undefined ? 'off' : 'on',
    },
    `listening on http://${config.host}:${port}`,
  );

  const stopped = new Promise<number>((resolve) => {
    const shutdown = (signal: string): void => {
      if (draining) return;
      draining = true;
      log.info(
        { signal },
        'shutting down: no new connections; answering what arrives with Connection: close',
      );
      live?.stop();
      void Promise.all([drain(server, config.shutdownMs), reconciler.stop()])
        .then(async ([clean]) => {
          if (!clean) {
            log.warn({ timeoutMs: config.shutdownMs }, 'shutdown timeout: closed open connections');
          }
          // Every answered row is written before the process exits.
          await recorder?.stop();
        })
        .then(() => {
          log.info('stopped');
          resolve(0);
        });
    };
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
  });

  const first = await reconciler.reconcile('startup').catch((err: unknown) => {
    log.error({ err }, 'first reconcile failed');
    return undefined;
  });
  if (first !== undefined) {
    log.info(
      { commit: first.commit, served: first.served, problems: first.problems.length },
      first.served.length > 0
        ? `ready: serving ${first.served.join(', ')} at ${config.ref} ${first.commit?.slice(0, 12) ?? ''}`
        : `nothing to serve yet at ${config.ref}: no model is pinned (see /health)`,
    );
  }
  if (!draining) {
    reconciler.start(config.pollMs);
    recorder?.start();
    live?.start();
  }
  return stopped;
}

/** The prediction log's recorder and live-quality monitor, when the log is on. */
function predictionLog(
  config: ServeConfig,
  log: Logger,
  metrics: ServeMetrics,
  state: () => ServingState,
): { recorder: Recorder | undefined; live: LiveMonitor | undefined } {
  const c = config.predictionLog;
  if (c === undefined) return { recorder: undefined, live: undefined };
  // On its own thread: SQLite calls are synchronous and would hold every answer meanwhile.
  const store = openThreadedSqliteLog(c.file);
  const recorder = new Recorder({
    store,
    log,
    logInputs: c.logInputs,
    sampleRate: c.sampleRate,
    queueRows: LOG_QUEUE_ROWS,
    flushMs: LOG_FLUSH_MS,
    batchRows: 1000,
    retention: { maxAgeMs: c.retentionMs, maxRows: c.maxRows },
    retentionEveryMs: 10 * 60_000,
  });
  metrics.logStatus(() => recorder.status());
  const live = new LiveMonitor({
    store,
    metrics,
    log,
    state,
    windowMs: c.liveWindowMs,
    intervalMs: c.liveIntervalMs,
  });
  return { recorder, live };
}

/**
 * Listens on the configured port; undefined, with one log line that says what to do, when it
 * cannot (a port in use, a port it may not open).
 */
async function listen(
  server: Server,
  config: ServeConfig,
  log: Logger,
): Promise<Server | undefined> {
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return server;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unknown';
    const where = `${config.host}:${config.port}`;
    const why =
      code === 'EADDRINUSE'
        ? `port ${config.port} is in use (on ${config.host}): stop what listens there, or choose another port with --port or PORT`
        : code === 'EACCES'
          ? `port ${config.port} may not be opened by this user: choose a port above 1023 with --port or PORT`
          : code === 'EADDRNOTAVAIL'
            ? `${config.host} is not an address of this machine: choose another with --host or PINML_HOST`
            : `cannot listen on ${where} (${code}): check --host/PINML_HOST and --port/PORT`;
    log.fatal({ code, host: config.host, port: config.port }, why);
    return undefined;
  }
}

/** Reports an error that escaped `main` the way the CLI does, and gives the exit code. */
export function reportFatal(err: unknown): number {
  const message =
    err instanceof PinmlError
      ? err.message
      : err instanceof Error
        ? (err.stack ?? err.message)
        : String(err);
  process.stderr.write(`pinml-serve: ${message}\n`);
  return 1;
}
