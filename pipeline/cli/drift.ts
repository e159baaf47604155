/**
 * `pinml drift MODEL[@N]`: a window of logged inputs against the version's training rows read
 * from git at its card's commit (Evidently's default tests; README "Drift"). The window comes
 * from the prediction log's file, a server's `GET /logs`, or a CSV of inputs.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { DEFAULT_MAX_ROWS } from '../drift/current.ts';
import { driftOptionsAt, measureDrift, type WindowSource } from '../drift/measure.ts';
import type { ReferencePart } from '../drift/read-reference.ts';
import { DRIFT_FILES, writeDriftReport } from '../drift/write-report.ts';
import { renderDriftJson, renderDriftMarkdown } from '../drift/render.ts';
import { UsageError } from '../errors.ts';
import { parseInstant } from '../log/window.ts';
import { modelRef, shown, type CliContext } from './context.ts';
import { logServer, logStoreFile, withLogSourceOptions } from './log-source.ts';

interface DriftCliOptions {
  since?: string;
  from?: string;
  until?: string;
  store?: string;
  dataDir?: string;
  server?: string;
  csv?: string;
  reference: string;
  maxRows: string;
  ref: string;
  json?: boolean;
  out?: string;
}

export function driftCommand(program: Command, cli: CliContext): void {
  const command = program
    .command('drift')
    .description(
      "a window of logged inputs against the version's training rows from git: per feature Evidently's default test, PSI and a severity, and dataset drift",
    )
    .argument('<model>', 'e.g. iris (the production version at --ref) or iris@3')
    .option(
      '--since <when>',
      'start of the window: a duration ago (90m, 24h, 7d) or ISO 8601 (default: 24h)',
    )
    .option('--from <when>', 'start of the window (ISO 8601 or a duration ago), with --until')
    .option('--until <when>', 'end of the window, exclusive (default: now)');
  withLogSourceOptions(command)
    .option(
      '--csv <file>',
      'read a CSV of inputs instead: a column per feature, optionally "prediction"',
    )
    .option('--reference <part>', 'the version rows to compare with: train or holdout', 'train')
    .option(
      '--max-rows <n>',
      'hold at most this many rows of exact values (rows × features × 8 bytes); beyond, a fixed-size sketch',
      String(DEFAULT_MAX_ROWS),
    )
    .option('--ref <ref>', 'branch or commit of the registry', 'main')
    .option('--json', 'print the report as JSON instead of markdown')
    .option('--out <dir>', `also write ${Object.values(DRIFT_FILES).join(', ')} into this folder`)
    .action(async (target: string, opts: DriftCliOptions) => {
      const wanted = modelRef(target, false);
      const now = Date.now();
      const repo = cli.repo();
      const report = await measureDrift({
        repo,
        commit: await repo.resolve(opts.ref),
        refName: opts.ref,
        model: wanted.model,
        version: wanted.version,
        part: parsePart(opts.reference),
        maxRows: parseMaxRows(opts.maxRows),
        window: windowOf(opts, now),
        source: sourceOf(cli, opts),
        options: await driftOptionsAt(cli.root(), wanted.model),
        now: new Date(now),
      });
      cli.io.stdout.write(opts.json ? renderDriftJson(report) : renderDriftMarkdown(report));
      if (opts.out !== undefined)
        await writeDriftReport(path.resolve(cli.io.cwd, opts.out), report);
    });
}

function parsePart(text: string): ReferencePart {
  if (text === 'train' || text === 'holdout') return text;
  throw new UsageError(`--reference must be train or holdout, got ${JSON.stringify(text)}`);
}

function parseMaxRows(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) {
    throw new UsageError(`--max-rows must be a whole number ≥ 1, got ${JSON.stringify(text)}`);
  }
  return n;
}

/** `[from, until)` from --since or --from/--until; null for a CSV, whose rows have no times. */
function windowOf(opts: DriftCliOptions, now: number): { from: number; until: number } | null {
  if (opts.csv !== undefined) {
    if (opts.since ?? opts.from ?? opts.until) {
      throw new UsageError(
        '--csv reads every row of the file: leave out --since, --from and --until',
      );
    }
    return null;
  }
  if (opts.since !== undefined && (opts.from !== undefined || opts.until !== undefined)) {
    throw new UsageError('give the window as --since, or as --from and --until, not both');
  }
  const from = parseInstant(
    opts.from ?? opts.since ?? '24h',
    opts.from ? '--from' : '--since',
    now,
  );
  const until = opts.until === undefined ? now : parseInstant(opts.until, '--until', now);
  if (!(from < until)) {
    throw new UsageError(
      `the window is empty: it starts at ${new Date(from).toISOString()} and ends at ${new Date(until).toISOString()}`,
    );
  }
  return { from, until };
}

/** The one source named: `--csv`, `--server`, else the store file. */
function sourceOf(cli: CliContext, opts: DriftCliOptions): WindowSource {
  const named = [opts.csv, opts.server, opts.store ?? opts.dataDir].filter((s) => s !== undefined);
  if (named.length > 1) {
    throw new UsageError('read one source: --store/--data-dir, --server or --csv');
  }
  if (opts.csv !== undefined) {
    const file = path.resolve(cli.io.cwd, opts.csv);
    return { kind: 'csv', file, shown: shown(cli.io, file) };
  }
  if (opts.server !== undefined) return { kind: 'server', ...logServer(cli, opts.server, opts) };
  const file = logStoreFile(cli, opts);
  return { kind: 'store', file, shown: shown(cli.io, file) };
}
