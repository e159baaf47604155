/**
 * Registration survives a crash (issue 25): `pinml register --remote` against a real
 * `git http-backend` is killed with SIGKILL at every file write (before it, half-way through
 * it), every rename, link and unlink, and every HTTP exchange in turn (`crash-at.ts`), and at
 * random moments. After each kill the remote passes `git fsck --full --strict` with gapless
 * versions whose artifacts match their cards, and the clone passes `git fsck` and
 * `git status`; the same command run again registers the version exactly once or answers
 * `unchanged`, leaves no lock file, and brings the clone to the remote's tip — with no repair
 * by hand. Then a full disk: the clone on a small tmpfs (a private mount namespace) runs out of
 * space while objects are written, and after space is freed the next run succeeds.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gitEnv, type GitCli } from '../git/testing/git-cli.ts';
import { sha256 } from '../json.ts';
import { createBareRepo, startGitServer, type GitServer } from '../git/testing/git-server.ts';
import {
  bundlePinml,
  checkRemote,
  lockFiles,
  register,
  stepsOf,
  type Bundle,
  type Ended,
} from './testing/crash.ts';
import { createWorkspace, irisRows, trainRunFolder, type Workspace } from './testing/project.ts';

const execFileAsync = promisify(execFile);

/** Independent clone-and-remote pairs killed side by side (this machine has two cores). */
const CHAINS = 2;
/** Random-moment kills per chain, after the stepped ones. */
const RANDOM_KILLS = 4;
/** Datasets prepared; more than the registrations the test makes (~70) train distinct models. */
const DATASETS = 110;

let ws: Workspace;
let server: GitServer;
let serverRoot: string;
let bundle: Bundle;
let git: GitCli;
let base: string;
const runs: { dir: string; key: string }[] = [];
let nextRun = 0;

beforeAll(async () => {
  ws = await createWorkspace('crash');
  git = { git: ws.git, gitStatus: ws.gitStatus };
  const { header, rows } = await irisRows();
  const files: Record<string, string> = {};
  // Each dataset leaves out a different pair of rows, so each trains to a key of its own.
  for (let i = 1; i <= DATASETS; i++) {
    const kept = rows.filter((_, j) => j !== i && j !== (i + 37) % rows.length);
    files[`data/d${i}.csv`] = [header, ...kept].join('\n') + '\n';
  }
  const seed = await ws.project(files);
  base = await ws.git(seed, 'rev-parse', 'HEAD');
  const [built] = await Promise.all([
    bundlePinml(`crash-${process.pid}`),
    (async () => {
      // Iris has duplicate rows: leaving out one of a pair trains the same model, whose
      // artifact object then exists already. Keep one run per artifact, so every
      // registration writes the same number of objects.
      const artifacts = new Set<string>();
      for (let i = 1; i <= DATASETS; i++) {
        const dir = path.join(ws.root, `run-d${i}`);
        const run = await trainRunFolder(seed, dir, {
          candidate: 'logistic',
          dataset: `data/d${i}.csv`,
        });
        const artifact = sha256(await readFile(path.join(dir, 'model.json')));
        if (artifacts.has(artifact)) continue;
        artifacts.add(artifact);
        runs.push({ dir, key: run.record.chosen.trainingKey });
      }
    })(),
  ]);
  bundle = built;
  serverRoot = await ws.dir('server');
  for (let c = 0; c < CHAINS; c++) {
    const bare = await createBareRepo(serverRoot, `chain${c}`);
    await ws.git(seed, 'push', '--quiet', bare, 'main');
  }
  await createBareRepo(serverRoot, 'full');
  await ws.git(seed, 'push', '--quiet', path.join(serverRoot, 'full.git'), 'main');
  server = await startGitServer({ root: serverRoot });
}, 120_000);

afterAll(async () => {
  await server?.close();
  await ws?.remove();
  if (bundle) await rm(path.dirname(bundle.cli), { recursive: true, force: true });
});

const take = (): { dir: string; key: string } => {
  const run = runs[nextRun++];
  if (run === undefined) throw new Error(`more than ${runs.length} registrations: raise DATASETS`);
  return run;
};

/** What one chain saw: the steps it killed at, and each registration's outcome. */
interface ChainReport {
  killedAt: string[];
  /** Steps of the reference run this chain's run completed without reaching. */
  notReached: string[];
  outcomes: ('created' | 'unchanged')[];
  randomKilled: number;
}

/** The clone right after a kill: git can read it (the lock a kill leaves is allowed here). */
async function checkCloneReadable(clone: string, what: string): Promise<void> {
  const fsck = await git.gitStatus(clone, 'fsck');
  expect(fsck, `git fsck after ${what}`).toEqual({ ok: true, stderr: '' });
  const status = await git.gitStatus(clone, 'status', '--porcelain');
  expect(status.ok, `git status after ${what}: ${status.stderr}`).toBe(true);
}

