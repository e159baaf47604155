/**
 * The issue operations of the fake GitHub, as GitHub behaves: issues and pull requests share
 * one sequence of numbers; listing a repository's issues lists its pull requests too, each
 * with a `pull_request` key; `labels=a,b` keeps the items that carry every label named; the
 * list is newest first unless `direction=asc`, in pages with a `Link` header; the issue
 * endpoints (get, update, labels, comments) take a pull request's number too. Labels belong to
 * the repository: a fresh one has GitHub's defaults ({@link DEFAULT_LABELS}), and naming a label
 * it lacks on an issue or a pull request creates it — which needs `issues: write`
 * ({@link labelsCreated}; the caller's token is checked in `fake-github.ts`).
 *
 * Test helper only.
 */
/** A pull request, as the fake keeps it (its issue side too: labels, comments). */
export interface FakePull {
  number: number;
  state: 'open' | 'closed';
  title: string;
  body: string | null;
  /**
   * `repo` is the head repository's full name: another one for a pull request from a fork,
   * whose commits the base repository keeps under `refs/pull/<number>/head` (as GitHub does).
   */
  head: { ref: string; sha: string; label: string; repo: string };
  base: { ref: string; sha: string };
  labels: string[];
  comments: string[];
  /** Who wrote each comment (parallel to `comments`). */
  commenters: Commenter[];
  merged: boolean;
  merge_commit_sha: string | null;
  html_url: string;
  /** Auto-merge requested (GraphQL `enablePullRequestAutoMerge`): GitHub merges it once it may. */
  auto_merge?: { merge_method: string; enabled_at: string } | null;
}

export interface FakeIssue {
  number: number;
  state: 'open' | 'closed';
  state_reason: 'completed' | 'not_planned' | 'duplicate' | 'reopened' | null;
  title: string;
  body: string | null;
  labels: string[];
  comments: string[];
  commenters: Commenter[];
  html_url: string;
}

/** A comment's author as GitHub shows it: a job's token and an App write as a `Bot`. */
export interface Commenter {
  login: string;
  type: 'User' | 'Bot';
}

/** The labels GitHub gives a new repository. */
export const DEFAULT_LABELS: readonly string[] = [
  'bug',
  'documentation',
  'duplicate',
  'enhancement',
  'good first issue',
  'help wanted',
  'invalid',
  'question',
  'wontfix',
];

/** What the issue operations share with the rest of the fake. */
export interface IssueState {
  owner: string;
  repo: string;
  /** The repository's labels. */
  labels: Set<string>;
  pulls: FakePull[];
  issues: FakeIssue[];
  /** The next issue or pull request number. */
  nextNumber(): number;
  /** The fake's base URL, for `url` fields and `Link` headers. */
  url(): string;
}

/** A reply: status, body, and extra headers (`Link`). */
export type Reply = [number, unknown, Record<string, string>?];

const NOT_FOUND: Reply = [404, { message: 'Not Found' }];

const labelNames = (value: unknown): string[] =>
  (Array.isArray(value) ? value : []).map((l) =>
    typeof l === 'string' ? l : String((l as { name?: unknown }).name),
  );

/** The operations that set an item's labels by name. */
const LABELLING = new Set([
  'issues/create',
  'issues/update',
  'issues/add-labels',
  'issues/set-labels',
]);

/** The labels an operation would create: named in its body, missing from the repository. */
export function labelsCreated(
  labels: ReadonlySet<string>,
  operationId: string,
  body: Record<string, unknown>,
): string[] {
  if (!LABELLING.has(operationId)) return [];
  return [...new Set(labelNames(body.labels))].filter((name) => !labels.has(name));
}

