import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GitError } from '../errors.ts';
import { GitRepo } from '../git/repo.ts';
import { createBareRepo, protectBranch, startGitServer } from '../git/testing/git-server.ts';
import type { GitServer } from '../git/testing/git-server.ts';
import { readRunFolder } from '../run-folder.ts';
import { registerRun, type RegisterResult } from './apply.ts';
import {
  createWorkspace,
  irisRows,
  trainRunFolder,
  type Workspace,
} from './testing/project.ts';
import { repoRoot } from '../testing/runtimes.ts';

const execFileAsync = promisify(execFile);
const script = path.join(repoRoot, 'pipeline', 'registry', 'testing', 'race-register.ts');
const PARTIES = 8;
/** 1 … PARTIES. */
const VERSIONS = Array.from({ length: PARTIES }, (_, i) => i + 1);

let ws: Workspace;
let server: GitServer;
let serverRoot: string;
/** The base commit: it holds data/d1.csv … d8.csv. */
let base: string;
/** Run folders trained on d1 … d8, and their training keys. */
const runs: { dir: string; key: string }[] = [];

beforeAll(async () => {
  ws = await createWorkspace('race');
  // One dataset per process from the Iris rows, each without a different eighth of them.
  const { header, rows } = await irisRows();
  const files: Record<string, string> = {};
  for (let i = 1; i <= PARTIES; i++) {
    const kept = rows.filter((_, j) => j % PARTIES !== i - 1);
    files[`data/d${i}.csv`] = [header, ...kept].join('\n') + '\n';
  }
  const seed = await ws.project(files);
  base = await ws.git(seed, 'rev-parse', 'HEAD');
  for (let i = 1; i <= PARTIES; i++) {
    const dir = path.join(ws.root, `run-d${i}`);
    const run = await trainRunFolder(seed, dir, {
      candidate: 'forest-a',
      dataset: `data/d${i}.csv`,
    });
    runs.push({ dir, key: run.record.chosen.trainingKey });
  }
  serverRoot = await ws.dir('server');
  for (const name of ['registry', 'protected']) {
    const bare = await createBareRepo(serverRoot, name);
    await ws.git(seed, 'push', '--quiet', bare, 'main');
  }
  await protectBranch(serverRoot, 'protected', 'main');
  server = await startGitServer({ root: serverRoot });
});

afterAll(async () => {
  await server?.close();
  await ws?.remove();
});

/** Runs one registering child process to completion (asynchronously: the server is in this one). */
async function registerInChildProcess(
  run: string,
  name: string,
  barrier: string,
): Promise<RegisterResult> {
  const clone = path.join(await ws.dir(`clone-${name}`), 'repo');
  try {
    const { stdout } = await execFileAsync(
      process.execPath,
      [
        '--import',
        'tsx',
        script,
        server.url('registry'),
        clone,
        run,
        base,
        barrier,
        name,
        String(PARTIES),
      ],
      { cwd: repoRoot, timeout: 60_000 },
    );
    return JSON.parse(stdout) as RegisterResult;
  } catch (e) {
    const out = (e as { stdout?: string; stderr?: string }).stdout ?? '';
    throw new Error(
      `registering process ${name} failed: ${out}${(e as { stderr?: string }).stderr ?? ''}`,
    );
  }
}

async function raceAll(): Promise<RegisterResult[]> {
  const barrier = await ws.dir('barrier');
  return Promise.all(runs.map((r, i) => registerInChildProcess(r.dir, `p${i + 1}`, barrier)));
}

const bare = (): string => path.join(serverRoot, 'registry.git');
const remoteGit = (...args: string[]): Promise<string> =>
  ws.git(serverRoot, `--git-dir=${bare()}`, ...args);

