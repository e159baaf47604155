/**
 * `pinml compare`: compares a run folder's candidate with the production version on the same
 * hold-out rows and prints the promotion report.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { assessCandidate } from '../decide.ts';
import { writeReportFiles } from '../report-files.ts';
import { renderReportJson, renderReportMarkdown } from '../report.ts';
import { readRunFolder } from '../run-folder.ts';
import { readRunDataset } from '../workspace.ts';
import { resolveRunDir, type CliContext } from './context.ts';

interface CompareOptions {
  base: string;
  out?: string;
  json?: boolean;
}

export function compareCommand(program: Command, cli: CliContext): void {
  program
    .command('compare')
    .description(
      "compare a run folder's candidate with the production version on the same hold-out rows; print the promotion report",
    )
    .argument('[dir]', 'run folder (default: the only one under .pinml/runs)')
    .option('--base <branch>', 'the branch whose registry pins production', 'main')
    .option('-o, --out <dir>', 'also write report.md and report.json into this folder')
    .option('--json', 'print the report as JSON instead of markdown')
    .action(async (dir: string | undefined, opts: CompareOptions) => {
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