/** After the re-run: clean, lock-free, at the remote's tip, and the key registered once. */
async function checkRecovered(
  chain: number,
  clone: string,
  again: Ended,
  key: string,
  what: string,
): Promise<'created' | 'unchanged'> {
  expect(again.killed, what).toBe(false);
  expect(again.code, `${what}: ${again.stderr}${again.stdout}`).toBe(0);
  const result = JSON.parse(again.stdout) as { status: 'created' | 'unchanged'; note?: string };
  expect(result.note, `${what}: note`).toBeUndefined();
  const remote = await checkRemote(git, path.join(serverRoot, `chain${chain}.git`), 'iris');
  expect([...remote.keys.values()].filter((k) => k === key), `${what}: registered once`).toHaveLength(
    1,
  );
  expect(await lockFiles(path.join(clone, '.git')), `${what}: lock files`).toEqual([]);
  expect(await git.git(clone, 'rev-parse', 'main'), `${what}: local main`).toBe(remote.tip);
  expect(await git.git(clone, 'status', '--porcelain'), `${what}: git status`).toBe('');
  const fsck = await git.gitStatus(clone, 'fsck', '--strict');
  expect(fsck, `${what}: git fsck --strict`).toEqual({ ok: true, stderr: '' });
  return result.status;
}

/** A chain's clone of its own remote, and two registrations, uncrashed: the second's steps. */
async function startChain(chain: number): Promise<{ clone: string; steps: string[] }> {
  const clone = path.join(ws.root, `clone${chain}`);
  await execFileAsync('git', ['clone', '--quiet', server.url(`chain${chain}`), clone], {
    env: gitEnv(ws.root),
  });
  // The model's first version also writes its folders; the second is what every later one does.
  const stepLog = path.join(ws.root, `steps-${chain}-reference.log`);
  for (const log of [undefined, stepLog]) {
    const run = take();
    const done = await register(bundle, {
      clone,
      run: run.dir,
      commit: base,
      env: gitEnv(ws.root),
      ...(log ? { stepLog: log } : {}),
    });
    await checkRecovered(chain, clone, done, run.key, `chain ${chain}, reference run`);
  }
  return { clone, steps: await stepsOf(stepLog) };
}

/** Kills one registration at each of `targets` in turn, checking and re-running after each. */
async function runChain(chain: number, clone: string, targets: string[]): Promise<ChainReport> {
  const env = gitEnv(ws.root);
  const report: ChainReport = { killedAt: [], notReached: [], outcomes: [], randomKilled: 0 };
  const bare = path.join(serverRoot, `chain${chain}.git`);
  for (const target of targets) {
    const run = take();
    const killed = await register(bundle, {
      clone,
      run: run.dir,
      commit: base,
      env,
      crashAt: target,
    });
    const what = `chain ${chain}, kill at ${target}`;
    if (!killed.killed) {
      // This registration took no such step: it completed.
      report.notReached.push(target);
      report.outcomes.push(await checkRecovered(chain, clone, killed, run.key, what));
      continue;
    }
    report.killedAt.push(target);
    await server.idle();
    await checkRemote(git, bare, 'iris');
    await checkCloneReadable(clone, what);
    const again = await register(bundle, { clone, run: run.dir, commit: base, env });
    report.outcomes.push(await checkRecovered(chain, clone, again, run.key, what));
  }
  for (let i = 0; i < RANDOM_KILLS; i++) {
    const run = take();
    const after = 150 + Math.floor(Math.random() * 700);
    const killed = await register(bundle, {
      clone,
      run: run.dir,
      commit: base,
      env,
      killAfterMs: after,
    });
    const what = `chain ${chain}, kill after ${after} ms`;
    if (killed.killed) report.randomKilled++;
    await server.idle();
    await checkRemote(git, bare, 'iris');
    await checkCloneReadable(clone, what);
    const again = await register(bundle, { clone, run: run.dir, commit: base, env });
    report.outcomes.push(await checkRecovered(chain, clone, again, run.key, what));
  }
  return report;
}

