/**
 * `pinml promote`: pins a version as production on the standing branch pinml/promote-<model>,
 * through the propose step (artifact checked first; the stale-proposal rule).
 */
import type { Command } from 'commander';
import { planPromotionProposal, proposePromotion } from '../propose.ts';
import { printProposal, proposeInput, withBranchOptions, type BranchOptions } from './branch.ts';
import { modelRef, type CliContext } from './context.ts';

export function promoteCommand(program: Command, cli: CliContext): void {
  withBranchOptions(
    program
      .command('promote')
      .description('pin a version as production on the standing branch pinml/promote-<model>')
      .argument('<model@version>', 'e.g. iris@3'),
  ).action(async (target: string, opts: BranchOptions) => {
    const { model, version } = modelRef(target, true);
    const input = { ...(await proposeInput(cli, model, opts)), version };
    const propose = opts.dryRun ? planPromotionProposal : proposePromotion;
    printProposal(cli, await propose(input), opts);
  });
}
