/**
 * The report comment of a pull request, as report-comment.yml writes it from a `workflow_run`:
 * the pull request is found from the run's head commit (never from the artifact, which a fork
 * controls), and its one comment — found by its marker, written by a bot — is created once and
 * then edited in place.
 */
import type { GitHubClient } from './client.ts';
import { refused } from './refused.ts';

/** GitHub refuses a comment over 65,536 characters. */
export const MAX_COMMENT = 65_536;

const PERMISSION = '`pull-requests: write`';

/** What a `workflow_run` payload says about the run's head (its `workflow_run` object). */
export interface RunHead {
  /** The pull request's head commit the run was for. */
  headSha: string;
  headBranch: string;
  /** `owner/repo` of the head: another repository for a fork's pull request. */
  headRepository: string;
  /** GitHub fills this for a pull request of the same repository only (empty for a fork's). */
  pullRequests: { number: number; head: { sha: string } }[];
}

/** Reads {@link RunHead} from a `workflow_run` payload object; undefined when it is not one. */
export function runHead(workflowRun: unknown): RunHead | undefined {
  const run = workflowRun as {
    head_sha?: unknown;
    head_branch?: unknown;
    head_repository?: { full_name?: unknown } | null;
    pull_requests?: unknown;
  } | null;
  if (run === null || typeof run !== 'object') return undefined;
  const { head_sha: headSha, head_branch: headBranch } = run;
  const headRepository = run.head_repository?.full_name;
  if (typeof headSha !== 'string' || typeof headBranch !== 'string') return undefined;
  if (typeof headRepository !== 'string') return undefined;
  const pulls = Array.isArray(run.pull_requests) ? run.pull_requests : [];
  return {
    headSha,
    headBranch,
    headRepository,
    pullRequests: pulls.filter(
      (p): p is RunHead['pullRequests'][number] =>
        typeof (p as { number?: unknown }).number === 'number' &&
        typeof (p as { head?: { sha?: unknown } }).head?.sha === 'string',
    ),
  };
}

/**
 * The open pull request whose head is still the run's head commit, or undefined (none, or it
 * moved on since: the newer commit's run writes the report).
 */
export async function pullOfRun(
  client: GitHubClient,
  where: { owner: string; repo: string },
  head: RunHead,
): Promise<number | undefined> {
  // The payload's list says which pull request the run was for, with the head it had then:
  // still its head now?
  const listed = head.pullRequests.find((p) => p.head.sha === head.headSha);
  if (listed) {
    const now = await client.rest.pulls
      .get({ ...where, pull_number: listed.number })
      .catch((e: unknown) => refused(e, `read pull request #${listed.number}`, PERMISSION));
    return now.data.state === 'open' && now.data.head.sha === head.headSha
      ? listed.number
      : undefined;
  }
  // A fork's pull request: listed by its head, `fork-owner:branch`.
  const [forkOwner] = head.headRepository.split('/');
  const open = await client.rest.pulls
    .list({ ...where, state: 'open', head: `${forkOwner ?? ''}:${head.headBranch}`, per_page: 10 })
    .catch((e: unknown) =>
      refused(e, `list pull requests of ${where.owner}/${where.repo}`, PERMISSION),
    );
  return open.data.find(
    (p) => p.head.sha === head.headSha && p.head.repo?.full_name === head.headRepository,
  )?.number;
}

export interface CommentResult {
  operation: 'created' | 'updated' | 'unchanged';
  id: number;
  url: string;
}

/**
 * Creates the comment of `marker` on issue or pull request `number`, or edits the one a bot
 * wrote before (a comment anyone else wrote with the marker is left alone).
 */
export async function upsertComment(
  client: GitHubClient,
  where: { owner: string; repo: string; number: number },
  marker: string,
  body: string,
): Promise<CommentResult> {
  const { owner, repo, number } = where;
  const text = body.startsWith(marker) ? body : `${marker}\n${body}`;
  if (text.length > MAX_COMMENT)
    throw new Error(`the comment has ${text.length} characters; GitHub accepts ${MAX_COMMENT}`);
  const comments = await client
    .paginate(client.rest.issues.listComments, { owner, repo, issue_number: number, per_page: 100 })
    .catch((e: unknown) => refused(e, `list the comments of #${number}`, PERMISSION));
  const mine = comments
    .filter((c) => c.user?.type === 'Bot' && (c.body ?? '').startsWith(marker))
    .at(-1);
  if (mine) {
    if (mine.body === text) return { operation: 'unchanged', id: mine.id, url: mine.html_url };
    const updated = await client.rest.issues
      .updateComment({ owner, repo, comment_id: mine.id, body: text })
      .catch((e: unknown) => refused(e, `edit comment ${mine.id} of #${number}`, PERMISSION));
    return { operation: 'updated', id: updated.data.id, url: updated.data.html_url };
  }
  const created = await client.rest.issues
    .createComment({ owner, repo, issue_number: number, body: text })
    .catch((e: unknown) => refused(e, `comment on #${number}`, PERMISSION));
  return { operation: 'created', id: created.data.id, url: created.data.html_url };
}
