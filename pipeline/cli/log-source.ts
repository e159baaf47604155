/**
 * Where a command reads the prediction log from, as `pinml live` and `pinml data from-feedback`
 * take it: the SQLite file a server writes (`--store FILE`, else `<--data-dir>/predictions.db`,
 * the data folder defaulting as the server's: `$PINML_DATA_DIR`, else `.pinml/serve` under the
 * root), or a running server's `GET /logs` (`--server URL`, with `PINML_ADMIN_TOKEN`); and the
 * window's start (`--since`).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { PinmlError, UsageError } from '../errors.ts';
import { readStorePages } from '../log/pages.ts';
import { serverLogSource, type LogSource } from '../log/source.ts';
import { openSqliteLog, type SqliteLog } from '../log/sqlite.ts';
import { DEFAULT_DATA_DIR, LOG_FILE_NAME } from '../log/store.ts';
import { parseInstant } from '../log/window.ts';
import { shown, type CliContext } from './context.ts';

/** The options that name the log. */
export interface LogSourceOptions {
  store?: string;
  dataDir?: string;
  server?: string;
}

/** Adds `--store`, `--data-dir` and `--server`. */
export function withLogSourceOptions(command: Command): Command {
  return command
    .option('--store <file>', `the SQLite prediction log (default: <data-dir>/${LOG_FILE_NAME})`)
    .option(
      '--data-dir <dir>',
      `the server's data folder (default: $PINML_DATA_DIR, else ${DEFAULT_DATA_DIR} under the root)`,
    )
    .option('--server <url>', "read a server's GET /logs instead (needs PINML_ADMIN_TOKEN)");
}

/** `--since` as the window's start, which must be before `now`. */
export function sinceInstant(since: string, now: number): number {
  const from = parseInstant(since, '--since', now);
  if (!(from < now)) {
    throw new UsageError(`--since must be in the past, got ${JSON.stringify(since)}`);
  }
  return from;
}

/** The log the options name: `--server`, else the store file. */
export function logSource(cli: CliContext, opts: LogSourceOptions): LogSource {
  return opts.server === undefined ? fromStore(cli, opts) : fromServer(cli, opts.server, opts);
}

/** The store file the options name: `--store`, else `<data-dir>/predictions.db`. */
export function logStoreFile(cli: CliContext, opts: LogSourceOptions): string {
  if (opts.store !== undefined) return path.resolve(cli.io.cwd, opts.store);
  const dataDir =
    opts.dataDir !== undefined
      ? path.resolve(cli.io.cwd, opts.dataDir)
      : cli.io.env.PINML_DATA_DIR
        ? path.resolve(cli.io.cwd, cli.io.env.PINML_DATA_DIR)
        : path.join(cli.root(), DEFAULT_DATA_DIR);
  return path.join(dataDir, LOG_FILE_NAME);
}

/** The store file (never created here). */
function fromStore(cli: CliContext, opts: LogSourceOptions): LogSource {
  const file = logStoreFile(cli, opts);
  const source = shown(cli.io, file);
  const open = (): SqliteLog => {
    if (!existsSync(file)) {
      throw new PinmlError(
        'E_LOG_STORE',
        `no prediction log at ${source}: name the server's with --store FILE or --data-dir DIR, or read a running server with --server URL`,
        { file },
      );
    }
    return openSqliteLog(file);
  };
  return {
    source,
    async counts(q) {
      const store = open();
      try {
        return await store.quality({ from: q.from, until: q.until, model: q.model });
      } finally {
        await store.close();
      }
    },
    async *pages(q) {
      const store = open();
      try {
        yield* readStorePages(store, q);
      } finally {
        await store.close();
      }
    },
  };
}

/** `--server`'s URL, checked, and the admin token from PINML_ADMIN_TOKEN. */
export function logServer(
  cli: CliContext,
  url: string,
  opts: LogSourceOptions,
): { url: string; token: string } {
  if (opts.store !== undefined || opts.dataDir !== undefined) {
    throw new UsageError('--server reads a server: leave out --store and --data-dir');
  }
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
    throw new UsageError(
      `--server must be the server's http(s) URL, such as http://127.0.0.1:8080, got ${JSON.stringify(url)}`,
    );
  }
  const token = cli.io.env.PINML_ADMIN_TOKEN;
  if (token === undefined || token === '') {
    throw new UsageError(
      "--server needs PINML_ADMIN_TOKEN set to the server's admin token (it is sent as Authorization: Bearer …)",
    );
  }
  return { url, token };
}

/** A running server's `GET /logs`. */
function fromServer(cli: CliContext, url: string, opts: LogSourceOptions): LogSource {
  return serverLogSource(logServer(cli, url, opts));
}
