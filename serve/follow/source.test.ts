/**
 * Following a remote: git's own smart-HTTP server (`git http-backend`) on loopback, requiring a
 * token, serves a registry repository; the server clones it shallow and single-branch and
 * fetches it again on every reconcile.
 */
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { GitError } from '../../pipeline/errors.ts';
import { gitCli, gitEnv } from '../../pipeline/git/testing/git-cli.ts';
import { startGitServer, type GitServer } from '../../pipeline/git/testing/git-server.ts';
import { canonicalJson } from '../../pipeline/json.ts';
import { createMetrics } from '../metrics.ts';
import { Reconciler } from './reconcile.ts';
import { localSource, remoteSource } from './source.ts';
import { ROOT } from '../testing/fixtures.ts';

const TOKEN = 'ghs_test_token';
let tmp: string;
let work: string;
let bare: string;
let server: GitServer;
const { git } = gitCli(() => gitEnv(tmp));

async function pin(production: number | null): Promise<string> {
  await writeFile(
    join(work, 'registry/iris/pins.json'),
    canonicalJson({ formatVersion: 1, model: 'iris', production }),
  );
  await git(work, 'commit', '--quiet', '-am', `pin ${production}`);
  await git(work, 'push', '--quiet', bare, 'main');
  return git(work, 'rev-parse', 'HEAD');
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'pinml-serve-source-'));
  work = join(tmp, 'work');
  bare = join(tmp, 'root', 'registry.git');
  await mkdir(join(work, 'registry/iris/versions'), { recursive: true });
  await cp(join(ROOT, 'registry/iris/versions/1'), join(work, 'registry/iris/versions/1'), {
    recursive: true,
  });
  await writeFile(
    join(work, 'registry/iris/pins.json'),
    canonicalJson({ formatVersion: 1, model: 'iris', production: null }),
  );
  await git(work, 'init', '--quiet', '--initial-branch=main');
  await git(work, 'add', '--all');
  await git(work, 'commit', '--quiet', '-m', 'registry');
  await git(work, 'branch', 'pinml/promote-iris');
  await git(tmp, 'clone', '--quiet', '--bare', work, bare);
  await pin(1);
  server = await startGitServer({ root: join(tmp, 'root'), token: TOKEN });
});

afterAll(async () => {
  await server?.close();
  await rm(tmp, { recursive: true, force: true });
});

describe('remoteSource', () => {
  it('clones shallow and single-branch with the token, then fetches what was pushed', async () => {
    const cacheDir = join(tmp, 'cache', 'a');
    const source = remoteSource({
      url: server.url('registry'),
      ref: 'main',
      cacheDir,
      token: TOKEN,
    });
    expect(source.location).toBe(server.url('registry'));
    const first = await source.head();
    expect(first.commit).toBe(await git(bare, 'rev-parse', 'main'));
    expect(await git(cacheDir, 'rev-parse', '--is-shallow-repository')).toBe('true');
    expect(await git(cacheDir, 'rev-list', '--count', '--all')).toBe('1');
    expect(await git(cacheDir, 'for-each-ref', '--format=%(refname)')).not.toMatch(/promote-iris/);

    const moved = await pin(null);
    const second = await source.head();
    expect(second.commit).toBe(moved);
    expect(await second.repo.readText(second.commit, 'registry/iris/pins.json')).toContain(
      '"production": null',
    );
    expect(await git(cacheDir, 'rev-parse', '--is-shallow-repository')).toBe('true');

    // A restart reuses the clone in the cache folder and fetches.
    const again = await remoteSource({
      url: server.url('registry'),
      ref: 'main',
      cacheDir,
      token: TOKEN,
    }).head();
    expect(again.commit).toBe(moved);
    await pin(1);
  });

  it('fails with a git error, and no token in it, when the token is refused', async () => {
    const source = remoteSource({
      url: server.url('registry'),
      ref: 'main',
      cacheDir: join(tmp, 'cache', 'b'),
      token: 'wrong-token',
    });
    const err = await source.head().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(GitError);
    expect((err as GitError).message).not.toContain('wrong-token');
  });
});

describe('the reconciler on a remote', () => {
  it('serves what the remote pins and keeps serving, degraded, when the remote cannot be reached', async () => {
    let token = TOKEN;
    const cacheDir = join(tmp, 'cache', 'c');
    const sources = () =>
      remoteSource({ url: server.url('registry'), ref: 'main', cacheDir, token });
    const reconciler = new Reconciler({
      source: { location: 'remote', ref: 'main', head: () => sources().head() },
      log: pino({ level: 'silent' }),
      metrics: createMetrics({ defaults: false }),
    });
    const first = await reconciler.reconcile('startup');
    expect(first.served).toEqual(['iris@1']);
    expect(first.problems).toEqual([]);
    token = 'revoked';
    const second = await reconciler.reconcile('poll');
    expect(second.result).toBe('failed');
    expect(second.served).toEqual(['iris@1']);
    expect(reconciler.state.problems[0]).toMatchObject({ code: 'E_GIT' });
    expect(reconciler.state.problems[0]?.message).not.toContain('revoked');
    token = TOKEN;
    const third = await reconciler.reconcile('poll');
    expect(third.problems).toEqual([]);
  });
});

describe('localSource', () => {
  it('reads a bare repository as well as a working clone', async () => {
    const fromBare = await localSource(bare, 'main').head();
    const fromWork = await localSource(work, 'main').head();
    expect(fromBare.commit).toBe(fromWork.commit);
    expect(await fromBare.repo.readText(fromBare.commit, 'registry/iris/pins.json')).toContain(
      '"production": 1',
    );
  });
});
