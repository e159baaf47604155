/**
 * What the tests of the git adapter share: a scratch folder, the real git CLI dated by a clock
 * the tests advance, an identity with a later time on every call, repositories made by the
 * CLI, and a check that a call fails with a given GitError reason.
 *
 * Test helper only: product code never imports it. A test file makes one fixture and wires
 * its `setup` and `teardown` to `beforeAll` and `afterAll`.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { GitError } from '../../errors.ts';
import type { GitIdentity } from '../repo.ts';
import { gitCli, gitEnv } from './git-cli.ts';

/** A scratch folder with the git CLI and repository makers. */
export interface RepoFixture {
  /** Creates the scratch folder. */
  setup: () => Promise<void>;
  /** Removes the scratch folder. */
  teardown: () => Promise<void>;
  /** Runs the git CLI, each command dated a minute after the last date handed out. */
  git: (cwd: string, ...args: string[]) => Promise<string>;
  /** The next identity with a later time, so commits are deterministic and ordered. */
  ada: () => GitIdentity;
  /** A new empty folder in the scratch folder. */
  freshDir: (name: string) => Promise<string>;
  /** A repository made by the git CLI with one commit of `files` on `main`. */
  cliRepo: (files: Record<string, string>) => Promise<string>;
  /** Writes (or, for `null`, removes) `files` and commits them with the git CLI; the new oid. */
  commitFiles: (
    dir: string,
    files: Record<string, string | null>,
    message: string,
  ) => Promise<string>;
}

/** A fixture whose scratch folder is named after `prefix`. */
export function repoFixture(prefix: string): RepoFixture {
  let work = '';
  let clock = 1_700_000_000;
  let seq = 0;
  const { git } = gitCli(() => {
    clock += 60;
    return gitEnv(work, `@${clock} +0000`);
  });
  const freshDir = async (name: string): Promise<string> => {
    seq += 1;
    const dir = join(work, `${name}-${seq}`);
    await mkdir(dir, { recursive: true });
    return dir;
  };
  const commitFiles = async (
    dir: string,
    files: Record<string, string | null>,
    message: string,
  ): Promise<string> => {
    for (const [path, content] of Object.entries(files)) {
      if (content === null) await git(dir, 'rm', '--quiet', path);
      else {
        await mkdir(join(dir, path, '..'), { recursive: true });
        await writeFile(join(dir, path), content);
        await git(dir, 'add', path);
      }
    }
    await git(dir, 'commit', '--quiet', '--allow-empty', '-m', message);
    return git(dir, 'rev-parse', 'HEAD');
  };
  return {
    setup: async () => {
      work = await mkdtemp(join(tmpdir(), prefix));
    },
    teardown: async () => {
      await rm(work, { recursive: true, force: true });
    },
    git,
    ada: () => {
      clock += 60;
      return { name: 'Ada', email: 'ada@example.com', timestamp: clock, timezoneOffset: 0 };
    },
    freshDir,
    cliRepo: async (files) => {
      const dir = await freshDir('cli');
      await git(dir, 'init', '--quiet', '--initial-branch=main');
      await commitFiles(dir, files, 'initial');
      return dir;
    },
    commitFiles,
  };
}

/** Awaits `promise` and checks it fails with a GitError of `reason`; returns the error. */
export async function expectGitError(
  promise: Promise<unknown>,
  reason: GitError['reason'],
): Promise<GitError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(GitError);
    const e = err as GitError;
    expect(e.reason, e.message).toBe(reason);
    return e;
  }
  throw new Error(`expected a GitError "${reason}", but the call succeeded`);
}