/** The issue operations; undefined for an operation that is not one of them. */
export function handleIssues(
  s: IssueState,
  operationId: string,
  params: Record<string, string>,
  query: URLSearchParams,
  body: Record<string, unknown>,
  caller: Commenter,
): Reply | undefined {
  const base = `${s.url()}/repos/${s.owner}/${s.repo}`;
  // Labels named on an item: the repository gains the ones it lacks.
  const adopt = (value: unknown): string[] => {
    const names = [...new Set(labelNames(value))];
    for (const name of names) s.labels.add(name);
    return names;
  };
  const commentJson = (item: FakeIssue | FakePull, i: number): Record<string, unknown> => ({
    id: item.number * 1000 + i + 1,
    body: item.comments[i],
    user: item.commenters[i] ?? { login: 'ada', type: 'User' },
    html_url: `${item.html_url}#issuecomment-${item.number * 1000 + i + 1}`,
  });
  const issueJson = (item: FakeIssue | FakePull): Record<string, unknown> => {
    const isPull = 'head' in item;
    return {
      id: item.number,
      number: item.number,
      title: item.title,
      body: item.body,
      state: item.state,
      state_reason: isPull ? null : item.state_reason,
      labels: item.labels.map((name, i) => ({ id: i + 1, name })),
      comments: item.comments.length,
      html_url: item.html_url,
      url: `${base}/issues/${item.number}`,
      ...(isPull
        ? { pull_request: { url: `${base}/pulls/${item.number}`, html_url: item.html_url } }
        : {}),
    };
  };
  const find = (): FakeIssue | FakePull | undefined => {
    const n = Number(params.issue_number);
    return s.issues.find((i) => i.number === n) ?? s.pulls.find((p) => p.number === n);
  };
  switch (operationId) {
    case 'issues/list-for-repo': {
      const state = query.get('state') ?? 'open';
      const wanted = (query.get('labels') ?? '').split(',').filter((l) => l !== '');
      const all = [...s.issues, ...s.pulls]
        .filter((i) => state === 'all' || i.state === state)
        .filter((i) => wanted.every((l) => i.labels.includes(l)))
        .sort((a, b) =>
          query.get('direction') === 'asc' ? a.number - b.number : b.number - a.number,
        );
      const perPage = Number(query.get('per_page') ?? 30);
      const page = Number(query.get('page') ?? 1);
      const items = all.slice((page - 1) * perPage, page * perPage);
      const headers: Record<string, string> = {};
      if (page * perPage < all.length) {
        const next = new URLSearchParams(query);
        next.set('page', String(page + 1));
        headers.link = `<${base}/issues?${next.toString()}>; rel="next"`;
      }
      return [200, items.map(issueJson), headers];
    }
    case 'issues/create': {
      const number = s.nextNumber();
      const issue: FakeIssue = {
        number,
        state: 'open',
        state_reason: null,
        title: String(body.title),
        body: typeof body.body === 'string' ? body.body : null,
        labels: adopt(body.labels),
        comments: [],
        commenters: [],
        html_url: `https://github.com/${s.owner}/${s.repo}/issues/${number}`,
      };
      s.issues.push(issue);
      return [201, issueJson(issue)];
    }
    case 'issues/get': {
      const item = find();
      return item ? [200, issueJson(item)] : NOT_FOUND;
    }
    case 'issues/update': {
      const item = find();
      if (!item) return NOT_FOUND;
      if (typeof body.title === 'string') item.title = body.title;
      if (typeof body.body === 'string') item.body = body.body;
      if (Array.isArray(body.labels)) item.labels = adopt(body.labels);
      if ((body.state === 'open' || body.state === 'closed') && body.state !== item.state) {
        item.state = body.state;
        if (!('head' in item)) {
          // GitHub: the reason is ignored unless the state changes; closing defaults to completed.
          const reason = body.state_reason as FakeIssue['state_reason'] | undefined;
          item.state_reason =
            body.state === 'open' ? 'reopened' : reason === undefined ? 'completed' : reason;
        }
      }
      return [200, issueJson(item)];
    }
    case 'issues/add-labels': {
      const item = find();
      if (!item) return NOT_FOUND;
      for (const name of adopt(body.labels)) {
        if (!item.labels.includes(name)) item.labels.push(name);
      }
      return [200, item.labels.map((name, i) => ({ id: i + 1, name }))];
    }
    case 'issues/list-comments': {
      const item = find();
      if (!item) return NOT_FOUND;
      return [200, item.comments.map((_, i) => commentJson(item, i))];
    }
    case 'issues/create-comment': {
      const item = find();
      if (!item) return NOT_FOUND;
      item.comments.push(String(body.body));
      item.commenters.push(caller);
      return [201, commentJson(item, item.comments.length - 1)];
    }
    case 'issues/update-comment': {
      // Comment ids are the item's number × 1000 + the comment's position (from 1).
      const id = Number(params.comment_id);
      const item = [...s.pulls, ...s.issues].find((x) => x.number === Math.floor(id / 1000));
      const index = (id % 1000) - 1;
      if (!item || index < 0 || index >= item.comments.length) return NOT_FOUND;
      item.comments[index] = String(body.body);
      return [200, commentJson(item, index)];
    }
    default:
      return undefined;
  }
}
