/**
 * Registering on a remote when things go wrong between the push and the answer (issue 25),
 * against a real `git http-backend`: a connection cut while the pack is read or after the
 * branch moved, a remote that cannot be reached to check, a local branch that cannot follow,
 * a training commit the remote does not have, and a remote that keeps moving.
 */
import path from 'node:path';
import { rm, writeFile } from 'node:fs/promises';
import type { HttpClient } from 'isomorphic-git';
import webHttp from 'isomorphic-git/http/web';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryError } from '../errors.ts';
import { GitRepo } from '../git/repo.ts';
import { createBareRepo, startGitServer, type GitServer } from '../git/testing/git-server.ts';
import { readRunFolder } from '../run-folder.ts';
import type { TrainRun } from '../train.ts';
import { backoffMs, registerRun, type RegisterOptions } from './apply.ts';
import { createWorkspace, irisRows, trainRunFolder, type Workspace } from './testing/project.ts';

let ws: Workspace;
let server: GitServer;
let serverRoot: string;
let seed: string;
let base: string;
const runs: TrainRun[] = [];
let remotes = 0;

beforeAll(async () => {
  ws = await createWorkspace('register-remote');
  const { header, rows } = await irisRows();
  const files: Record<string, string> = {};
  for (let i = 1; i <= 3; i++) {
    files[`data/d${i}.csv`] = [header, ...rows.filter((_, j) => j % 7 !== i)].join('\n') + '\n';
  }
  seed = await ws.project(files);
  base = await ws.git(seed, 'rev-parse', 'HEAD');
  for (let i = 1; i <= 3; i++) {
    const dir = path.join(ws.root, `run-d${i}`);
    await trainRunFolder(seed, dir, { candidate: 'forest-a', dataset: `data/d${i}.csv` });
    runs.push(await readRunFolder(dir));
  }
  serverRoot = await ws.dir('server');
  server = await startGitServer({ root: serverRoot });
});

afterAll(async () => {
  await server?.close();
  await ws?.remove();
});

/** A new remote holding the seed, and a clone of it made by the git CLI (a user's clone). */
async function freshRemote(http?: HttpClient): Promise<{ repo: GitRepo; clone: string; bare: string }> {
  remotes += 1;
  const name = `r${remotes}`;
  const bare = await createBareRepo(serverRoot, name);
  await ws.git(seed, 'push', '--quiet', bare, 'main');
  const clone = path.join(await ws.dir(`clone-${name}`), 'repo');
  await ws.git(ws.root, 'clone', '--quiet', server.url(name), clone);
  return { repo: GitRepo.open(clone, http ? { http } : {}), clone, bare };
}

const options = (run: TrainRun, extra: Partial<RegisterOptions> = {}): RegisterOptions => ({
  run,
  branch: 'main',
  remote: 'origin',
  commit: base,
  now: () => new Date(),
  sleep: () => Promise.resolve(),
  ...extra,
});

const remoteVersions = async (bare: string): Promise<string[]> =>
  (await ws.git(serverRoot, `--git-dir=${bare}`, 'ls-tree', '--name-only', 'main', 'registry/iris/versions/'))
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.split('/').at(-1) ?? '');

describe('a push whose connection breaks', () => {
  it('after the branch moved on the remote: looks, finds the version there, and reports it created', async () => {
    const { repo, clone, bare } = await freshRemote();
    server.cutNextPush('before-report');
    const result = await registerRun(repo, options(runs[0] as TrainRun));
    expect(result).toMatchObject({ status: 'created', version: 1, attempts: 1 });
    expect(result.note).toBe('the connection broke after the push, but the remote has it');
    expect(await remoteVersions(bare)).toEqual(['1']);
    expect(await ws.git(serverRoot, `--git-dir=${bare}`, 'rev-parse', 'main')).toBe(result.commit);
    expect(await ws.git(clone, 'rev-parse', 'main')).toBe(result.commit);
    expect(await ws.git(clone, 'status', '--porcelain')).toBe('');
  });

  it('while the pack is read: looks, finds nothing landed, and pushes again', async () => {
    const { repo, bare } = await freshRemote();
    server.cutNextPush('mid-pack');
    const result = await registerRun(repo, options(runs[0] as TrainRun));
    expect(result).toMatchObject({ status: 'created', version: 1, attempts: 2, retries: 1 });
    expect(result.note).toBeUndefined();
    expect(await remoteVersions(bare)).toEqual(['1']);
  });

  it('with the remote then unreachable: says the push may have landed and that running again is safe', async () => {
    let down = false;
    const http: HttpClient = {
      async request(request) {
        if (down) {
          throw Object.assign(new TypeError('fetch failed'), {
            cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), {
              code: 'ECONNREFUSED',
            }),
          });
        }
        const push = request.method === 'POST' && request.url.endsWith('/git-receive-pack');
        try {
          return await webHttp.request(request);
        } finally {
          if (push) down = true;
        }
      },
    };
    const { repo, bare } = await freshRemote(http);
    server.cutNextPush('before-report');
    const error = await registerRun(repo, options(runs[0] as TrainRun)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(RegistryError);
    expect((error as Error).message).toMatch(
      /^the connection to origin broke during the push of iris@1 \(Push of [0-9a-f]{7} to main on http:\/\/127\.0\.0\.1:\d+\/r\d+\.git was cut off: the connection broke during the push \((UND_ERR_SOCKET|ECONNRESET|no report from the server)\), so the push may have landed\. .*\), and the remote cannot be reached to check: the push may have landed\. Running the same pinml register again is safe: it answers unchanged if the version landed, or registers it once$/,
    );
    // It had landed; once the remote answers again, the same registration is unchanged.
    expect(await remoteVersions(bare)).toEqual(['1']);
    down = false;
    const again = await registerRun(repo, options(runs[0] as TrainRun));
    expect(again).toMatchObject({ status: 'unchanged', version: 1 });
    expect(await remoteVersions(bare)).toEqual(['1']);
  });
});

