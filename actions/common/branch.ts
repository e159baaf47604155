/**
 * What promote and rollback share: their inputs, the repository opened at the tip of the
 * remote's default branch (the token masked first), and the pull requests of the repository
 * on GitHub, for the propose step.
 */
import { GitError } from '../../pipeline/errors.ts';
import { repositoryPulls } from '../../pipeline/github/pulls.ts';
import type { Applied, ProposeInput } from '../../pipeline/propose.ts';
import type { BranchChange } from '../../pipeline/registry/plan.ts';
import {
  defaultBranch,
  githubClient,
  openRepository,
  required,
  type InputGetter,
} from './action.ts';

/** The inputs every branch-and-pull-request action takes. */
export interface BranchInputs {
  base: string;
  remote: string;
  labels: string[];
  token: string;
}

/** Reads `base`, `remote`, `labels` (comma-separated; `defaultLabels` when empty) and the token. */
export function parseBranchInputs(get: InputGetter, defaultLabels: string): BranchInputs {
  return {
    base: get('base') || defaultBranch(),
    remote: get('remote') || 'origin',
    labels: (get('labels') || defaultLabels)
      .split(',')
      .map((l) => l.trim())
      .filter(Boolean),
    token: required(get, 'github-token'),
  };
}

/** `owner/repo` from GITHUB_REPOSITORY. */
export function repository(env: NodeJS.ProcessEnv): { owner: string; repo: string } {
  const [owner, repo] = (env.GITHUB_REPOSITORY ?? '').split('/');
  if (!owner || !repo)
    throw new GitError(
      'other',
      'GITHUB_REPOSITORY is not set (owner/repo): run inside GitHub Actions',
    );
  return { owner, repo };
}

/**
 * The propose step's input in a workflow: the workspace's repository at the tip of the
 * remote's default branch (fetched), pushing to the remote, and the pull request on GitHub
 * (`GITHUB_API_URL` when set) with the inputs' labels.
 */
export async function proposeInput(
  inputs: BranchInputs & { model: string },
  env: NodeJS.ProcessEnv,
): Promise<{ root: string; input: ProposeInput }> {
  const { root, repo } = openRepository(inputs.token, env);
  const at = await repo.fetch({ remote: inputs.remote, branch: inputs.base });
  const client = githubClient(inputs.token, env);
  const pulls = repositoryPulls(client, repository(env));
  return {
    root,
    input: {
      repo,
      base: inputs.base,
      at,
      model: inputs.model,
      remote: inputs.remote,
      pullRequest: { pulls, labels: inputs.labels },
    },
  };
}

/**
 * The outputs every proposal sets (`operation`, `pr-number`, `pr-url`), and its pull request
 * as a markdown link for the summary.
 */
export function proposalOutputs(proposal: Applied<BranchChange>): {
  outputs: Record<string, string | number | undefined>;
  link: string;
} {
  const pr = proposal.pullRequest;
  return {
    outputs: { operation: proposal.operation, 'pr-number': pr?.number, 'pr-url': pr?.url },
    link: `[#${pr?.number ?? ''}](${pr?.url ?? ''})`,
  };
}
