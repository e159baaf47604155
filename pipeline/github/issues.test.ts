import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GitHubError } from '../errors.ts';
import { gitCli, gitEnv } from '../git/testing/git-cli.ts';
import { createBareRepo } from '../git/testing/git-server.ts';
import { createGitHubClient } from './client.ts';
import {
  planIssue,
  repositoryIssues,
  syncIssue,
  type IssueAdapter,
  type StandingIssue,
} from './issues.ts';
import { startFakeGitHub, type FakeGitHub, type FakeIssue } from './testing/fake-github.ts';

let root: string;
let fake: FakeGitHub;
let issues: IssueAdapter;
const { git } = gitCli(() => gitEnv(root));

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'pinml-issues-'));
  const bare = await createBareRepo(root, 'acme');
  const work = path.join(root, 'work');
  await git(root, 'clone', '--quiet', bare, work);
  await git(work, 'commit', '--quiet', '--allow-empty', '-m', 'init');
  await git(work, 'push', '--quiet', 'origin', 'HEAD:main');
  await git(work, 'push', '--quiet', 'origin', 'HEAD:feature');
  fake = await startFakeGitHub({
    owner: 'acme',
    repo: 'models',
    bareRepoDir: bare,
    token: 't0k',
    scopedTokens: new Map([
      ['ghs_readOnly', { contents: 'read', issues: 'read' }],
      ['ghs_issues', { contents: 'read', issues: 'write' }],
    ]),
  });
  const client = createGitHubClient({ token: 't0k', baseUrl: fake.url, retries: 0 });
  issues = repositoryIssues(client, { owner: 'acme', repo: 'models' });
});

afterAll(async () => {
  await fake.close();
  await rm(root, { recursive: true, force: true });
});

beforeEach(() => {
  fake.issues.splice(0);
  fake.pulls.splice(0);
  fake.requests.splice(0);
});

/** A standing drift issue of a model, as the drift loop shapes it. */
const drift = (model: string): StandingIssue => ({
  labels: ['pinml', 'drift'],
  marker: `<!-- pinml:drift model=${model} -->`,
  title: `Drift detected in ${model}`,
});

const sync = (model: string, holds: boolean, report: string) =>
  syncIssue(issues, { issue: drift(model), holds, report, closing: `cleared: ${report}` });

/** The writes the fake answered (anything but a GET). */
const writes = (): string[] =>
  fake.requests.filter((r) => r.method !== 'GET').map((r) => `${r.method} ${r.path}`);

const openIssues = (): FakeIssue[] => fake.issues.filter((i) => i.state === 'open');

