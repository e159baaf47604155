/**
 * What promote and rollback share: start from the remote's default branch, write the plan on
 * its fixed branch (compared with the branch as the remote has it), push the branch, and open
 * or update its one pull request.
 */
import * as core from '@actions/core';
import { GitError } from '../../pipeline/errors.ts';
import type { GitRepo } from '../../pipeline/git/repo.ts';
import { createGitHubClient } from '../../pipeline/github/client.ts';
import { upsertPullRequest, type PullOperation } from '../../pipeline/github/pulls.ts';
import { applyBranchPlan } from '../../pipeline/registry/apply.ts';
import type { BranchPlan } from '../../pipeline/registry/plan.ts';
import { required, type InputGetter } from './action.ts';

export interface ProposeOptions {
  repo: GitRepo;
  remote: string;
  /** The default branch the pull request targets. */
  base: string;
  plan: BranchPlan;
  body: string;
  labels: string[];
  token: string;
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

/** Applies a branch plan against the remote and opens or updates its pull request. */
export async function propose(options: ProposeOptions): Promise<ProposeResult> {
  const { repo, remote, plan } = options;
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
    token: options.token,
    ...(options.env.GITHUB_API_URL ? { baseUrl: options.env.GITHUB_API_URL } : {}),
    onWait: (m) => core.info(m),
  });
  const pr = await upsertPullRequest(
    client,
    {
      owner,
      repo: name,
      head: plan.branch,
      base: options.base,
      title: plan.title,
      body: options.body,
      labels: options.labels,
    },
    branch.operation !== 'unchanged',
  );
  const operation: PullOperation =
    pr.operation === 'created'
      ? 'created'
      : branch.operation !== 'unchanged' || pr.operation === 'updated'
        ? 'updated'
        : 'unchanged';
  return { operation, number: pr.number, url: pr.url, commit: branch.commit };
}