describe('eight processes registering the same model at once', () => {
  let first: RegisterResult[];

  beforeAll(async () => {
    first = await raceAll();
  });

  it('gives them eight distinct consecutive versions', () => {
    expect(first.map((r) => r.status)).toEqual(VERSIONS.map(() => 'created'));
    expect(first.map((r) => r.version).sort((a, b) => a - b)).toEqual(VERSIONS);
  });

  it('retries the pushes the remote rejected because another process got there first', () => {
    // All eight planned v1 on the same tip before any pushed: at least seven were rejected.
    const retries = first.reduce((sum, r) => sum + r.retries, 0);
    expect(retries).toBeGreaterThanOrEqual(PARTIES - 1);
    expect(first.every((r) => r.attempts === r.retries + 1)).toBe(true);
    // Each process's own clone was brought up to the commit it pushed.
    expect(first.map((r) => r.note)).toEqual(VERSIONS.map(() => undefined));
    // What the time-boxed budget allowed the unluckiest one (the issue saw 7 of a fixed 8).
    console.log(`race of ${PARTIES}: attempts ${first.map((r) => r.attempts).join(', ')}`);
  });

  it('loses none: every training key is in a card at the remote main, in the version reported', async () => {
    const versions = (await remoteGit('ls-tree', '--name-only', 'main:registry/iris/versions'))
      .split('\n')
      .sort();
    expect(versions.map(Number).sort((a, b) => a - b)).toEqual(VERSIONS);
    const keyOf = new Map<number, string>();
    for (const v of VERSIONS) {
      const card = JSON.parse(
        await remoteGit('show', `main:registry/iris/versions/${v}/card.json`),
      ) as { version: number; trainingKey: string; dataset: { path: string } };
      expect(card.version).toBe(v);
      keyOf.set(v, card.trainingKey);
    }
    expect([...keyOf.values()].sort()).toEqual(runs.map((r) => r.key).sort());
    first.forEach((result, i) => {
      expect(keyOf.get(result.version), `process p${i + 1}`).toBe(runs[i]?.key);
    });
  });

  it('leaves a linear, valid history on the remote: one registration commit per version', async () => {
    const subjects = (await remoteGit('log', '--format=%s', 'main')).split('\n');
    expect(subjects).toHaveLength(PARTIES + 1);
    expect(subjects.at(-1)).toBe('Initial commit');
    expect(
      subjects.slice(0, PARTIES).map((s) => /^pinml: register iris@(\d+) \(forest-a\)$/.exec(s)?.[1]),
    ).toEqual(VERSIONS.map(String).reverse());
    expect(await remoteGit('rev-list', '--merges', '--count', 'main')).toBe('0');
    const fsck = await ws.gitStatus(
      serverRoot,
      `--git-dir=${bare()}`,
      'fsck',
      '--full',
      '--strict',
    );
    expect(fsck).toEqual({ ok: true, stderr: '' });
  });

  it('returns unchanged when any of them runs again, and the remote does not move', async () => {
    const tip = await remoteGit('rev-parse', 'main');
    const again = await raceAll();
    expect(again.map((r) => r.status)).toEqual(VERSIONS.map(() => 'unchanged'));
    expect(again.map((r) => r.version)).toEqual(first.map((r) => r.version));
    expect(again.map((r) => r.commit)).toEqual(VERSIONS.map(() => tip));
    expect(await remoteGit('rev-parse', 'main')).toBe(tip);
  });
});

describe('registering on a remote whose main is protected', () => {
  it('fails with a GitError "permission" that names the permission needed, and pushes nothing', async () => {
    const dir = path.join(await ws.dir('clone-protected'), 'repo');
    const repo = await GitRepo.clone({ dir, url: server.url('protected'), branch: 'main' });
    const protectedBare = path.join(serverRoot, 'protected.git');
    const before = await ws.git(serverRoot, `--git-dir=${protectedBare}`, 'rev-parse', 'main');
    const run = await readRunFolder(runs[0]?.dir as string);
    const error = await registerRun(repo, {
      run,
      branch: 'main',
      remote: 'origin',
      commit: base,
      now: () => new Date(),
      sleep: () => Promise.resolve(),
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(GitError);
    const e = error as GitError;
    expect(e.reason).toBe('permission');
    expect(e.message).toMatch(/contents: write/);
    expect(e.message).toMatch(/protected branch/);
    expect(e.message).toMatch(/GH006: Protected branch update failed for refs\/heads\/main/);
    expect(await ws.git(serverRoot, `--git-dir=${protectedBare}`, 'rev-parse', 'main')).toBe(
      before,
    );
    // The local branch stays where it was: nothing was registered.
    expect(await repo.resolve('refs/heads/main')).toBe(before);
  });
});

describe('a registration whose dataset is not at the commit it names', () => {
  it('is refused before anything is written', async () => {
    const dir = await ws.project();
    const head = await ws.git(dir, 'rev-parse', 'HEAD');
    const run = await readRunFolder(runs[0]?.dir as string);
    await expect(
      registerRun(GitRepo.open(dir), { run, branch: 'main', commit: head, now: () => new Date() }),
    ).rejects.toThrow(
      /^data\/d1\.csv at [0-9a-f]{12} does not exist, but the run trained on sha256 [0-9a-f]{64}: commit the dataset you trained on/,
    );
    expect(await ws.git(dir, 'rev-parse', 'main')).toBe(head);
  });
});
