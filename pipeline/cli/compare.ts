/**
 * `pinml compare`: compares a run folder's candidate with the production version on the same
 * hold-out rows and prints the promotion report; with `--live MODEL`, compares what the
 * prediction log says of production, its canary and its shadow (`pipeline/live/`), as the
 * monitor workflow judges them, and prints the live report.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { assessCandidate } from '../decide.ts';
import { UsageError } from '../errors.ts';
import { canonicalJson } from '../json.ts';
import { judgeModel } from '../live/monitor.ts';
import { renderLiveReport } from '../live/render.ts';
import { parseDuration } from '../log/window.ts';
import { writeReportFiles } from '../report-files.ts';
import { renderReportJson, renderReportMarkdown } from '../report.ts';
import { readRunFolder } from '../run-folder.ts';
import { readRunDataset } from '../workspace.ts';
import { modelRef, resolveRunDir, type CliContext } from './context.ts';
import { logSource, withLogSourceOptions, type LogSourceOptions } from './log-source.ts';

interface CompareOptions extends LogSourceOptions {
  base: string;
  out?: string;
  json?: boolean;
  live?: string;
  since?: string;
}

export function compareCommand(program: Command, cli: CliContext): void {
  withLogSourceOptions(
    program
      .command('compare')
      .description(
        "compare a run folder's candidate with the production version on the same hold-out rows and print the promotion report; with --live MODEL, production against its canary and shadow on the prediction log's labelled rows",
      )
      .argument('[dir]', 'run folder (default: the only one under .pinml/runs)')
      .option('--base <branch>', 'the branch whose registry pins production', 'main')
      .option('-o, --out <dir>', 'also write report.md and report.json into this folder')
      .option('--json', 'print the report as JSON instead of markdown')
      .option(
        '--live <model>',
        'judge the served model on the prediction log (production by monitor.rollback, its canary and shadow by the compare policy), as monitor.yml does',
      )
      .option(
        '--since <duration>',
        "with --live: the window, a duration such as 90m, 24h, 7d (default: the model's monitor.rollback.window)",
      ),
  ).action(async (dir: string | undefined, opts: CompareOptions) => {
    if (opts.live !== undefined) return compareLive(cli, dir, { ...opts, live: opts.live });
    if (opts.since !== undefined) throw new UsageError('--since goes with --live MODEL');
    const run = await readRunFolder(await resolveRunDir(cli, dir));
    const repo = cli.repo();
    const { report } = await assessCandidate({
      repo,
      at: await repo.resolve(opts.base),
      run,
      dataset: await readRunDataset(cli.root(), run.record),
      commit: await repo.resolve('HEAD'),
    });
    if (opts.out) await writeReportFiles(path.resolve(cli.io.cwd, opts.out), report);
    cli.io.stdout.write(opts.json ? renderReportJson(report) : renderReportMarkdown(report));
  });
}

async function compareLive(
  cli: CliContext,
  dir: string | undefined,
  opts: CompareOptions & { live: string },
): Promise<void> {
  if (dir !== undefined) {
    throw new UsageError(`--live compares what is served: give no run folder (got ${dir})`);
  }
  if (opts.out !== undefined) throw new UsageError('--out goes with a run folder, not --live');
  const { model, version } = modelRef(opts.live, false);
  if (version !== undefined) {
    throw new UsageError(
      `--live takes a model, not a version (got ${opts.live}): its production, canary and shadow are compared`,
    );
  }
  if (opts.since !== undefined) parseDuration(opts.since, '--since');
  const repo = cli.repo();
  const { report, rollback } = await judgeModel(
    {
      repo,
      at: await repo.resolve(opts.base),
      base: opts.base,
      source: logSource(cli, opts),
      now: Date.now(),
      ...(opts.since === undefined ? {} : { window: opts.since }),
    },
    model,
  );
  cli.io.stdout.write(opts.json ? canonicalJson(report) : renderLiveReport(report, rollback.alpha));
}
