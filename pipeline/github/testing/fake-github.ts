/**
 * A loopback fake of the slice of GitHub's REST API pinml uses (pull requests, issues, labels,
 * comments), for tests. Every request is checked against GitHub's published OpenAPI
 * description (the operations extracted into `github-operations.json`): an unknown method or
 * path, an undeclared or ill-typed parameter, or a body that does not match the operation's
 * schema is answered 422 and recorded in `violations`, so a test can assert there were none.
 * It keeps pull-request and issue state (the issue side is `fake-issues.ts`), and its merge
 * endpoint really merges into the bare repository the git server serves.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { GitRepo } from '../../git/repo.ts';
import { handleGitDatabase } from './fake-git-database.ts';
import { handleGraphql, pullNodeId } from './fake-graphql.ts';
import {
  DEFAULT_LABELS,
  handleIssues,
  labelsCreated,
  type FakeIssue,
  type FakePull,
  type Reply,
  type Commenter,
} from './fake-issues.ts';

export type { FakeIssue, FakePull } from './fake-issues.ts';

interface Operation {
  operationId: string;
  method: string;
  path: string;
  parameters: { name: string; in: string; required: boolean; schema: unknown }[];
  requestBody: { required: boolean; schema: unknown } | null;
}

const fixture = JSON.parse(
  readFileSync(new URL('github-operations.json', import.meta.url), 'utf8'),
) as { operations: Operation[] };

// ajv-formats is CommonJS; its default export arrives wrapped under Node's ESM loader.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ??
  addFormatsModule) as (ajv: Ajv) => Ajv;
const ajv = addFormats(new Ajv({ strict: false, allErrors: true, coerceTypes: false }));
// GitHub's own format: "owner/name".
ajv.addFormat('repo.nwo', /^[\w.-]+\/[\w.-]+$/);

/**
 * OpenAPI 3.0's `nullable: true` as JSON Schema: Ajv reads it only beside a `type`, and GitHub
 * also writes it beside `oneOf` (an issue's `title`, `milestone`), where it means "or null".
 */
function nullableToJsonSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(nullableToJsonSchema);
  if (schema === null || typeof schema !== 'object') return schema;
  const out = Object.fromEntries(
    Object.entries(schema).map(([k, v]) => [k, nullableToJsonSchema(v)]),
  );
  if (out.nullable !== true || 'type' in out) return out;
  const { nullable: _, ...rest } = out;
  return { anyOf: [rest, { type: 'null' }] };
}

const compile = (schema: unknown): ValidateFunction =>
  ajv.compile(nullableToJsonSchema(schema) as object);

interface CompiledOperation extends Operation {
  pattern: RegExp;
  names: string[];
  body?: ValidateFunction;
  params: Map<string, { in: string; required: boolean; validate: ValidateFunction }>;
}

const compiled: CompiledOperation[] = fixture.operations.map((op) => {
  const names: string[] = [];
  const source = op.path.replace(/\{(\w+)\}/g, (_, name: string) => {
    names.push(name);
    // A git ref (`heads/main`) keeps its slashes, encoded or not.
    return name === 'ref' ? '(.+)' : '([^/]+)';
  });
  const params = new Map<string, { in: string; required: boolean; validate: ValidateFunction }>();
  for (const p of op.parameters) {
    params.set(`${p.in}:${p.name}`, {
      in: p.in,
      required: p.required,
      validate: compile(p.schema),
    });
  }
  return {
    ...op,
    pattern: new RegExp(`^${source}$`),
    names,
    params,
    ...(op.requestBody ? { body: compile(op.requestBody.schema) } : {}),
  };
});

