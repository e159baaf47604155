/**
 * What `pinml promote`, `pinml rollback` and `pinml data from-feedback` share: the options of a
 * change proposed on a branch, the call into the propose step, how its outcome is printed, and
 * its pull request when the environment names GitHub.
 */
import type { Command } from 'commander';
import { UsageError } from '../errors.ts';
import { createGitHubClient } from '../github/client.ts';
import { repositoryPulls } from '../github/pulls.ts';
import { canonicalJson } from '../json.ts';
import type { Applied, Proposal, ProposeInput, Unchanged } from '../propose.ts';
import { describePlan, type BranchChange } from '../registry/plan.ts';
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

/** Prints `unchanged: <reason>` (or its JSON). */
export function printUnchanged(cli: CliContext, reason: string, opts: { json?: boolean }): void {
  cli.io.stdout.write(
    opts.json ? canonicalJson({ operation: 'unchanged', reason }) : `unchanged: ${reason}\n`,
  );
}

/** What an applied proposal did, as text: the branch, its commit, the merge or what to do next. */
export function describeApplied(applied: Applied<BranchChange>, base: string): string {
  const { operation, commit, merged, plan, pullRequest } = applied;
  return (
    `${operation}: ${plan.branch} (${commit.slice(0, 12)}): ${plan.title}\n` +
    (pullRequest
      ? `pull request #${pullRequest.number} (${pullRequest.operation}): ${pullRequest.url}\n`
      : '') +
    (merged
      ? `merged into ${base} (${merged.slice(0, 12)})\n`
      : `review and merge ${plan.branch} into ${base}\n`)
  );
}

/** How a kind of plan is printed. */
export interface PlanPrinter<P extends BranchChange> {
  /** The plan as `--dry-run` prints it. */
  describe(plan: P): string;
  /** The plan as `--dry-run --json` prints it. */
  json(plan: P): unknown;
  /** What the JSON of the applied plan says besides its operation, branch, commit and title. */
  facts(plan: P): Record<string, unknown>;
}

/** Prints what a proposal did: nothing to do, the plan (`--dry-run`), or the branch. */
export function printOutcome<P extends BranchChange>(
  cli: CliContext,
  proposal: Unchanged | { status: 'planned'; plan: P } | Applied<P>,
  opts: BranchOptions,
  printer: PlanPrinter<P>,
): void {
  const out = cli.io.stdout;
  if (proposal.status === 'unchanged') return printUnchanged(cli, proposal.reason, opts);
  const { plan } = proposal;
  if (proposal.status === 'planned') {
    out.write(opts.json ? canonicalJson(printer.json(plan)) : printer.describe(plan));
    return;
  }
  const { operation, commit, merged, pullRequest } = proposal;
  out.write(
    opts.json
      ? canonicalJson({
          operation,
          branch: plan.branch,
          commit,
          title: plan.title,
          ...printer.facts(plan),
          ...(merged ? { merged } : {}),
          ...(pullRequest ? { pullRequest } : {}),
        })
      : describeApplied(proposal, opts.base),
  );
}

/** Prints what the propose step did with a promotion or a rollback. */
export function printProposal(cli: CliContext, proposal: Proposal, opts: BranchOptions): void {
  printOutcome(cli, proposal, opts, {
    describe: (plan) => describePlan(plan),
    json: (plan) => plan,
    facts: (plan) => ({ from: plan.from, to: plan.to }),
  });
}

/**
 * The pull request of a proposal made from the command line: opened or updated when the branch
 * is pushed (`--remote`) and the environment names GitHub as a workflow does (`GITHUB_TOKEN`,
 * `GITHUB_REPOSITORY` as owner/repo, `GITHUB_API_URL` when not api.github.com); else none.
 */
export function pullRequestFromEnv(
  cli: CliContext,
  opts: BranchOptions,
  labels: readonly string[],
): ProposeInput['pullRequest'] {
  const {
    GITHUB_TOKEN: token,
    GITHUB_REPOSITORY: repository,
    GITHUB_API_URL: baseUrl,
  } = cli.io.env;
  if (opts.remote === undefined || !token || !repository) return undefined;
  const [owner, repo, ...rest] = repository.split('/');
  if (!owner || !repo || rest.length > 0) {
    throw new UsageError(`GITHUB_REPOSITORY must be owner/repo, got ${JSON.stringify(repository)}`);
  }
  const client = createGitHubClient({
    token,
    ...(baseUrl ? { baseUrl } : {}),
    onWait: (m) => cli.io.stderr.write(`${m}\n`),
  });
  return { pulls: repositoryPulls(client, { owner, repo }), labels };
}
