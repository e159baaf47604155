/**
 * Helpers of the crash test (`crash.test.ts`): the `pinml` CLI bundled once with esbuild (so
 * each of the test's ~150 processes starts in a third of a second instead of compiling
 * TypeScript), a runner that starts `pinml register --remote` with the crash injection of
 * `crash-at.ts` and tells a kill from an exit, and the checks every kill is followed by: the
 * remote's integrity, the clone's, and no lock left.
 *
 * Test helper only: product code never imports it.
 */
import { createHash } from 'node:crypto';
import { execFile, spawn } from 'node:child_process';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { build } from 'esbuild';
import { readCodeVersion } from '../../code-version.ts';
import type { GitCli } from '../../git/testing/git-cli.ts';
import { repoRoot } from '../../testing/runtimes.ts';

/** The bundled CLI and crash injection, in a folder of the checkout (`node_modules` resolves). */
export interface Bundle {
  cli: string;
  crashAt: string;
}

/** Bundles `pipeline/cli/main.ts` and `crash-at.ts` into `.pinml/tmp/<name>/`. */
export async function bundlePinml(name: string): Promise<Bundle> {
  const out = path.join(repoRoot, '.pinml', 'tmp', name);
  await mkdir(out, { recursive: true });
  const common = {
    bundle: true,
    platform: 'node' as const,
    format: 'esm' as const,
    target: 'node20',
    packages: 'external' as const,
    logLevel: 'warning' as const,
  };
  const cli = path.join(out, 'pinml.mjs');
  await build({
    ...common,
    stdin: {
      contents:
        "import { main } from './pipeline/cli/main.ts';\nprocess.exitCode = await main(process.argv.slice(2));\n",
      resolveDir: repoRoot,
      loader: 'ts',
    },
    define: { __PINML_CODE_VERSION__: JSON.stringify(await readCodeVersion()) },
    outfile: cli,
  });
  const crashAt = path.join(out, 'crash-at.mjs');
  await build({
    ...common,
    entryPoints: [path.join(repoRoot, 'pipeline', 'registry', 'testing', 'crash-at.ts')],
    outfile: crashAt,
  });
  return { cli, crashAt };
}

/** How a `pinml` process ended. */
export interface Ended {
  killed: boolean;
  code: number | null;
  stdout: string;
  stderr: string;
  /** The last step `crash-at.ts` reached (the one it died at, when killed by it). */
  lastStep: string | undefined;
}

/**
 * Runs `pinml -C clone register --remote origin --commit <commit> --json <run>`. With
 * `crashAt` the process kills itself at that step; with `killAfterMs` the test kills it then.
 */
export async function register(
  bundle: Bundle,
  options: {
    clone: string;
    run: string;
    commit: string;
    env: NodeJS.ProcessEnv;
    crashAt?: string;
    killAfterMs?: number;
    stepLog?: string;
    args?: string[];
  },
): Promise<Ended> {
  const { clone, run, commit } = options;
  const child = spawn(
    process.execPath,
    [
      '--import',
      bundle.crashAt,
      bundle.cli,
      '-C',
      clone,
      'register',
      '--remote',
      'origin',
      '--commit',
      commit,
      '--json',
      ...(options.args ?? []),
      run,
    ],
    {
      env: {
        ...options.env,
        PINML_CRASH_DIR: clone,
        PINML_CRASH_AT: options.crashAt ?? '',
        ...(options.stepLog ? { PINML_CRASH_LOG: options.stepLog } : {}),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer =
    options.killAfterMs === undefined
      ? undefined
      : setTimeout(() => child.kill('SIGKILL'), options.killAfterMs);
  const { code, signal } = await new Promise<{ code: number | null; signal: string | null }>(
    (resolve) => child.on('close', (c, s) => resolve({ code: c, signal: s })),
  );
  clearTimeout(timer);
  const lastStep = options.stepLog
    ? (await readFile(options.stepLog, 'utf8').catch(() => ''))
        .trimEnd()
        .split('\n')
        .at(-1)
    : undefined;
  return { killed: signal === 'SIGKILL', code, stdout, stderr, lastStep };
}

/** The steps a run's log lists, in order (`<kind>#<n>`). */
export async function stepsOf(log: string): Promise<string[]> {
  return (await readFile(log, 'utf8')).split('\n').filter((l) => l !== '');
}

/** Every file under `dir` whose name ends in `.lock`, relative to `dir`. */
export async function lockFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.lock'))
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

/** What the remote holds for one model: each version's training key. */
export interface RemoteState {
  tip: string;
  /** version → training key, in version order. */
  keys: Map<number, string>;
}

/**
 * Checks the bare repository the way the issue asks after every kill: `git fsck --full
 * --strict` passes; the versions on `main` are 1…n with no gap; each card names its version
 * and an artifact whose bytes hash to the card's sha256; no training key is registered twice.
 * Throws, saying what is wrong, otherwise.
 */
export async function checkRemote(
  git: GitCli,
  bare: string,
  model: string,
): Promise<RemoteState> {
  const g = (...args: string[]): Promise<string> => git.git(bare, `--git-dir=${bare}`, ...args);
  const fsck = await new Promise<string | undefined>((resolve) =>
    execFile('git', [`--git-dir=${bare}`, 'fsck', '--full', '--strict'], (err, out, errOut) =>
      resolve(err ? `${out}${errOut}` : undefined),
    ),
  );
  if (fsck !== undefined) throw new Error(`the remote fails git fsck --full --strict: ${fsck}`);
  const tip = await g('rev-parse', 'main');
  const listing = await g('ls-tree', '--name-only', 'main', `registry/${model}/versions/`).catch(
    () => '',
  );
  const versions = listing
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => Number(l.split('/').at(-1)))
    .sort((a, b) => a - b);
  versions.forEach((v, i) => {
    if (v !== i + 1) throw new Error(`the remote's versions are not gapless: ${versions.join(', ')}`);
  });
  const keys = new Map<number, string>();
  for (const v of versions) {
    const dir = `main:registry/${model}/versions/${v}`;
    const card = JSON.parse(await g('show', `${dir}/card.json`)) as {
      version: number;
      trainingKey: string;
      artifact: { file: string; sha256: string };
    };
    if (card.version !== v) throw new Error(`versions/${v}/card.json says version ${card.version}`);
    const artifact = await gitBytes(bare, `${dir}/${card.artifact.file}`);
    const sha = createHash('sha256').update(artifact).digest('hex');
    if (sha !== card.artifact.sha256) {
      throw new Error(`versions/${v}/${card.artifact.file} has sha256 ${sha}, its card says ${card.artifact.sha256}`);
    }
    if ([...keys.values()].includes(card.trainingKey)) {
      throw new Error(`training key ${card.trainingKey} is registered twice (again as v${v})`);
    }
    keys.set(v, card.trainingKey);
  }
  return { tip, keys };
}

/** `git cat-file blob <rev>` as bytes. */
function gitBytes(bare: string, rev: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', [`--git-dir=${bare}`, 'cat-file', 'blob', rev], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => chunks.push(d));
    child.on('close', (code) =>
      code === 0 ? resolve(Buffer.concat(chunks)) : reject(new Error(`git cat-file ${rev} failed`)),
    );
  });
}