export interface FakeGitHubOptions {
  owner: string;
  repo: string;
  /** The bare repository behind the git server: head branches are read and merges written here. */
  bareRepoDir: string;
  defaultBranch?: string;
  /** When set, requests must carry it as `Authorization: token …` or `Bearer …`. */
  token?: string;
  /**
   * Tokens besides `token` (which may do everything), each with a workflow job's permissions
   * (`{ contents: 'read', issues: 'write' }`); added while it runs. As GitHub does, an
   * operation outside them is answered 403 "Resource not accessible by integration".
   */
  scopedTokens?: Map<string, TokenPermissions>;
  /** Scoped tokens that are a GitHub App's installation tokens, not Actions' `GITHUB_TOKEN`. */
  appTokens?: Set<string>;
  /**
   * The repository setting "Allow GitHub Actions to create and approve pull requests"
   * (Settings → Actions → General → Workflow permissions). Off by default, as on a new
   * repository: a scoped (`GITHUB_TOKEN`) token then cannot open or approve a pull request.
   */
  actionsCanCreatePullRequests?: boolean;
}

/** A `GITHUB_TOKEN`'s permissions, as a workflow's `permissions:` grants them. */
export type TokenPermissions = Partial<Record<string, 'read' | 'write' | 'none'>>;

const LEVEL = { none: 0, read: 1, write: 2 } as const;

/**
 * The permission an operation needs, by its tag in GitHub's description: `issues/*` issues,
 * `pulls/*` pull-requests, `repos/*` and `git/*` contents; reads need `read`, the rest `write`.
 * (Labels and comments of a pull request, through the issues API, also accept pull-requests.)
 */
export function neededPermission(
  operationId: string,
  method: string,
): { scope: string; level: 'read' | 'write' } {
  const tag = operationId.split('/')[0] ?? '';
  const scope =
    tag === 'issues'
      ? 'issues'
      : tag === 'pulls'
        ? 'pull-requests'
        : tag === 'actions'
          ? 'actions'
          : 'contents';
  return { scope, level: method === 'GET' || method === 'HEAD' ? 'read' : 'write' };
}

/** A release as the fake keeps it. */
export interface FakeRelease {
  id: number;
  tag_name: string;
  name: string;
  prerelease: boolean;
  make_latest: string;
  body: string;
  html_url: string;
}

/** An event an API call caused. */
export type FakeEvent =
  | {
      name: 'pull_request';
      action: 'opened';
      number: number;
      base: string;
      head: string;
      by: string;
      at: number;
    }
  | { name: 'push'; ref: string; before: string; after: string; by: string; at: number }
  | { name: 'workflow_dispatch'; workflow: string; ref: string; by: string; at: number }
  | { name: 'repository_dispatch'; type: string; by: string; at: number };

/** Whether an operation opens a pull request or approves one (what the Actions setting governs). */
function opensOrApproves(operationId: string, body: unknown): boolean {
  if (operationId === 'pulls/create') return true;
  const event = (body as { event?: unknown } | undefined)?.event;
  return (
    (operationId === 'pulls/create-review' || operationId === 'pulls/submit-review') &&
    event === 'APPROVE'
  );
}

export interface FakeGitHub {
  /** Base URL to use as GITHUB_API_URL. */
  url: string;
  pulls: FakePull[];
  /** Issues that are not pull requests (a pull request's comments and labels stay on it). */
  issues: FakeIssue[];
  /** The repository's labels (GitHub's defaults, and every label created since). */
  labels: Set<string>;
  requests: {
    method: string;
    path: string;
    status: number;
    operationId?: string;
    body?: unknown;
  }[];
  /** Requests that do not match GitHub's description; a correct client leaves this empty. */
  violations: string[];
  /**
   * The events the API calls caused, as GitHub would deliver them to workflows: a pull request
   * opened, a merge's push to the base branch. `by` is the token the call carried (GitHub starts
   * no workflow from an event its Actions token caused: `actions/testing/events.ts`).
   */
  events: FakeEvent[];
  /** The releases created. */
  releases: FakeRelease[];
  /** Repository settings a test may change while the fake runs. */
  settings: { actionsCanCreatePullRequests: boolean; allowAutoMerge: boolean };
  /**
   * Opens a pull request from a fork, as its author does on github.com (not through this API,
   * whose token the fork's author does not have). Its head commit must then be put under
   * `refs/pull/<number>/head` of the bare repository, where GitHub keeps a fork's commits.
   */
  openForkPull(input: {
    fork: string;
    branch: string;
    sha: string;
    base?: string;
    title: string;
    body?: string;
  }): Promise<FakePull>;
  close(): Promise<void>;
}

