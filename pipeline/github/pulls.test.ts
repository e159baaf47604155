import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GitHubError } from '../errors.ts';
import { gitCli, gitEnv } from '../git/testing/git-cli.ts';
import { createBareRepo } from '../git/testing/git-server.ts';
import { createGitHubClient } from './client.ts';
import { requestAutoMerge, upsertPullRequest, type PullRequestSpec } from './pulls.ts';
import { startFakeGitHub, type FakeGitHub } from './testing/fake-github.ts';

let root: string;
let bare: string;
let work: string;
let fake: FakeGitHub;
const { git } = gitCli(() => gitEnv(root));

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'pinml-pulls-'));
  bare = await createBareRepo(root, 'acme');
  work = path.join(root, 'work');
  await git(root, 'clone', '--quiet', bare, work);
  await git(work, 'commit', '--quiet', '--allow-empty', '-m', 'init');
  await git(work, 'push', '--quiet', 'origin', 'HEAD:main');
  await git(work, 'checkout', '--quiet', '-b', 'pinml/promote-iris');
  await git(work, 'commit', '--quiet', '--allow-empty', '-m', 'promote');
  await git(work, 'push', '--quiet', 'origin', 'pinml/promote-iris');
  await git(work, 'push', '--quiet', 'origin', 'pinml/promote-iris:pinml/rollback-iris');
  fake = await startFakeGitHub({
    owner: 'acme',
    repo: 'models',
    bareRepoDir: bare,
    token: 's3cret',
    scopedTokens: new Map([
      ['ghs_pulls', { contents: 'write', 'pull-requests': 'write' }],
      ['ghs_pullsIssues', { contents: 'write', 'pull-requests': 'write', issues: 'write' }],
    ]),
    actionsCanCreatePullRequests: true,
  });
});

afterAll(async () => {
  await fake.close();
  await rm(root, { recursive: true, force: true });
});

const spec = (over: Partial<PullRequestSpec> = {}): PullRequestSpec => ({
  owner: 'acme',
  repo: 'models',
  head: 'pinml/promote-iris',
  base: 'main',
  title: 'Promote iris@2 to production',
  body: '## Decision: promote',
  labels: ['pinml', 'promotion'],
  ...over,
});

