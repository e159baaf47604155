/** `pinml history`: every change of a model's production pin. */
import type { Command } from 'commander';
import { canonicalJson } from '../json.ts';
import { readHistory } from '../registry/history.ts';
import { requireModel } from '../registry/registry.ts';
import { renderHistory } from '../registry/render.ts';
import { modelRef, type CliContext } from './context.ts';

export function historyCommand(program: Command, cli: CliContext): void {
  program
    .command('history')
    .description('every change of the production pin: version, commit, author, date, pull request')
    .argument('<model>', 'e.g. iris')
    .option('--ref <ref>', 'branch or commit', 'main')
    .option('--json', 'print the history as JSON')
    .action(async (target: string, opts: { ref: string; json?: boolean }) => {
      const { model } = modelRef(target, false);
      const repo = cli.repo();
      const commit = await repo.resolve(opts.ref);
      await requireModel(repo, commit, model, opts.ref);
      const history = await readHistory(repo, commit, model);
      cli.io.stdout.write(
        opts.json ? canonicalJson(history.entries) : renderHistory(model, history),
      );
    });
}
