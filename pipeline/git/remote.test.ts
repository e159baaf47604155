import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { HttpClient } from 'isomorphic-git';
import nodeHttp from 'isomorphic-git/http/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GitError } from '../errors.ts';
import { GitRepo } from './repo.ts';
import { createBareRepo, protectBranch, startGitServer } from './testing/git-server.ts';
import type { GitServer } from './testing/git-server.ts';
import { expectGitError, repoFixture } from './testing/repo-fixture.ts';

const fixture = repoFixture('pinml-git-remote-');
const { git, ada, freshDir, cliRepo } = fixture;

beforeAll(fixture.setup);
afterAll(fixture.teardown);

describe('GitRepo over HTTP (git http-backend on loopback)', () => {
  const token = 'ghs_s3cretTokenValue_0123456789';
  let root: string;
  let server: GitServer;
  let url: string;
  /** Every GitError seen in this block, to check that none leaks the token. */
  const seen: GitError[] = [];

  async function expectRemoteError(
    promise: Promise<unknown>,
    reason: GitError['reason'],
  ): Promise<GitError> {
    const err = await expectGitError(promise, reason);
    seen.push(err);
    return err;
  }

  beforeAll(async () => {
    root = await freshDir('server');
    await createBareRepo(root, 'registry', { defaultBranch: 'main' });
    server = await startGitServer({ root, token, readOnlyToken: 'ghs_readonly' });
    url = server.url('registry');
    const seed = await cliRepo({ 'registry/iris/pins.json': '{"production":1}\n' });
    const authed = new URL(url);
    authed.username = 'x-access-token';
    authed.password = token;
    await git(seed, 'push', '--quiet', authed.toString(), 'main');
  });

  afterAll(async () => {
    await server.close();
  });

  it('clones, pushes a commit and fetches it into another clone', async () => {
    const a = await GitRepo.clone({ dir: await freshDir('a'), url, branch: 'main', token });
    expect(await a.readText('main', 'registry/iris/pins.json')).toBe('{"production":1}\n');
    expect(await a.currentBranch()).toBe('main');
    const b = await GitRepo.clone({
      dir: await freshDir('b'),
      url,
      branch: 'main',
      token,
      depth: 1,
    });

    const next = await a.writeCommit({
      parent: 'main',
      changes: [{ path: 'registry/iris/pins.json', content: '{"production":2}\n' }],
      message: 'Promote iris v2',
      author: ada(),
    });
    await a.push({ oid: next, branch: 'main' });
    expect(await git(join(root, 'registry.git'), 'rev-parse', 'main')).toBe(next);
    expect(await a.resolve('origin/main')).toBe(next);
    await git(join(root, 'registry.git'), 'fsck', '--full', '--strict');

    expect((await b.log('main')).map((c) => c.oid)).toEqual([await b.resolve('main')]);
    expect(await b.fetch({ branch: 'main' })).toBe(next);
    expect(await b.resolve('refs/remotes/origin/main')).toBe(next);
    expect(await b.readText('origin/main', 'registry/iris/pins.json')).toBe('{"production":2}\n');
    // Fetch moves only the remote-tracking branch.
    expect(await b.readText('main', 'registry/iris/pins.json')).toBe('{"production":1}\n');
    await b.updateBranch('main', next);
    expect(await git(b.dir, 'status', '--porcelain')).toBe('');
    expect(await readFile(join(b.dir, 'registry/iris/pins.json'), 'utf8')).toBe(
      '{"production":2}\n',
    );

    await expectRemoteError(a.fetch({ branch: 'no-such-branch' }), 'not-found');
  });

  it('clones into a bare repository, which reads, fetches and moves branches without a working tree', async () => {
    const dir = await freshDir('bare');
    const repo = await GitRepo.clone({
      dir,
      url,
      token,
      bare: true,
      singleBranch: true,
      branch: 'main',
    });
    expect(await git(dir, 'rev-parse', '--is-bare-repository')).toBe('true');
    const tip = await repo.fetch({ branch: 'main' });
    expect(await repo.readText(tip, 'registry/iris/pins.json')).toMatch(/production/);
    const next = await repo.writeCommit({ parent: tip, changes: [], message: 'e', author: ada() });
    await repo.updateBranch('main', next, { expected: await repo.resolve('main') });
    expect(await git(dir, 'rev-parse', 'main')).toBe(next);
    await git(dir, 'fsck', '--full', '--strict', '--no-dangling');
  });

  it('rejects a stale push as not-fast-forward, and accepts it redone on the new tip', async () => {
    const a = await GitRepo.clone({ dir: await freshDir('stale-a'), url, branch: 'main', token });
    const b = await GitRepo.clone({ dir: await freshDir('stale-b'), url, branch: 'main', token });
    const write = (repo: GitRepo, parent: string, name: string): Promise<string> =>
      repo.writeCommit({
        parent,
        changes: [{ path: `registry/${name}.txt`, content: name }],
        message: name,
        author: ada(),
      });
    await a.push({ oid: await write(a, 'main', 'from-a'), branch: 'main' });
    const stale = await write(b, 'main', 'from-b');
    const err = await expectRemoteError(b.push({ oid: stale, branch: 'main' }), 'not-fast-forward');
    expect(err.message).toMatch(/Fetch main, redo the change on its new tip, and push again/);

    const tip = await b.fetch({ branch: 'main' });
    const redone = await write(b, tip, 'from-b');
    await b.push({ oid: redone, branch: 'main' });
    expect(await git(join(root, 'registry.git'), 'rev-parse', 'main')).toBe(redone);
  });

  it('maps a push that loses a race after ref discovery to not-fast-forward', async () => {
    const winner = await GitRepo.clone({
      dir: await freshDir('race-w'),
      url,
      branch: 'main',
      token,
    });
    let raced = false;
    // An injected HTTP client lets the winner push between the loser's ref discovery and its
    // upload: the client-side fast-forward check passes, and the server refuses the update.
    const racing: HttpClient = {
      request: async (request) => {
        if (!raced && request.method === 'POST' && request.url.endsWith('/git-receive-pack')) {
          raced = true;
          const won = await winner.writeCommit({
            parent: 'main',
            changes: [{ path: 'race.txt', content: 'winner' }],
            message: 'winner',
            author: ada(),
          });
          await winner.push({ oid: won, branch: 'main' });
        }
        return nodeHttp.request(request);
      },
    };
    const loserDir = await freshDir('race-l');
    await GitRepo.clone({ dir: loserDir, url, branch: 'main', token });
    const loser = GitRepo.open(loserDir, { token, http: racing });
    const lost = await loser.writeCommit({
      parent: 'main',
      changes: [{ path: 'race.txt', content: 'loser' }],
      message: 'loser',
      author: ada(),
    });
    const err = await expectRemoteError(
      loser.push({ oid: lost, branch: 'main' }),
      'not-fast-forward',
    );
    expect(raced).toBe(true);
    expect(err.data.refused).toMatch(/refs\/heads\/main/);
    expect(await git(join(root, 'registry.git'), 'rev-parse', 'main')).toBe(
      await winner.resolve('origin/main'),
    );
  });

  it('maps a push refused by a pre-receive hook (a protected branch) to permission', async () => {
    await createBareRepo(root, 'guarded');
    const seed = await cliRepo({ 'a.txt': 'a' });
    const guardedUrl = new URL(server.url('guarded'));
    guardedUrl.username = 'x-access-token';
    guardedUrl.password = token;
    await git(seed, 'push', '--quiet', guardedUrl.toString(), 'main');
    await protectBranch(root, 'guarded', 'main');

    const repo = await GitRepo.clone({
      dir: await freshDir('guarded'),
      url: server.url('guarded'),
      token,
    });
    const next = await repo.writeCommit({
      parent: 'main',
      changes: [{ path: 'a.txt', content: 'b' }],
      message: 'b',
      author: ada(),
    });
    const err = await expectRemoteError(repo.push({ oid: next, branch: 'main' }), 'permission');
    expect(err.message).toContain('pre-receive hook declined');
    expect(err.message).toContain('GH006: Protected branch update failed');
    expect(err.message.toLowerCase()).toContain(
      'the token needs contents: write on guarded, and main may be a protected branch: allow the pusher or open a pull request',
    );
    // Another branch is not protected.
    await repo.push({ oid: next, branch: 'pinml/promote-iris' });
  });

  it('maps a wrong or missing token to auth and a read-only token push to permission', async () => {
    const dir = await freshDir('wrong');
    const wrong = 'ghs_wrongTokenValue_987';
    const err = await expectRemoteError(GitRepo.clone({ dir, url, token: wrong }), 'auth');
    expect(err.message).not.toContain(wrong);
    expect(err.message).toContain('HTTP 401');
    await expectRemoteError(GitRepo.clone({ dir: await freshDir('anon'), url }), 'auth');

    const repo = await GitRepo.clone({ dir: await freshDir('ok'), url, token });
    const readOnly = GitRepo.open(repo.dir, { token: 'ghs_readonly' });
    const next = await readOnly.writeCommit({
      parent: 'main',
      changes: [],
      message: 'e',
      author: ada(),
    });
    const denied = await expectRemoteError(
      readOnly.push({ oid: next, branch: 'main' }),
      'permission',
    );
    expect(denied.message).toContain('HTTP 403');
    expect(denied.message).toContain('contents: write on registry');
    const badFetch = GitRepo.open(repo.dir, { token: 'ghs_notValid' });
    await expectRemoteError(badFetch.fetch({ branch: 'main' }), 'auth');
    await expectRemoteError(
      repo.push({ oid: next, branch: 'main', remote: 'nowhere' }),
      'not-found',
    );
  });

  it('strips credentials given in a URL from messages', async () => {
    const leaky = new URL(server.url('missing-repo'));
    leaky.username = 'x-access-token';
    leaky.password = token;
    const err = await expectRemoteError(
      GitRepo.clone({ dir: await freshDir('leaky'), url: leaky.toString() }),
      'not-found',
    );
    expect(err.message).toContain(server.url('missing-repo'));
  });

  it('maps a refused connection to network', async () => {
    const closed = await startGitServer({ root });
    const deadUrl = closed.url('registry');
    await closed.close();
    const err = await expectRemoteError(
      GitRepo.clone({ dir: await freshDir('dead'), url: deadUrl, token }),
      'network',
    );
    expect(err.message).toContain('ECONNREFUSED');
  });
  it('never puts the token in an error message, its data, its stack or the git config', async () => {
    expect(seen.length).toBeGreaterThanOrEqual(10);
    for (const err of seen) {
      expect(err.message).not.toContain(token);
      expect(JSON.stringify(err)).not.toContain(token);
      expect(String(err.stack)).not.toContain(token);
      expect(err.cause).toBeUndefined();
    }
    const repo = await GitRepo.clone({ dir: await freshDir('config'), url, token });
    expect(await readFile(join(repo.gitdir, 'config'), 'utf8')).not.toContain(token);
    // Credentials given in the URL authenticate, but are not saved with the remote.
    const inUrl = new URL(url);
    inUrl.username = 'x-access-token';
    inUrl.password = token;
    const fromUrl = await GitRepo.clone({
      dir: await freshDir('url-creds'),
      url: inUrl.toString(),
    });
    expect(await git(fromUrl.dir, 'config', 'remote.origin.url')).toBe(url);
    expect(await fromUrl.fetch({ branch: 'main' })).toBe(await repo.resolve('main'));
  });
});