describe('upsertPullRequest against the OpenAPI-checked fake', () => {
  it('creates the pull request once, then updates it in place, never a second one', async () => {
    const client = createGitHubClient({ token: 's3cret', baseUrl: fake.url, retries: 0 });
    const first = await upsertPullRequest(client, spec());
    expect(first.operation).toBe('created');
    const again = await upsertPullRequest(client, spec());
    expect(again).toEqual({ ...first, operation: 'unchanged' });
    const moved = await upsertPullRequest(client, spec(), true);
    expect(moved.operation).toBe('updated');
    const edited = await upsertPullRequest(
      client,
      spec({ title: 'Promote iris@3 to production', body: 'v3' }),
    );
    expect(edited).toMatchObject({ operation: 'updated', number: first.number });
    expect(fake.pulls).toHaveLength(1);
    expect(fake.pulls[0]).toMatchObject({
      title: 'Promote iris@3 to production',
      body: 'v3',
      labels: ['pinml', 'promotion'],
    });
    expect(fake.violations).toEqual([]);
  });

  it('explains a refused token', async () => {
    const client = createGitHubClient({ token: 'wrong', baseUrl: fake.url, retries: 0 });
    const error = await upsertPullRequest(client, spec()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GitHubError);
    expect((error as GitHubError).message).toMatch(/HTTP 401.*missing or invalid/);
    expect((error as GitHubError).message).not.toContain('wrong');
  });

  it('needs issues: write to label with a label the repository lacks, as GitHub does', async () => {
    const pullsOnly = createGitHubClient({ token: 'ghs_pulls', baseUrl: fake.url, retries: 0 });
    const err = await upsertPullRequest(pullsOnly, spec({ labels: ['pinml', 'canary'] })).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(GitHubError);
    expect((err as Error).message).toMatch(/label pull request #\d+ \(canary\).*`issues: write`/);
    expect(fake.labels.has('canary')).toBe(false);
    // A label the repository has (a default one) needs only pull-requests: write.
    await upsertPullRequest(pullsOnly, spec({ labels: ['pinml', 'bug'] }));
    const both = createGitHubClient({ token: 'ghs_pullsIssues', baseUrl: fake.url, retries: 0 });
    await upsertPullRequest(both, spec({ labels: ['pinml', 'canary'] }));
    expect(fake.labels.has('canary')).toBe(true);
    expect(fake.pulls.find((p) => p.state === 'open')?.labels).toEqual(
      expect.arrayContaining(['pinml', 'promotion', 'bug', 'canary']),
    );
  });

  it('names the repository setting when GitHub Actions may not open pull requests', async () => {
    fake.settings.actionsCanCreatePullRequests = false;
    try {
      const job = createGitHubClient({ token: 'ghs_pullsIssues', baseUrl: fake.url, retries: 0 });
      const err = await upsertPullRequest(job, spec({ head: 'pinml/rollback-iris' })).catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(GitHubError);
      expect((err as Error).message).toMatch(
        /open a pull request from pinml\/rollback-iris to main \(HTTP 403\).*"Allow GitHub Actions to create and approve pull requests"/,
      );
      expect(fake.pulls.filter((p) => p.head.ref === 'pinml/rollback-iris')).toEqual([]);
      // The setting governs Actions' own token only: a personal access token still opens it.
      const pat = createGitHubClient({ token: 's3cret', baseUrl: fake.url, retries: 0 });
      const opened = await upsertPullRequest(pat, spec({ head: 'pinml/rollback-iris' }));
      expect(opened.operation).toBe('created');
      await pat.rest.pulls.update({
        owner: 'acme',
        repo: 'models',
        pull_number: opened.number,
        state: 'closed',
      });
    } finally {
      fake.settings.actionsCanCreatePullRequests = true;
    }
  });

  it('refuses a body over GitHub limit before sending it', async () => {
    const client = createGitHubClient({ token: 's3cret', baseUrl: fake.url, retries: 0 });
    await expect(upsertPullRequest(client, spec({ body: 'x'.repeat(65_537) }))).rejects.toThrow(
      /65536/,
    );
  });
});

describe('the fake GitHub', () => {
  it('rejects a request whose body does not match the OpenAPI description', async () => {
    const before = fake.violations.length;
    const res = await fetch(`${fake.url}/repos/acme/models/pulls`, {
      method: 'POST',
      headers: { authorization: 'token s3cret', 'content-type': 'application/json' },
      body: JSON.stringify({ head: 'pinml/promote-iris', title: 5 }),
    });
    expect(res.status).toBe(422);
    expect(fake.violations.slice(before).join('\n')).toMatch(/pulls\/create.*(base|title)/);
  });

  it('rejects an undeclared query parameter and an unknown path', async () => {
    const before = fake.violations.length;
    const headers = { authorization: 'token s3cret' };
    expect(
      (await fetch(`${fake.url}/repos/acme/models/pulls?colour=red`, { headers })).status,
    ).toBe(422);
    expect((await fetch(`${fake.url}/repos/acme/models/branches`, { headers })).status).toBe(422);
    expect(fake.violations.length - before).toBe(2);
  });

  it('merges a pull request into the bare repository as a merge commit', async () => {
    const client = createGitHubClient({ token: 's3cret', baseUrl: fake.url, retries: 0 });
    const number = fake.pulls[0]?.number as number;
    const merged = await client.rest.pulls.merge({
      owner: 'acme',
      repo: 'models',
      pull_number: number,
    });
    expect(merged.data.merged).toBe(true);
    const parents = await git(bare, 'rev-list', '--parents', '-n', '1', 'main');
    expect(parents.split(' ')).toHaveLength(3);
    expect(await git(bare, 'log', '-1', '--format=%s', 'main')).toBe(
      `Merge pull request #${number} from acme/pinml/promote-iris`,
    );
    expect(await git(bare, 'fsck', '--strict')).toBe('');
  });
});

describe('requestAutoMerge through the fake GitHub GraphQL, checked against GitHub’s schema', () => {
  it('is refused with GitHub’s words while the repository does not allow auto-merge, then requested', async () => {
    const client = createGitHubClient({ token: 's3cret', baseUrl: fake.url, retries: 0 });
    const earlier = fake.violations.length; // the tests above send bad requests on purpose
    const pr = await upsertPullRequest(
      client,
      spec({ head: 'pinml/rollback-iris', title: 'Auto-merge me', labels: [] }),
    );
    expect(pr.nodeId).toMatch(/^PR_/);
    fake.settings.allowAutoMerge = false;
    expect(await requestAutoMerge(client, pr.nodeId ?? '')).toBe(
      'Auto merge is not allowed for this repository',
    );
    fake.settings.allowAutoMerge = true;
    expect(await requestAutoMerge(client, pr.nodeId ?? '')).toBeUndefined();
    expect(fake.pulls.find((p) => p.number === pr.number)?.auto_merge).toMatchObject({
      merge_method: 'merge',
    });
    // A job token without pull-requests: write is refused.
    const readOnly = createGitHubClient({ token: 'ghs_read', baseUrl: fake.url, retries: 0 });
    fake.settings.allowAutoMerge = true;
    expect(await requestAutoMerge(readOnly, pr.nodeId ?? '')).toMatch(
      /Bad credentials|not accessible/,
    );
    expect(fake.violations.slice(earlier)).toEqual([]);
    // A query GitHub's schema does not have is a violation.
    await client
      .graphql('mutation { enablePullRequestAutoMerge(input: {}) { nope } }')
      .catch(() => undefined);
    expect(fake.violations.slice(earlier).join('\n')).toMatch(/POST \/graphql: /);
  });
});