describe('the local clone after a push', () => {
  it('succeeds when the local branch cannot follow, says why and how to catch up, and catches up next time', async () => {
    const { repo, clone } = await freshRemote();
    // git holds main's lock (no pinml owner file: never taken over).
    await writeFile(path.join(clone, '.git/refs/heads/main.lock'), `${base}\n`);
    const result = await registerRun(repo, options(runs[1] as TrainRun));
    expect(result.status).toBe('created');
    expect(result.note).toMatch(
      /^iris@1 is on the remote, but your local main could not be brought up to it \(Branch main is locked by another git process .*\); once that is resolved, git pull --ff-only \(or the same pinml register, which answers unchanged\) updates it$/,
    );
    expect(await ws.git(clone, 'rev-parse', 'main')).toBe(base);
    await rm(path.join(clone, '.git/refs/heads/main.lock'));
    const again = await registerRun(repo, options(runs[1] as TrainRun));
    expect(again).toMatchObject({ status: 'unchanged', version: 1 });
    expect(again.note).toBeUndefined();
    expect(await ws.git(clone, 'rev-parse', 'main')).toBe(result.commit);
    expect(await ws.git(clone, 'status', '--porcelain')).toBe('');
  });

  it('refuses a training commit the remote branch does not have, before anything is pushed', async () => {
    const { repo, clone, bare } = await freshRemote();
    await writeFile(path.join(clone, 'NOTES.md'), 'local only\n');
    await ws.git(clone, 'add', 'NOTES.md');
    await ws.git(clone, 'commit', '--quiet', '-m', 'local only');
    const local = await ws.git(clone, 'rev-parse', 'HEAD');
    await expect(registerRun(repo, options(runs[0] as TrainRun, { commit: local }))).rejects.toThrow(
      `the training commit ${local.slice(0, 12)} is not on origin/main, so the version's card would name a commit (and dataset) nobody can fetch: push it first (git push origin HEAD:main), then register again`,
    );
    expect(await ws.git(serverRoot, `--git-dir=${bare}`, 'rev-parse', 'main')).toBe(base);
  });
});

describe('a remote that keeps moving', () => {
  it('is retried with jittered back-off for the time budget, not a fixed count, then refused', async () => {
    const { repo, bare } = await freshRemote();
    let now = 0;
    const slept: number[] = [];
    let moved = 0;
    const error = await registerRun(
      repo,
      options(runs[2] as TrainRun, {
        retryForMs: 10_000,
        clock: () => now,
        random: () => 0.5,
        sleep: (ms) => {
          slept.push(ms);
          now += ms;
          return Promise.resolve();
        },
        // Another writer lands a commit between every plan and push.
        beforePush: async () => {
          moved += 1;
          await ws.git(seed, 'commit', '--quiet', '--allow-empty', '-m', `elsewhere ${moved}`);
          await ws.git(seed, 'push', '--quiet', '--force', bare, 'main');
        },
      }),
    ).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(RegistryError);
    expect((error as Error).message).toBe(
      `the remote's main kept moving: ${moved} attempts to register iris in 10 s were rejected; run again`,
    );
    // Half of a cap that doubles from 200 ms to 5 s; the last pause is cut to the budget's end.
    expect(slept).toEqual([100, 200, 400, 800, 1600, 2500, 2500, 1900]);
    expect(slept.reduce((a, b) => a + b, 0)).toBe(10_000);
    expect(moved).toBe(slept.length + 1);
    expect(await remoteVersions(bare).catch(() => [])).toEqual([]);
  });

  it('draws each pause uniformly up to a cap that doubles per attempt, at most 5 s', () => {
    expect([1, 2, 3, 6, 10].map((a) => backoffMs(a, () => 1))).toEqual([200, 400, 800, 5000, 5000]);
    expect(backoffMs(4, () => 0)).toBe(0);
  });
});