describe('pinml register --remote killed at every step', () => {
  let reference: string[];
  let reports: ChainReport[];

  beforeAll(async () => {
    const chains = await Promise.all(Array.from({ length: CHAINS }, (_, c) => startChain(c)));
    // The first chain's steps are the reference; the chains share them out.
    reference = chains[0]?.steps ?? [];
    reports = await Promise.all(
      chains.map(({ clone }, c) =>
        runChain(
          c,
          clone,
          reference.filter((_, i) => i % CHAINS === c),
        ),
      ),
    );
  }, 240_000);

  it('was killed at every step a registration takes: object writes half-done, the push, the lock, the working tree, the index', () => {
    const killed = reports.flatMap((r) => r.killedAt);
    expect(reports.flatMap((r) => r.notReached)).toEqual([]);
    expect(killed.sort()).toEqual([...reference].sort());
    const kinds = [
      /^send POST git-upload-pack/,
      /^answer POST git-upload-pack/,
      /^half-write \.git\/objects\//,
      /^rename \.git\/objects\/.* -> \.git\/objects\//,
      /^send POST git-receive-pack/,
      /^answer POST git-receive-pack/,
      /^link .* -> \.git\/refs\/heads\/main\.lock#/,
      /^rename .* -> registry\/iris\/versions\/\*\/model\.json#/,
      /^rename .* -> \.git\/index#/,
      /^rename \.git\/refs\/heads\/main\.lock -> \.git\/refs\/heads\/main#/,
    ];
    for (const kind of kinds) expect(killed.some((s) => kind.test(s)), String(kind)).toBe(true);
    expect(killed.length).toBeGreaterThan(50);
  });

  it('registered each run exactly once, whether the kill came before or after the push landed', () => {
    const outcomes = reports.flatMap((r) => r.outcomes);
    // Kills before the push: the re-run registers; kills after it: the re-run finds it there.
    expect(outcomes.filter((o) => o === 'created').length).toBeGreaterThan(10);
    expect(outcomes.filter((o) => o === 'unchanged').length).toBeGreaterThan(5);
    expect(reports.reduce((n, r) => n + r.randomKilled, 0)).toBeGreaterThan(0);
  });
});

describe('a full disk while objects are written', () => {
  it('fails saying the disk is full and where, publishes nothing, and succeeds once space is freed', async () => {
    const clone = path.join(ws.root, 'clone-full');
    await execFileAsync('git', ['clone', '--quiet', server.url('full'), clone], {
      env: gitEnv(ws.root),
    });
    const mnt = await mkdtemp(path.join(ws.root, 'tmpfs-'));
    const run = take();
    const env = gitEnv(ws.root);
    const pinml = (log: string): string =>
      `${process.execPath} --import ${bundle.crashAt} ${bundle.cli} -C "$MNT/clone" register --remote origin --commit ${base} --json ${run.dir} >"$OUT/${log}.out" 2>"$OUT/${log}.err"; echo $? >"$OUT/${log}.rc"`;
    // A private mount namespace: the tmpfs exists only for this shell and its children. The
    // clone is copied in, and a filler file leaves two pages: less than the new objects need.
    const script = [
      'set -e',
      'mount -t tmpfs -o size=4m tmpfs "$MNT"',
      'cp -a "$CLONE" "$MNT/clone"',
      'free=$(df --output=avail -B1 "$MNT" | tail -1)',
      'head -c $((free - 8 * 1024)) /dev/zero >"$MNT/filler" || true',
      'set +e',
      pinml('full'),
      'git --git-dir="$BARE" rev-parse main >"$OUT/full.remote"',
      'git -C "$MNT/clone" rev-parse main >"$OUT/full.main"',
      'rm "$MNT/filler"',
      pinml('freed'),
      'git -C "$MNT/clone" fsck --strict >"$OUT/fsck.out" 2>&1; echo $? >"$OUT/fsck.rc"',
      'git -C "$MNT/clone" status --porcelain >"$OUT/status.out" 2>&1',
      'git -C "$MNT/clone" rev-parse main >"$OUT/freed.main"',
      'find "$MNT/clone/.git" -name "*.lock" -o -name "*.tmp" -o -name "tmp_obj_*" >"$OUT/leftover"',
    ].join('\n');
    const out = await ws.dir('full-out');
    const bare = path.join(serverRoot, 'full.git');
    await execFileAsync('unshare', ['-Urm', 'sh', '-c', script], {
      env: { ...env, PATH: process.env.PATH, MNT: mnt, CLONE: clone, OUT: out, BARE: bare },
    });
    const read = (f: string): Promise<string> =>
      readFile(path.join(out, f), 'utf8');
    expect((await read('full.rc')).trim()).toBe('1');
    expect(await read('full.err')).toMatch(
      /no space left on the disk that holds \S*\/\.git\/objects\/[0-9a-f]{2}\. Free some space and run again: nothing was published.*\(ENOSPC\)/,
    );
    expect((await read('full.main')).trim()).toBe(base);
    expect((await read('full.remote')).trim()).toBe(base);
    expect((await read('freed.rc')).trim(), await read('freed.err')).toBe('0');
    expect(JSON.parse(await read('freed.out'))).toMatchObject({ status: 'created', version: 1 });
    expect((await read('fsck.rc')).trim(), await read('fsck.out')).toBe('0');
    expect(await read('status.out')).toBe('');
    expect(await read('leftover')).toBe('');
    const remote = await checkRemote(git, bare, 'iris');
    expect(remote.keys.get(1)).toBe(run.key);
    expect((await read('freed.main')).trim()).toBe(remote.tip);
  }, 60_000);
});
