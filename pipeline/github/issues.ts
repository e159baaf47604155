/**
 * A standing issue: at most one open issue for a condition that comes and goes (a model's
 * drift), found by its labels and a hidden marker line in its body, opened when the condition
 * first holds, updated when its report changes, closed with a comment when it clears. First a
 * plan ({@link planIssue}, pure), then applied through the GitHub client
 * ({@link repositoryIssues}); a re-run with the same report changes nothing.
 *
 * GitHub REST: `GET /repos/{owner}/{repo}/issues` (which lists pull requests too: those carry a
 * `pull_request` key and are skipped), `POST …/issues`, `PATCH …/issues/{issue_number}`,
 * `POST …/issues/{issue_number}/comments`. Labels that do not exist yet are created by GitHub
 * when an issue is opened with them.
 */
import { GitHubError } from '../errors.ts';
import type { GitHubClient } from './client.ts';
import { MAX_BODY } from './pulls.ts';
import { refused } from './refused.ts';

/** What identifies a standing issue, and what it is opened with. */
export interface StandingIssue {
  /** Every one of them is on the issue; it is looked for by all of them. */
  labels: readonly string[];
  /** A line of its body no other issue with the labels has (a hidden HTML comment). */
  marker: string;
  title: string;
}

/** An open issue as listed: what the plan reads. */
export interface OpenIssue {
  number: number;
  title: string;
  body: string;
  labels: readonly string[];
  url: string;
}

export type IssueOperation = 'created' | 'updated' | 'unchanged' | 'closed' | 'none';

/** An issue closed for having the same marker as the one kept (a duplicate of a race). */
export interface DuplicateIssue {
  number: number;
  comment: string;
}

/** What to do, as a value: a dry run prints it, {@link IssueAdapter.apply} carries it out. */
export type IssuePlan =
  | { operation: 'none' }
  | { operation: 'unchanged'; number: number; url: string; duplicates: DuplicateIssue[] }
  | { operation: 'created'; title: string; body: string; labels: string[] }
  | {
      operation: 'updated';
      number: number;
      url: string;
      title: string;
      body: string;
      duplicates: DuplicateIssue[];
    }
  | { operation: 'closed'; issues: { number: number; url: string }[]; comment: string };

/** What applying a plan did; `number` and `url` name the issue, absent for `none`. */
export interface IssueResult {
  operation: IssueOperation;
  number?: number;
  url?: string;
}

export interface PlanIssueInput {
  issue: StandingIssue;
  /** Whether the condition holds now: an issue is opened or kept open, else closed. */
  holds: boolean;
  /** The report: the issue's body below the marker. */
  report: string;
  /** The comment an issue is closed with when the condition no longer holds. */
  closing: string;
  /** The open issues that carry the labels (pull requests left out). */
  open: readonly OpenIssue[];
}

/** The body of a standing issue: the marker line, then the report. */
export function issueBody(issue: StandingIssue, report: string): string {
  return `${issue.marker}\n${report}`;
}

/** Whether an open issue is this standing issue: every label, and the marker as a line of its body. */
export function isStandingIssue(issue: StandingIssue, found: OpenIssue): boolean {
  return (
    issue.labels.every((l) => found.labels.includes(l)) &&
    found.body.split(/\r?\n/).some((line) => line.trim() === issue.marker)
  );
}

/**
 * Plans the standing issue: opened when the condition holds and none is open, its body (and
 * title) updated when they differ byte for byte, unchanged when they do not, closed with
 * `closing` when the condition no longer holds, nothing when it does not hold and none is open.
 * Issues with other markers are never touched. Were two open (two runs that raced), the oldest
 * is kept and the others are closed as its duplicates.
 */