/** Converts a query-string value to what its schema expects (GitHub takes integers and booleans there). */
function coerce(value: string, schema: { type?: unknown }): unknown {
  if (schema.type === 'integer' || schema.type === 'number')
    return /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
  if (schema.type === 'boolean') return value === 'true' ? true : value === 'false' ? false : value;
  return value;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(text);
}

/** Starts the fake on 127.0.0.1 (a free port). */
export async function startFakeGitHub(options: FakeGitHubOptions): Promise<FakeGitHub> {
  const { owner, repo } = options;
  const defaultBranch = options.defaultBranch ?? 'main';
  const git = GitRepo.open(options.bareRepoDir, { bare: true });
  const pulls: FakePull[] = [];
  const issues: FakeIssue[] = [];
  const labels = new Set(DEFAULT_LABELS);
  const requests: FakeGitHub['requests'] = [];
  const violations: string[] = [];
  const events: FakeEvent[] = [];
  const releases: FakeRelease[] = [];
  const settings = {
    actionsCanCreatePullRequests: options.actionsCanCreatePullRequests ?? false,
    // "Allow auto-merge" (Settings → General): off on a new repository.
    allowAutoMerge: false,
  };
  let nextNumber = 1;
  let url = '';

  const tip = (branch: string): Promise<string> => git.resolve(`refs/heads/${branch}`);
  /** A new open pull request with the next number. */
  const openPull = (spec: Pick<FakePull, 'title' | 'body' | 'head' | 'base'>): FakePull => {
    const number = nextNumber++;
    const created: FakePull = {
      number,
      state: 'open',
      ...spec,
      labels: [],
      comments: [],
      commenters: [],
      merged: false,
      merge_commit_sha: null,
      html_url: `https://github.com/${owner}/${repo}/pull/${number}`,
    };
    pulls.push(created);
    return created;
  };
  const fromFork = (p: FakePull): boolean => p.head.repo !== `${owner}/${repo}`;
  /** A pull request's head commit: its branch, or for a fork's the `refs/pull/<n>/head` GitHub keeps. */
  const headTip = (p: FakePull): Promise<string> =>
    fromFork(p) ? git.resolve(`refs/pull/${p.number}/head`) : tip(p.head.ref);

  const validate = (
    method: string,
    path: string,
    query: URLSearchParams,
    contentType: string | undefined,
    text: string,
  ): {
    op?: CompiledOperation;
    params: Record<string, string>;
    body: unknown;
    errors: string[];
  } => {
    const errors: string[] = [];
    const op = compiled.find((o) => o.method === method && o.pattern.test(path));
    if (!op)
      return {
        params: {},
        body: undefined,
        errors: [`${method} ${path} is not an operation pinml's fixture knows`],
      };
    const match = op.pattern.exec(path) as RegExpExecArray;
    const params: Record<string, string> = {};
    op.names.forEach((name, i) => {
      const value = decodeURIComponent(match[i + 1] ?? '');
      params[name] = value;
      const p = op.params.get(`path:${name}`);
      const schema = (op.parameters.find((x) => x.name === name)?.schema ?? {}) as {
        type?: unknown;
      };
      if (p && !p.validate(coerce(value, schema)))
        errors.push(`path parameter ${name}=${value}: ${ajv.errorsText(p.validate.errors)}`);
    });
    for (const [name, value] of query) {
      const p = op.params.get(`query:${name}`);
      if (!p) {
        errors.push(`query parameter "${name}" is not declared by ${op.operationId}`);
        continue;
      }
      const schema = (op.parameters.find((x) => x.name === name && x.in === 'query')?.schema ??
        {}) as { type?: unknown };
      if (!p.validate(coerce(value, schema)))
        errors.push(`query parameter ${name}=${value}: ${ajv.errorsText(p.validate.errors)}`);
    }
    for (const p of op.parameters) {
      if (p.required && p.in === 'query' && !query.has(p.name))
        errors.push(`missing required query parameter ${p.name}`);
    }
    let body: unknown;
    if (text.length > 0) {
      if (!op.requestBody) errors.push(`${op.operationId} takes no request body`);
      else if (!/^application\/json\b/.test(contentType ?? ''))
        errors.push(`content-type ${contentType ?? '(none)'} is not application/json`);
      else {
        try {
          body = JSON.parse(text);
        } catch {
          errors.push('the body is not valid JSON');
        }
        if (body !== undefined && op.body && !op.body(body)) {
          errors.push(
            `body does not match ${op.operationId}'s schema: ${ajv.errorsText(op.body.errors)}`,
          );
        }
      }
    } else if (op.requestBody?.required) {
      errors.push(`${op.operationId} requires a body`);
    }
    return { op, params, body, errors };
  };

  const repoJson = (fullName: string): Record<string, unknown> => ({
    full_name: fullName,
    name: fullName.split('/')[1],
    owner: { login: fullName.split('/')[0] },
    fork: fullName !== `${owner}/${repo}`,
  });
  const pullJson = (p: FakePull): Record<string, unknown> => ({
    ...p,
    commenters: undefined,
    head: { ...p.head, repo: repoJson(p.head.repo) },
    base: { ...p.base, repo: repoJson(`${owner}/${repo}`) },
    id: p.number,
    node_id: pullNodeId(p.number),
    auto_merge: p.auto_merge ?? null,
    labels: p.labels.map((name, i) => ({ id: i + 1, name })),
    url: `${url}/repos/${owner}/${repo}/pulls/${p.number}`,
  });

  const handle = async (
    op: CompiledOperation,
    params: Record<string, string>,
    query: URLSearchParams,
    body: Record<string, unknown>,
    caller: Commenter,
  ): Promise<Reply> => {
    if (params.owner !== owner || params.repo !== repo) return [404, { message: 'Not Found' }];
    const issueReply = handleIssues(
      { owner, repo, labels, pulls, issues, nextNumber: () => nextNumber++, url: () => url },
      op.operationId,
      params,
      query,
      body,
      caller,
    );
    if (issueReply !== undefined) return issueReply;
    const gitReply = await handleGitDatabase(
      { bare: options.bareRepoDir, apiUrl: url, owner, repo },
      op.operationId,
      params,
      body,
      caller,
    );
    if (gitReply !== undefined) return gitReply;
    const pull = (): FakePull | undefined =>
      pulls.find((p) => p.number === Number(params.pull_number));
    switch (op.operationId) {
      case 'repos/get':
        return [
          200,
          {
            id: 1,
            name: repo,
            full_name: `${owner}/${repo}`,
            owner: { login: owner },
            default_branch: defaultBranch,
            private: false,
          },
        ];
      case 'pulls/list': {
        const state = query.get('state') ?? 'open';
        const head = query.get('head');
        const base = query.get('base');
        const found = pulls.filter(
          (p) =>
            (state === 'all' || p.state === state) &&
            (head === null || p.head.label === head) &&
            (base === null || p.base.ref === base),
        );
        return [200, found.map(pullJson)];
      }
      case 'pulls/create': {
        const head = String(body.head);
        const headRef = head.includes(':') ? (head.split(':')[1] ?? head) : head;
        const baseRef = String(body.base);
        let headSha: string;
        let baseSha: string;
        try {
          [headSha, baseSha] = [await tip(headRef), await tip(baseRef)];
        } catch {
          return [
            422,
            {
              message: 'Validation Failed',
              errors: [{ resource: 'PullRequest', field: 'head', code: 'invalid' }],
            },
          ];
        }
        const label = `${owner}:${headRef}`;
        if (
          pulls.some((p) => p.state === 'open' && p.head.label === label && p.base.ref === baseRef)
        ) {
          return [
            422,
            {
              message: 'Validation Failed',
              errors: [
                {
                  resource: 'PullRequest',
                  code: 'custom',
                  message: `A pull request already exists for ${label}.`,
                },
              ],
            },
          ];
        }
        const created = openPull({
          title: String(body.title),
          body: typeof body.body === 'string' ? body.body : null,
          head: { ref: headRef, sha: headSha, label, repo: `${owner}/${repo}` },
          base: { ref: baseRef, sha: baseSha },
        });
        return [201, pullJson(created)];
      }
      case 'pulls/get': {
        const p = pull();
        if (!p) return [404, { message: 'Not Found' }];
        if (p.state === 'open') p.head.sha = await headTip(p).catch(() => p.head.sha);
        return [200, pullJson(p)];
      }
      case 'pulls/update': {
        const p = pull();
        if (!p) return [404, { message: 'Not Found' }];
        if (typeof body.title === 'string') p.title = body.title;
        if (typeof body.body === 'string') p.body = body.body;
        if (body.state === 'open' || body.state === 'closed') p.state = body.state;
        p.head.sha = await headTip(p).catch(() => p.head.sha);
        return [200, pullJson(p)];
      }
      case 'pulls/merge': {
        const p = pull();
        if (!p) return [404, { message: 'Not Found' }];
        if (p.state !== 'open') return [405, { message: 'Pull Request is not mergeable' }];
        const headSha = await headTip(p);
        if (typeof body.sha === 'string' && body.sha !== headSha) {
          return [409, { message: 'Head branch was modified. Review and try the merge again.' }];
        }
        const baseSha = await tip(p.base.ref);
        const method = typeof body.merge_method === 'string' ? body.merge_method : 'merge';
        let oid: string;
        try {
          const merged = await git.mergeCommit({
            ours: baseSha,
            theirs: headSha,
            message: 'probe',
          });
          const mergedTree = merged.upToDate ? baseSha : merged.oid;
          const changes = await git.changedPaths(baseSha, mergedTree);
          const files = await Promise.all(
            changes.map(async (path) => ({
              path,
              content: (await git.readFile(mergedTree, path)) ?? null,
            })),
          );
          const title = typeof body.commit_title === 'string' ? body.commit_title : undefined;
          if (method === 'squash') {
            oid = await git.writeCommit({
              parent: baseSha,
              changes: files,
              message: `${title ?? `${p.title} (#${p.number})`}\n`,
            });
          } else {
            oid = await git.writeCommit({
              parent: baseSha,
              parents: [baseSha, headSha],
              changes: files,
              message: `${title ?? `Merge pull request #${p.number} from ${owner}/${p.head.ref}`}\n\n${p.title}\n`,
            });
          }
        } catch {
          return [405, { message: 'Pull Request is not mergeable' }];
        }
        await git.updateBranch(p.base.ref, oid, { expected: baseSha });
        Object.assign(p, { state: 'closed', merged: true, merge_commit_sha: oid });
        return [200, { sha: oid, merged: true, message: 'Pull Request successfully merged' }];
      }
      case 'repos/create-release': {
        const tag = String(body.tag_name);
        if (releases.some((r) => r.tag_name === tag))
          return [
            422,
            {
              message: 'Validation Failed',
              errors: [{ resource: 'Release', code: 'already_exists', field: 'tag_name' }],
            },
          ];
        const release = {
          id: releases.length + 1,
          tag_name: tag,
          name: typeof body.name === 'string' ? body.name : tag,
          prerelease: body.prerelease === true,
          make_latest: typeof body.make_latest === 'string' ? body.make_latest : 'true',
          // GitHub writes the notes from the pull requests merged since the previous release.
          body:
            body.generate_release_notes === true
              ? `## What's Changed\n\n**Full Changelog**: https://github.com/${owner}/${repo}/commits/${tag}\n`
              : typeof body.body === 'string'
                ? body.body
                : '',
          html_url: `https://github.com/${owner}/${repo}/releases/tag/${tag}`,
        };
        releases.push(release);
        return [201, release];
      }
      case 'actions/create-workflow-dispatch':
      case 'repos/create-dispatch-event':
        // Recorded as the events they are (the server below adds who sent them).
        return [204, undefined];
      default:
        return [501, { message: `${op.operationId} is described but not faked` }];
    }
  };

  const server = createServer((req, res) => {
    void (async () => {
      const parsed = new URL(req.url ?? '/', 'http://fake');
      const method = req.method ?? 'GET';
      const text = await readBody(req);
      let scoped: TokenPermissions | undefined;
      const given = (req.headers.authorization ?? '').replace(/^(token|Bearer) /, '');
      if (options.token !== undefined) {
        scoped = options.scopedTokens?.get(given);
        if (given !== options.token && scoped === undefined) {
          requests.push({ method, path: parsed.pathname, status: 401 });
          send(res, 401, { message: 'Bad credentials' });
          return;
        }
      }
      if (method === 'POST' && parsed.pathname === '/graphql') {
        // GitHub's GraphQL needs the same token; a job's token needs pull-requests: write to
        // change a pull request.
        if (scoped !== undefined && LEVEL[scoped['pull-requests'] ?? 'none'] < LEVEL.write) {
          requests.push({ method, path: parsed.pathname, status: 200, operationId: 'graphql' });
          send(res, 200, {
            errors: [{ type: 'FORBIDDEN', message: 'Resource not accessible by integration' }],
          });
          return;
        }
        const reply = handleGraphql({ pulls, settings }, text);
        violations.push(...reply.violations.map((v) => `POST /graphql: ${v}`));
        requests.push({
          method,
          path: parsed.pathname,
          status: reply.status,
          operationId: 'graphql',
        });
        send(res, reply.status, reply.body);
        return;
      }
      const { op, params, body, errors } = validate(
        method,
        parsed.pathname,
        parsed.searchParams,
        req.headers['content-type'],
        text,
      );
      if (!op || errors.length > 0) {
        violations.push(...errors.map((e) => `${method} ${parsed.pathname}${parsed.search}: ${e}`));
        requests.push({
          method,
          path: parsed.pathname,
          status: 422,
          ...(op ? { operationId: op.operationId } : {}),
        });
        send(res, 422, {
          message:
            'Validation Failed (fake GitHub: request does not match the OpenAPI description)',
          errors,
        });
        return;
      }
      if (scoped !== undefined) {
        const need = neededPermission(op.operationId, method);
        // A comment's item: named, or (an edit) read from its id (number × 1000 + position).
        const number =
          params.comment_id !== undefined
            ? Math.floor(Number(params.comment_id) / 1000)
            : Number(params.issue_number);
        const alsoPulls =
          need.scope === 'issues' && pulls.some((p) => p.number === number)
            ? LEVEL[scoped['pull-requests'] ?? 'none']
            : 0;
        // Naming a label the repository lacks creates it, and creating a label needs
        // `issues: write` whatever the item is (pull-requests: write does not do).
        const creates =
          labelsCreated(labels, op.operationId, (body ?? {}) as Record<string, unknown>).length > 0;
        const granted = creates
          ? LEVEL[scoped.issues ?? 'none']
          : Math.max(LEVEL[scoped[need.scope] ?? 'none'], alsoPulls);
        const forbid = (message: string, documentation_url: string): void => {
          requests.push({
            method,
            path: parsed.pathname,
            status: 403,
            operationId: op.operationId,
          });
          send(res, 403, { message, documentation_url });
        };
        if (granted < LEVEL[creates ? 'write' : need.level]) {
          forbid(
            'Resource not accessible by integration',
            `https://docs.github.com/rest (needs ${creates ? 'issues: write, to create a label' : `${need.scope}: ${need.level}`})`,
          );
          return;
        }
        const actions = !(options.appTokens?.has(given) ?? false);
        if (
          actions &&
          !settings.actionsCanCreatePullRequests &&
          opensOrApproves(op.operationId, body)
        ) {
          forbid(
            'GitHub Actions is not permitted to create or approve pull requests.',
            'https://docs.github.com/rest/pulls/pulls#create-a-pull-request',
          );
          return;
        }
      }
      const merging =
        op.operationId === 'pulls/merge'
          ? pulls.find((p) => p.number === Number(params.pull_number))
          : undefined;
      const mergeBase = merging ? await tip(merging.base.ref).catch(() => undefined) : undefined;
      // Who the comment and the like are by: a job's or an App's token writes as a bot.
      const caller: Commenter = options.appTokens?.has(given)
        ? { login: 'pinml-test-app[bot]', type: 'Bot' }
        : scoped !== undefined
          ? { login: 'github-actions[bot]', type: 'Bot' }
          : { login: 'ada', type: 'User' };
      const [status, out, headers] = await handle(
        op,
        params,
        parsed.searchParams,
        (body ?? {}) as Record<string, unknown>,
        caller,
      );
      requests.push({ method, path: parsed.pathname, status, operationId: op.operationId, body });
      const made = out as { number?: number; sha?: string };
      if (op.operationId === 'pulls/create' && status === 201) {
        const p = pulls.find((x) => x.number === made.number);
        if (p)
          events.push({
            name: 'pull_request',
            action: 'opened',
            number: p.number,
            base: p.base.ref,
            head: p.head.ref,
            by: given,
            at: Date.now(),
          });
      }
      if (op.operationId === 'actions/create-workflow-dispatch' && status === 204) {
        const dispatched = (body ?? {}) as { ref?: string };
        const named = String(dispatched.ref ?? defaultBranch);
        events.push({
          name: 'workflow_dispatch',
          workflow: String(params.workflow_id),
          ref: named.startsWith('refs/') ? named : `refs/heads/${named}`,
          by: given,
          at: Date.now(),
        });
      }
      if (op.operationId === 'repos/create-dispatch-event' && status === 204) {
        const type = String((body as { event_type?: string } | undefined)?.event_type ?? '');
        events.push({ name: 'repository_dispatch', type, by: given, at: Date.now() });
      }
      if (op.operationId === 'git/update-ref' && status === 200) {
        const moved = out as { ref: string; previous: string; object: { sha: string } };
        events.push({
          name: 'push',
          ref: moved.ref,
          before: moved.previous,
          after: moved.object.sha,
          by: given,
          at: Date.now(),
        });
      }
      if (merging && status === 200 && mergeBase !== undefined && made.sha !== undefined)
        events.push({
          name: 'push',
          ref: `refs/heads/${merging.base.ref}`,
          before: mergeBase,
          after: made.sha,
          by: given,
          at: Date.now(),
        });
      send(res, status, out, headers);
    })().catch((e: unknown) => {
      violations.push(`fake failed: ${String(e)}`);
      send(res, 500, { message: String(e) });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    pulls,
    issues,
    labels,
    requests,
    violations,
    events,
    releases,
    settings,
    async openForkPull(input) {
      const base = input.base ?? defaultBranch;
      const created = openPull({
        title: input.title,
        body: input.body ?? null,
        head: {
          ref: input.branch,
          sha: input.sha,
          label: `${input.fork.split('/')[0] ?? ''}:${input.branch}`,
          repo: input.fork,
        },
        base: { ref: base, sha: await tip(base) },
      });
      const { number } = created;
      events.push({
        name: 'pull_request',
        action: 'opened',
        number,
        base,
        head: input.branch,
        by: `fork:${input.fork}`,
        at: Date.now(),
      });
      return created;
    },
    close: () =>
      new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve()))),
  };
}