describe('a standing drift issue on the OpenAPI-checked fake', () => {
  it('is opened once on first drift, left alone for the same report, updated for a new one', async () => {
    const first = await sync('iris', true, '## Drift: 3 of 4 features\n');
    expect(first.operation).toBe('created');
    expect(first.url).toBe(`https://github.com/acme/models/issues/${String(first.number)}`);
    expect(fake.issues).toEqual([
      expect.objectContaining({
        state: 'open',
        title: 'Drift detected in iris',
        body: '<!-- pinml:drift model=iris -->\n## Drift: 3 of 4 features\n',
        labels: ['pinml', 'drift'],
      }),
    ]);

    fake.requests.splice(0);
    expect(await sync('iris', true, '## Drift: 3 of 4 features\n')).toEqual({
      ...first,
      operation: 'unchanged',
    });
    expect(writes()).toEqual([]);

    const next = await sync('iris', true, '## Drift: 4 of 4 features\n');
    expect(next).toEqual({ ...first, operation: 'updated' });
    expect(writes()).toEqual([`PATCH /repos/acme/models/issues/${String(first.number)}`]);
    await sync('iris', true, '## Drift: 4 of 4 features\n');
    expect(openIssues()).toHaveLength(1);
    expect(openIssues()[0]?.body).toBe(
      '<!-- pinml:drift model=iris -->\n## Drift: 4 of 4 features\n',
    );
    expect(fake.violations).toEqual([]);
  });

  it('is closed as completed with a comment when drift clears, and nothing is done while it stays clear', async () => {
    const opened = await sync('iris', true, '## Drift\n');
    const closed = await sync('iris', false, '## No drift: 0 of 4 features\n');
    expect(closed).toEqual({ ...opened, operation: 'closed' });
    expect(fake.issues[0]).toMatchObject({
      state: 'closed',
      state_reason: 'completed',
      comments: ['cleared: ## No drift: 0 of 4 features\n'],
    });
    fake.requests.splice(0);
    expect(await sync('iris', false, '## No drift\n')).toEqual({ operation: 'none' });
    expect(writes()).toEqual([]);
    // Drift coming back opens a new issue; the closed one stays closed.
    const again = await sync('iris', true, '## Drift again\n');
    expect(again.operation).toBe('created');
    expect(again.number).not.toBe(opened.number);
    expect(fake.issues[0]?.state).toBe('closed');
    expect(fake.violations).toEqual([]);
  });

  it('does nothing at all when there is no drift and no issue', async () => {
    expect(await sync('iris', false, '## No drift\n')).toEqual({ operation: 'none' });
    expect(writes()).toEqual([]);
    expect(fake.issues).toEqual([]);
  });

  it('never touches the issue of another model, nor a pull request that carries the labels and marker', async () => {
    const client = createGitHubClient({ token: 't0k', baseUrl: fake.url, retries: 0 });
    const pr = await client.rest.pulls.create({
      owner: 'acme',
      repo: 'models',
      head: 'feature',
      base: 'main',
      title: 'Tune iris',
      body: '<!-- pinml:drift model=iris -->\nquoted from the issue',
    });
    await client.rest.issues.addLabels({
      owner: 'acme',
      repo: 'models',
      issue_number: pr.data.number,
      labels: ['pinml', 'drift'],
    });
    const wine = await sync('wine', true, '## Wine drifts\n');
    // Issue and pull request numbers are one sequence, as on GitHub.
    expect(wine.number).toBe(pr.data.number + 1);

    fake.requests.splice(0);
    const iris = await sync('iris', true, '## Iris drifts\n');
    expect(iris).toMatchObject({ operation: 'created', number: pr.data.number + 2 });
    await sync('iris', false, '## Iris is fine\n');

    expect(fake.pulls[0]).toMatchObject({
      state: 'open',
      title: 'Tune iris',
      body: '<!-- pinml:drift model=iris -->\nquoted from the issue',
      comments: [],
    });
    expect(fake.issues.find((i) => i.number === wine.number)).toMatchObject({
      state: 'open',
      body: '<!-- pinml:drift model=wine -->\n## Wine drifts\n',
      comments: [],
    });
    const touched = writes().filter((w) => !w.endsWith('/issues'));
    expect(touched.length).toBeGreaterThan(0);
    expect(touched.every((w) => w.includes(`/issues/${String(iris.number)}`))).toBe(true);
    expect(fake.violations).toEqual([]);
  });

  /** An issue put straight into the fake's state (spares the client's one-second spacing of writes). */
  const seed = (number: number, model: string): FakeIssue => {
    const issue: FakeIssue = {
      number,
      state: 'open',
      state_reason: null,
      title: `Drift detected in ${model}`,
      body: `<!-- pinml:drift model=${model} -->\n## Drift\n`,
      labels: ['pinml', 'drift'],
      comments: [],
      commenters: [],
      html_url: `https://github.com/acme/models/issues/${number}`,
    };
    fake.issues.push(issue);
    return issue;
  };

  it('keeps the oldest of two open issues of a model and closes the other as its duplicate', async () => {
    const [older, racer] = [seed(10_001, 'iris'), seed(10_002, 'iris')];
    const kept = await sync('iris', true, '## Drift\n');
    expect(kept).toMatchObject({ operation: 'updated', number: older.number });
    expect(older).toMatchObject({ state: 'open', comments: [] });
    expect(racer).toMatchObject({
      state: 'closed',
      state_reason: 'not_planned',
      comments: ['Closed by pinml as a duplicate of #10001.\n'],
    });
    expect(await sync('iris', true, '## Drift\n')).toMatchObject({ operation: 'unchanged' });
    expect(fake.violations).toEqual([]);
  });

  it('finds its issue on a later page of the list', async () => {
    const own = seed(20_000, 'iris');
    for (let i = 1; i <= 120; i++) seed(20_000 + i, `m${i}`);
    const found = await sync('iris', true, '## Drift\n');
    expect(found).toEqual({ operation: 'unchanged', number: own.number, url: own.html_url });
    expect(fake.requests.filter((r) => r.operationId === 'issues/list-for-repo')).toHaveLength(2);
    expect(writes()).toEqual([]);
  });

  it('refuses a report over GitHub body limit before sending anything', async () => {
    await expect(sync('iris', true, 'x'.repeat(65_536))).rejects.toThrow(/65536/);
    expect(writes()).toEqual([]);
  });

  it('explains a refused token without showing it', async () => {
    const client = createGitHubClient({ token: 'wrong', baseUrl: fake.url, retries: 0 });
    const error = await syncIssue(repositoryIssues(client, { owner: 'acme', repo: 'models' }), {
      issue: drift('iris'),
      holds: true,
      report: 'r',
      closing: 'c',
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GitHubError);
    expect((error as GitHubError).message).toMatch(/list the issues.*HTTP 401.*missing or invalid/);
    expect((error as GitHubError).message).not.toContain('wrong');
  });
});

describe('the fake GitHub, for issues', () => {
  it('refuses an issue update GitHub would refuse, and a filter the list does not take', async () => {
    const before = fake.violations.length;
    const headers = { authorization: 'token t0k', 'content-type': 'application/json' };
    const patch = await fetch(`${fake.url}/repos/acme/models/issues/1`, {
      method: 'PATCH',
      headers,
      body: JSON.stringify({ state: 'done' }),
    });
    expect(patch.status).toBe(422);
    const list = await fetch(`${fake.url}/repos/acme/models/issues?label=drift`, { headers });
    expect(list.status).toBe(422);
    expect(fake.violations.slice(before).join('\n')).toMatch(
      /issues\/update.*state[\s\S]*"label" is not declared by issues\/list-for-repo/,
    );
  });
});

describe('planIssue', () => {
  const open = (number: number, body: string, labels = ['pinml', 'drift']) => ({
    number,
    title: 'Drift detected in iris',
    body,
    labels,
    url: `u${number}`,
  });

  it('counts an issue as its own only with every label and the marker on a line of its own', () => {
    const plan = (found: ReturnType<typeof open>) =>
      planIssue({
        issue: drift('iris'),
        holds: false,
        report: '',
        closing: 'c',
        open: [found],
      }).operation;
    expect(plan(open(1, 'x\r\n<!-- pinml:drift model=iris -->\r\ny'))).toBe('closed');
    expect(plan(open(1, '<!-- pinml:drift model=iris -->', ['drift']))).toBe('none');
    expect(plan(open(1, 'see <!-- pinml:drift model=iris --> there'))).toBe('none');
    expect(plan(open(1, '<!-- pinml:drift model=iris2 -->'))).toBe('none');
  });

  it('updates a title edited by hand back to the standing one', () => {
    const body = '<!-- pinml:drift model=iris -->\nr';
    expect(
      planIssue({
        issue: drift('iris'),
        holds: true,
        report: 'r',
        closing: 'c',
        open: [{ ...open(4, body), title: 'iris is weird' }],
      }),
    ).toMatchObject({ operation: 'updated', number: 4, title: 'Drift detected in iris' });
  });
});

describe("a workflow job's token", () => {
  const adapter = (token: string): IssueAdapter =>
    repositoryIssues(createGitHubClient({ token, baseUrl: fake.url, retries: 0 }), {
      owner: 'acme',
      repo: 'models',
    });

  it('is refused, as GitHub refuses it, an issue its permissions do not grant', async () => {
    const refused = syncIssue(adapter('ghs_readOnly'), {
      issue: drift('iris'),
      holds: true,
      report: 'r',
      closing: 'c',
    });
    await expect(refused).rejects.toThrow(GitHubError);
    await expect(refused).rejects.toThrow(/issues: write/);
    expect(fake.requests.at(-1)).toMatchObject({ method: 'POST', status: 403 });
    expect(fake.issues).toEqual([]);
  });

  it('opens it with issues: write and nothing more', async () => {
    const result = await syncIssue(adapter('ghs_issues'), {
      issue: drift('iris'),
      holds: true,
      report: 'r',
      closing: 'c',
    });
    expect(result.operation).toBe('created');
    expect(fake.issues).toHaveLength(1);
  });
});