export function planIssue(input: PlanIssueInput): IssuePlan {
  const { issue } = input;
  const mine = input.open
    .filter((found) => isStandingIssue(issue, found))
    .sort((a, b) => a.number - b.number);
  const [kept, ...extra] = mine;
  if (!input.holds) {
    return kept === undefined
      ? { operation: 'none' }
      : {
          operation: 'closed',
          issues: mine.map(({ number, url }) => ({ number, url })),
          comment: input.closing,
        };
  }
  const body = issueBody(issue, input.report);
  if (body.length > MAX_BODY) {
    throw new GitHubError(
      `the issue body has ${body.length} characters; GitHub accepts ${MAX_BODY}: shorten the report`,
    );
  }
  if (kept === undefined) {
    return { operation: 'created', title: issue.title, body, labels: [...issue.labels] };
  }
  const duplicates = extra.map((d) => ({
    number: d.number,
    comment: `Closed by pinml as a duplicate of #${kept.number}.\n`,
  }));
  const { number, url } = kept;
  return kept.body === body && kept.title === issue.title
    ? { operation: 'unchanged', number, url, duplicates }
    : { operation: 'updated', number, url, title: issue.title, body, duplicates };
}

/** The issues of one repository, as the plan needs them (a port). */
export interface IssueAdapter {
  /** The open issues that carry every one of `labels`, pull requests left out. */
  open(labels: readonly string[]): Promise<OpenIssue[]>;
  apply(plan: IssuePlan): Promise<IssueResult>;
}

const ISSUES_PERMISSION = '`issues: write`';

/** The issues of `owner/repo` through a GitHub client. */
export function repositoryIssues(
  client: GitHubClient,
  where: { owner: string; repo: string },
): IssueAdapter {
  const { owner, repo } = where;
  const explain = (what: string) => (e: unknown) => refused(e, what, ISSUES_PERMISSION);
  const comment = (issue_number: number, body: string): Promise<unknown> =>
    client.rest.issues
      .createComment({ owner, repo, issue_number, body })
      .catch(explain(`comment on issue #${issue_number}`));
  const close = async (issue_number: number, reason: 'completed' | 'not_planned') => {
    await client.rest.issues
      .update({ owner, repo, issue_number, state: 'closed', state_reason: reason })
      .catch(explain(`close issue #${issue_number}`));
  };
  const closeDuplicates = async (duplicates: readonly DuplicateIssue[]): Promise<void> => {
    for (const d of duplicates) {
      await comment(d.number, d.comment);
      await close(d.number, 'not_planned');
    }
  };
  return {
    async open(labels) {
      const items = await client
        .paginate(client.rest.issues.listForRepo, {
          owner,
          repo,
          state: 'open',
          labels: labels.join(','),
          per_page: 100,
        })
        .catch(explain(`list the issues of ${owner}/${repo}`));
      return items
        .filter((item) => item.pull_request === undefined)
        .map((item) => ({
          number: item.number,
          title: item.title,
          body: item.body ?? '',
          labels: item.labels.map((l) => (typeof l === 'string' ? l : (l.name ?? ''))),
          url: item.html_url,
        }));
    },
    async apply(plan) {
      switch (plan.operation) {
        case 'none':
          return { operation: 'none' };
        case 'created': {
          const { title, body, labels } = plan;
          const made = await client.rest.issues
            .create({ owner, repo, title, body, labels })
            .catch(explain(`open an issue in ${owner}/${repo}`));
          return { operation: 'created', number: made.data.number, url: made.data.html_url };
        }
        case 'unchanged':
        case 'updated': {
          const { number, url } = plan;
          if (plan.operation === 'updated') {
            await client.rest.issues
              .update({ owner, repo, issue_number: number, title: plan.title, body: plan.body })
              .catch(explain(`update issue #${number}`));
          }
          await closeDuplicates(plan.duplicates);
          const operation = plan.duplicates.length > 0 ? 'updated' : plan.operation;
          return { operation, number, url };
        }
        case 'closed': {
          for (const issue of plan.issues) {
            await comment(issue.number, plan.comment);
            await close(issue.number, 'completed');
          }
          const [first] = plan.issues;
          return {
            operation: 'closed',
            ...(first ? { number: first.number, url: first.url } : {}),
          };
        }
      }
    },
  };
}

/** Finds the standing issue's open issues, plans, and applies the plan. */
export async function syncIssue(
  issues: IssueAdapter,
  input: Omit<PlanIssueInput, 'open'>,
): Promise<IssueResult> {
  const open = await issues.open(input.issue.labels);
  return issues.apply(planIssue({ ...input, open }));
}
