/**
 * The standing pull request of a branch: created once, then updated in place (title, body,
 * labels), never duplicated. Reports `created`, `updated` or `unchanged`.
 */
import { GitHubError } from '../errors.ts';
import type { GitHubClient } from './client.ts';
import { refused } from './refused.ts';

/** GitHub refuses a pull request body over 65,536 characters. */
export const MAX_BODY = 65_536;

export interface PullRequestSpec {
  owner: string;
  repo: string;
  /** The branch holding the change (in the same repository). */
  head: string;
  base: string;
  title: string;
  body: string;
  labels: readonly string[];
}

export type PullOperation = 'created' | 'updated' | 'unchanged';

export interface PullResult {
  operation: PullOperation;
  number: number;
  url: string;
  /** The pull request's GraphQL node id (what auto-merge is requested with). */
  nodeId?: string;
}

/** Adding a label the repository lacks creates it: `pull-requests: write` does not cover that. */
const LABELS_PERMISSION =
  '`issues: write`: a label the repository does not have yet is created when it is first added, ' +
  'and creating a label is an issues permission';

const PULLS_PERMISSION =
  '`pull-requests: write`, and the repository setting ' +
  '"Allow GitHub Actions to create and approve pull requests"';

function explain(e: unknown, what: string): never {
  return refused(e, what, PULLS_PERMISSION);
}

/** The open pull request from `head` to `base` (one at most: GitHub refuses a second). */
async function openPullRequest(
  client: GitHubClient,
  where: { owner: string; repo: string; head: string; base: string },
) {
  const { owner, repo } = where;
  const open = await client.rest.pulls
    .list({
      owner,
      repo,
      state: 'open',
      head: `${owner}:${where.head}`,
      base: where.base,
      per_page: 10,
    })
    .catch((e: unknown) => explain(e, `list pull requests of ${owner}/${repo}`));
  return open.data[0];
}

/**
 * Opens the pull request from `head` to `base`, or updates the open one. `headChanged` says the
 * branch itself was moved (a new commit), which makes an otherwise equal request `updated`.
 */
export async function upsertPullRequest(
  client: GitHubClient,
  spec: PullRequestSpec,
  headChanged = false,
): Promise<PullResult> {
  if (spec.body.length > MAX_BODY) {
    throw new GitHubError(
      `the pull request body has ${spec.body.length} characters; GitHub accepts ${MAX_BODY}`,
    );
  }
  const { owner, repo } = spec;
  const existing = await openPullRequest(client, spec);
  let result: PullResult;
  if (existing) {
    const same = existing.title === spec.title && (existing.body ?? '') === spec.body;
    if (!same) {
      await client.rest.pulls
        .update({ owner, repo, pull_number: existing.number, title: spec.title, body: spec.body })
        .catch((e: unknown) => explain(e, `update pull request #${existing.number}`));
    }
    result = {
      operation: same && !headChanged ? 'unchanged' : 'updated',
      number: existing.number,
      url: existing.html_url,
      nodeId: existing.node_id,
    };
  } else {
    const created = await client.rest.pulls
      .create({ owner, repo, head: spec.head, base: spec.base, title: spec.title, body: spec.body })
      .catch((e: unknown) => explain(e, `open a pull request from ${spec.head} to ${spec.base}`));
    result = {
      operation: 'created',
      number: created.data.number,
      url: created.data.html_url,
      nodeId: created.data.node_id,
    };
  }
  const have = new Set((existing?.labels ?? []).map((l) => l.name));
  const missing = spec.labels.filter((l) => !have.has(l));
  if (missing.length > 0) {
    await client.rest.issues
      .addLabels({ owner, repo, issue_number: result.number, labels: missing })
      .catch((e: unknown) =>
        refused(
          e,
          `label pull request #${result.number} (${missing.join(', ')})`,
          LABELS_PERMISSION,
        ),
      );
  }
  return result;
}

/** The pull requests of one repository, as the propose step uses them (a port). */
export interface PullRequests {
  /** Opens or updates the one open pull request from `spec.head` (see {@link upsertPullRequest}). */
  upsert(spec: Omit<PullRequestSpec, 'owner' | 'repo'>, headChanged: boolean): Promise<PullResult>;
  /** Comments on the open pull request from `head` to `base` and closes it (see {@link closePullRequest}). */
  close(
    head: string,
    base: string,
    comment: string,
  ): Promise<Omit<PullResult, 'operation'> | undefined>;
}

/**
 * Closes the open pull request from `head` to `base`, with `comment` saying why first (the branch
 * stays); undefined when none is open.
 */
export async function closePullRequest(
  client: GitHubClient,
  where: { owner: string; repo: string; head: string; base: string },
  comment: string,
): Promise<Omit<PullResult, 'operation'> | undefined> {
  const { owner, repo } = where;
  const pr = await openPullRequest(client, where);
  if (!pr) return undefined;
  await client.rest.issues
    .createComment({ owner, repo, issue_number: pr.number, body: comment })
    .catch((e: unknown) => explain(e, `comment on pull request #${pr.number}`));
  await client.rest.pulls
    .update({ owner, repo, pull_number: pr.number, state: 'closed' })
    .catch((e: unknown) => explain(e, `close pull request #${pr.number}`));
  return { number: pr.number, url: pr.html_url };
}

/** The pull requests of `owner/repo` through a GitHub client. */
export function repositoryPulls(
  client: GitHubClient,
  where: { owner: string; repo: string },
): PullRequests {
  return {
    upsert: (spec, headChanged) => upsertPullRequest(client, { ...where, ...spec }, headChanged),
    close: (head, base, comment) => closePullRequest(client, { ...where, head, base }, comment),
  };
}

/**
 * Asks GitHub to merge the pull request once its requirements pass (GraphQL
 * `enablePullRequestAutoMerge`: REST has no such call). Resolves to the reason when GitHub will
 * not (auto-merge off for the repository, a pull request with nothing to wait for), undefined
 * when requested.
 */
export async function requestAutoMerge(
  client: GitHubClient,
  nodeId: string,
): Promise<string | undefined> {
  try {
    await client.graphql(
      `mutation($id: ID!) {
        enablePullRequestAutoMerge(input: { pullRequestId: $id, mergeMethod: MERGE }) {
          pullRequest { number autoMergeRequest { enabledAt } }
        }
      }`,
      { id: nodeId },
    );
    return undefined;
  } catch (e) {
    const errors = (e as { errors?: { message?: string }[] }).errors;
    return errors?.map((x) => x.message).join('; ') ?? (e as Error).message;
  }
}
