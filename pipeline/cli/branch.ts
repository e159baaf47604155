/**
 * What `pinml promote` and `pinml rollback` share: the options of a change proposed on a
 * branch, the call into the propose step, and how its outcome is printed.
 */
import type { Command } from 'commander';
import { canonicalJson } from '../json.ts';
import type { Proposal, ProposeInput } from '../propose.ts';
import { describePlan } from '../registry/plan.ts';
import type { CliContext } from './context.ts';

/** The options of the commands that propose a change on a branch. */
export interface BranchOptions {
  base: string;
  merge?: boolean;
  remote?: string;
  dryRun?: boolean;
  json?: boolean;
}

export function withBranchOptions(command: Command): Command {
  return command
    .option('--base <branch>', 'the default branch', 'main')
    .option('--merge', 'merge the branch into the base at once (local use)')
    .option('--remote <name>', 'push the branch (and the merge) to this remote')
    .option('--dry-run', 'print the plan and write nothing')
    .option('--json', 'print the result as JSON');
}

/** The propose step's input for the repository at the root, from the options. */
export async function proposeInput(
  cli: CliContext,
  model: string,
  opts: BranchOptions,
): Promise<ProposeInput> {
  const repo = cli.repo();
  return {
    repo,
    base: opts.base,
    at: await repo.resolve(opts.base),
    model,
    ...(opts.remote ? { remote: opts.remote } : {}),
    ...(opts.merge ? { merge: true } : {}),
  };
}

/** Prints what the propose step did: nothing to do, the plan (`--dry-run`), or the branch. */
export function printProposal(cli: CliContext, proposal: Proposal, opts: BranchOptions): void {
  const out = cli.io.stdout;
  if (proposal.status === 'unchanged') {
    out.write(
      opts.json
        ? canonicalJson({ operation: 'unchanged', reason: proposal.reason })
        : `unchanged: ${proposal.reason}\n`,
    );
    return;
  }
  const { plan } = proposal;
  if (proposal.status === 'planned') {
    out.write(opts.json ? canonicalJson(plan) : describePlan(plan));
    return;
  }
  const { operation, commit, merged } = proposal;
  out.write(
    opts.json
      ? canonicalJson({
          operation,
          branch: plan.branch,
          commit,
          title: plan.title,
          from: plan.from,
          to: plan.to,
          ...(merged ? { merged } : {}),
        })
      : `${operation}: ${plan.branch} (${commit.slice(0, 12)}): ${plan.title}\n` +
          (merged
            ? `merged into ${opts.base} (${merged.slice(0, 12)})\n`
            : `review and merge ${plan.branch} into ${opts.base}\n`),
  );
}
