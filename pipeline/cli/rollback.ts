/**
 * `pinml rollback`: reverts the commit that set the production pin now in effect, on
 * pinml/rollback-<model>, through the propose step.
 */
import type { Command } from 'commander';
import { planRollbackProposal, proposeRollback } from '../propose.ts';
import { printProposal, proposeInput, withBranchOptions, type BranchOptions } from './branch.ts';
import { modelRef, type CliContext } from './context.ts';

export function rollbackCommand(program: Command, cli: CliContext): void {
  withBranchOptions(
    program
      .command('rollback')
      .description(
        'revert the commit that set the production pin now in effect, on pinml/rollback-<model>',
      )
      .argument('<model>', 'e.g. iris'),
  ).action(async (target: string, opts: BranchOptions) => {
    const { model } = modelRef(target, false);
    const propose = opts.dryRun ? planRollbackProposal : proposeRollback;
    printProposal(cli, await propose(await proposeInput(cli, model, opts)), opts);
  });
}
