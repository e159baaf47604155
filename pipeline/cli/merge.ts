/** `pinml merge`: merges run folders of single candidates into the run of all of them. */
import path from 'node:path';
import type { Command } from 'commander';
import { canonicalJson } from '../json.ts';
import { mergeRuns, readRunFolder, writeRunFolder } from '../run-folder.ts';
import { renderRun } from '../run-summary.ts';
import type { CliContext } from './context.ts';

export function mergeCommand(program: Command, cli: CliContext): void {
  program
    .command('merge')
    .description('merge run folders of single candidates into the run of all of them')
    .argument('<dirs...>', 'run folders written by `pinml train --candidate`')
    .requiredOption('-o, --out <dir>', 'run folder to write')
    .option('--json', 'print the merged run record as JSON')
    .action(async (dirs: string[], opts: { out: string; json?: boolean }) => {
      const { io } = cli;
      const runs = [];
      for (const dir of dirs)
        runs.push({ dir, run: await readRunFolder(path.resolve(io.cwd, dir)) });
      const merged = mergeRuns(runs);
      await writeRunFolder(path.resolve(io.cwd, opts.out), merged);
      io.stdout.write(opts.json ? canonicalJson(merged.record) : renderRun(merged.record));
    });
}
