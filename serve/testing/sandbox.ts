/**
 * A throw-away copy of this repository for end-to-end tests and the benchmark: the tracked
 * files (and untracked ones git does not ignore) in a temporary folder, a fresh `main` with one
 * commit, `node_modules` linked, an empty registry and two fast candidates, one at a time. The
 * real pinml CLI registers iris@1 (a small random forest) and promotes it with `--merge`; then,
 * with the logistic regression as the only candidate, registers iris@2 (not pinned).
 * Pins then move with the real git CLI, as a reviewer merging a pull request would.
 *
 * Test helper only: product code never imports it.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { gitCli, gitEnv } from '../../pipeline/git/testing/git-cli.ts';
import { canonicalJson } from '../../pipeline/json.ts';
import { irisTestConfig } from '../../pipeline/testing/iris.ts';

const execFileAsync = promisify(execFile);
const ROOT = new URL('../../', import.meta.url).pathname;

/** A sandbox repository. */
export interface Sandbox {
  dir: string;
  /** The real git CLI in the sandbox (its own HOME, fixed identity). */
  git(...args: string[]): Promise<string>;
  /** The pinml CLI of the sandbox's own copy. */
  pinml(...args: string[]): Promise<string>;
  /** Commits `registry/iris/pins.json` pinning `version` on main; returns the commit. */
  pin(version: number | null, message?: string): Promise<string>;
  /** `main`'s commit. */
  head(): Promise<string>;
  remove(): Promise<void>;
}

/** Builds a sandbox (about 5 s: two short trainings and a promotion). */
export async function createSandbox(): Promise<Sandbox> {
  const dir = await mkdtemp(join(tmpdir(), 'pinml-serve-sandbox-'));
  const home = await mkdtemp(join(tmpdir(), 'pinml-serve-home-'));
  const { git } = gitCli(() => gitEnv(home));
  const run = async (cmd: string, args: string[], cwd: string): Promise<string> => {
    try {
      const { stdout } = await execFileAsync(cmd, args, {
        cwd,
        env: { ...gitEnv(home), NO_COLOR: '1' },
        maxBuffer: 64 * 1024 * 1024,
      });
      return stdout;
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string; message: string };
      throw new Error(
        `${cmd} ${args.join(' ')} failed in ${cwd}: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`,
      );
    }
  };
  const files = (await run('git', ['ls-files', '-co', '--exclude-standard', '-z'], ROOT))
    .split('\0')
    .filter((f) => f !== '' && !f.startsWith('registry/iris/') && !f.startsWith('.pinml/'));
  await writeFile(join(dir, '.files'), files.join('\0'));
  await run(
    'sh',
    ['-c', `tar -C "$0" --null -T "$1/.files" -cf - | tar -C "$1" -xf -`, ROOT, dir],
    dir,
  );
  await rm(join(dir, '.files'));
  await symlink(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  await writeFile(join(dir, 'pinml.yaml'), irisTestConfig({ candidates: ['forest-small'] }));

  const pinml = (...args: string[]): Promise<string> =>
    run('node', ['pipeline/bin/pinml.js', ...args], dir);
  await git(dir, 'init', '--quiet', '--initial-branch=main');
  await git(dir, 'add', '--all');
  await git(dir, 'commit', '--quiet', '-m', 'sandbox');
  const registered = async (version: number): Promise<void> => {
    const card = await readFile(
      join(dir, `registry/iris/versions/${version}/card.json`),
      'utf8',
    ).catch(() => '');
    if (card === '') throw new Error(`the sandbox pipeline did not register iris@${version}`);
  };
  await pinml('pipeline');
  await registered(1);
  await pinml('promote', 'iris@1', '--merge');
  await writeFile(join(dir, 'pinml.yaml'), irisTestConfig({ candidates: ['logistic-fast'] }));
  await git(dir, 'commit', '--quiet', '-am', 'sandbox: the logistic regression alone');
  await pinml('pipeline');
  await registered(2);
  await git(dir, 'reset', '--quiet', '--hard');

  const pinsFile = join(dir, 'registry/iris/pins.json');
  return {
    dir,
    git: (...args) => git(dir, ...args),
    pinml,
    async pin(version, message) {
      await writeFile(
        pinsFile,
        canonicalJson({ formatVersion: 1, model: 'iris', production: version }),
      );
      await git(
        dir,
        'commit',
        '--quiet',
        '-m',
        message ?? `pin iris@${version}`,
        '--',
        'registry/iris/pins.json',
      );
      return git(dir, 'rev-parse', 'HEAD');
    },
    head: () => git(dir, 'rev-parse', 'main'),
    async remove() {
      await rm(dir, { recursive: true, force: true });
      await rm(home, { recursive: true, force: true });
    },
  };
}
