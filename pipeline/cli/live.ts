/**
 * `pinml live`: a model's live quality over a window of the prediction log, read from a store
 * file (the server's `<data-dir>/predictions.db`) or from a running server's `GET /logs`.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { PinmlError, UsageError } from '../errors.ts';
import { canonicalJson } from '../json.ts';
import { readServerCounts } from '../log/logs-client.ts';
import { DEFAULT_QUALITY_OPTIONS, liveQuality } from '../log/quality.ts';
import { renderLiveQuality } from '../log/render.ts';
import { openSqliteLog } from '../log/sqlite.ts';
import { DEFAULT_DATA_DIR, LOG_FILE_NAME, type QualityCounts } from '../log/store.ts';
import { parseInstant } from '../log/window.ts';
import { modelRef, shown, type CliContext } from './context.ts';

interface LiveOptions {
  since: string;
  store?: string;
  dataDir?: string;
  server?: string;
  json?: boolean;
}

export function liveCommand(program: Command, cli: CliContext): void {
  program
    .command('live')
    .description(
      "a model's live quality from the prediction log: accuracy and macro-F1 on the rows with feedback, with intervals, and the predicted-class mix, per version and pin",
    )
    .argument('<model>', 'e.g. iris, or iris@3 for one version')
    .option(
      '--since <when>',
      'start of the window: a duration ago (90m, 24h, 7d) or ISO 8601',
      '24h',
    )
    .option('--store <file>', `the SQLite prediction log (default: <data-dir>/${LOG_FILE_NAME})`)
    .option(
      '--data-dir <dir>',
      `the server's data folder (default: $PINML_DATA_DIR, else ${DEFAULT_DATA_DIR} under the root)`,
    )
    .option('--server <url>', "read a server's GET /logs instead (needs PINML_ADMIN_TOKEN)")
    .option('--json', 'print the figures as JSON')
    .action(async (target: string, opts: LiveOptions) => {
      const { model, version } = modelRef(target, false);
      const now = Date.now();
      const from = parseInstant(opts.since, '--since', now);
      if (!(from < now)) {
        throw new UsageError(`--since must be in the past, got ${JSON.stringify(opts.since)}`);
      }
      const window = { from, until: now };
      const read = opts.server === undefined ? fromStore(cli, opts) : fromServer(cli, opts);
      let counts = await read.counts({ model, version, ...window });
      if (version !== undefined) counts = counts.filter((c) => c.version === version);
      const figures = counts.map((c) => liveQuality(c));
      const out = cli.io.stdout;
      if (opts.json) out.write(canonicalJson(figures));
      else if (figures.length > 0) {
        out.write(
          renderLiveQuality(
            {
              model: target,
              from: read.source,
              window,
              confidence: DEFAULT_QUALITY_OPTIONS.confidence,
            },
            figures,
          ),
        );
      }
      if (figures.length === 0) {
        cli.io.stderr.write(
          `pinml: no rows for ${target} since ${new Date(from).toISOString()} in ${read.source}\n`,
        );
        cli.setExit(1);
      }
    });
}

interface CountsSource {
  /** The file or server, as the user reads it. */
  source: string;
  counts(q: {
    model: string;
    version: number | undefined;
    from: number;
    until: number;
  }): Promise<QualityCounts[]>;
}

/** The store file: `--store`, else `<data-dir>/predictions.db` (never created here). */
function fromStore(cli: CliContext, opts: LiveOptions): CountsSource {
  const dataDir =
    opts.dataDir !== undefined
      ? path.resolve(cli.io.cwd, opts.dataDir)
      : cli.io.env.PINML_DATA_DIR
        ? path.resolve(cli.io.cwd, cli.io.env.PINML_DATA_DIR)
        : path.join(cli.root(), DEFAULT_DATA_DIR);
  const file =
    opts.store !== undefined
      ? path.resolve(cli.io.cwd, opts.store)
      : path.join(dataDir, LOG_FILE_NAME);
  const source = shown(cli.io, file);
  return {
    source,
    async counts(q) {
      if (!existsSync(file)) {
        throw new PinmlError(
          'E_LOG_STORE',
          `no prediction log at ${source}: name the server's with --store FILE or --data-dir DIR, or read a running server with --server URL`,
          { file },
        );
      }
      const store = openSqliteLog(file);
      try {
        return await store.quality({ from: q.from, until: q.until, model: q.model });
      } finally {
        await store.close();
      }
    },
  };
}

/** A running server's `GET /logs`, with the admin token from PINML_ADMIN_TOKEN. */
function fromServer(cli: CliContext, opts: LiveOptions): CountsSource {
  const url = opts.server as string;
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
  return {
    source: url,
    counts: (q) => readServerCounts({ url, token, ...q }),
  };
}
