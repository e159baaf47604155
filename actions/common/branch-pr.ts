/**
 * What promote and rollback share: start from the remote's default branch, write the plan on
 * its fixed branch (compared with the branch as the remote has it), push the branch, and open
 * or update its one pull request.
 */
import * as core from '@actions/core';
import { GitError } from '../../pipeline/errors.ts';
import { GitRepo } from '../../pipeline/git/repo.ts';
import { createGitHubClient } from '../../pipeline/github/client.ts';
import { upsertPullRequest, type PullOperation } from '../../pipeline/github/pulls.ts';
import { applyBranchPlan } from '../../pipeline/registry/apply.ts';
import type { BranchPlan } from '../../pipeline/registry/plan.ts';
import { required, workspace, type InputGetter } from './action.ts';

export interface ProposeOptions {
  repo: GitRepo;
  /** Where to push and which branch the pull request targets, with what labels and token. */
  inputs: BranchInputs;
  plan: BranchPlan;
  body: string;
  env: NodeJS.ProcessEnv;
}

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
    base: get('base') || 'main',
    remote: get('remote') || 'origin',
    labels: (get('labels') || defaultLabels)
      .split(',')
      .map((l) => l.trim())
      .filter(Boolean),
    token: required(get, 'github-token'),
  };
}

/**
 * Where a branch-and-pull-request action starts: the token masked, the workspace's repository
 * opened with it, and the tip of the remote's default branch fetched.
 */
export async function openBase(
  inputs: BranchInputs,
  env: NodeJS.ProcessEnv,
): Promise<{ root: string; repo: GitRepo; tip: string }> {
  core.setSecret(inputs.token);
  const root = workspace(env);
  const repo = GitRepo.open(root, { token: inputs.token });
  const tip = await repo.fetch({ remote: inputs.remote, branch: inputs.base });
  return { root, repo, tip };
}

export interface ProposeResult {
  operation: PullOperation;
  number: number;
  url: string;
  commit: string;
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
 * Applies a branch plan against the remote and opens or updates its pull request; sets the
 * step outputs `operation`, `pr-number` and `pr-url`.
 */
export async function propose(options: ProposeOptions): Promise<ProposeResult> {
  const { repo, plan, inputs } = options;
  const remote = inputs.remote;
  // Compare with the branch as the remote has it, so a re-run with the same inputs is `unchanged`.
  try {
    const remoteTip = await repo.fetch({ remote, branch: plan.branch });
    await repo.updateBranch(plan.branch, remoteTip);
  } catch (e) {
    if (!(e instanceof GitError && e.reason === 'not-found')) throw e;
  }
  const branch = await applyBranchPlan(repo, plan);
  if (branch.operation !== 'unchanged') {
    await repo.push({ remote, branch: plan.branch, oid: branch.commit, force: true });
  }
  const { owner, repo: name } = repository(options.env);
  const client = createGitHubClient({
    token: inputs.token,
    ...(options.env.GITHUB_API_URL ? { baseUrl: options.env.GITHUB_API_URL } : {}),
    onWait: (m) => core.info(m),
  });
  const pr = await upsertPullRequest(
    client,
    {
      owner,
      repo: name,
      head: plan.branch,
      base: inputs.base,
      title: plan.title,
      body: options.body,
      labels: inputs.labels,
    },
    branch.operation !== 'unchanged',
  );
  const operation: PullOperation =
    pr.operation === 'created'
      ? 'created'
      : branch.operation !== 'unchanged' || pr.operation === 'updated'
        ? 'updated'
        : 'unchanged';
  core.setOutput('operation', operation);
  core.setOutput('pr-number', String(pr.number));
  core.setOutput('pr-url', pr.url);
  return { operation, number: pr.number, url: pr.url, commit: branch.commit };
}
