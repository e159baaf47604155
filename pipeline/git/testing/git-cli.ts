/**
 * The real git CLI for tests, in an environment of their own: no user or system config, a
 * fixed identity, and dates the test controls when it needs them.
 *
 * Test helper only: product code never imports it. The runners are asynchronous, because a
 * synchronous `git` talking to a server in the same process deadlocks (see `git-server.ts`).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/**
 * The git CLI's environment: `home` as HOME, no system config, author and committer Ada, no
 * terminal prompt; with `date` (git's date format, e.g. `@1700000000 +0000`) as both the
 * author and the committer date.
 */
export function gitEnv(home: string, date?: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: home,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_AUTHOR_NAME: 'Ada',
    GIT_AUTHOR_EMAIL: 'ada@example.com',
    GIT_COMMITTER_NAME: 'Ada',
    GIT_COMMITTER_EMAIL: 'ada@example.com',
    ...(date === undefined ? {} : { GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date }),
    GIT_TERMINAL_PROMPT: '0',
  };
}

/** The git CLI for one environment; its functions can be destructured. */
export interface GitCli {
  /** Runs `git ...args` in `cwd`; resolves to its output without the final newline, or rejects. */
  git: (cwd: string, ...args: string[]) => Promise<string>;
  /** Runs `git ...args` in `cwd`; resolves to whether it succeeded and, if not, its stderr. */
  gitStatus: (cwd: string, ...args: string[]) => Promise<{ ok: boolean; stderr: string }>;
}

/** A git CLI that runs every command in the environment `env()` returns at that moment. */
export function gitCli(env: () => NodeJS.ProcessEnv): GitCli {
  return {
    async git(cwd, ...args) {
      const { stdout } = await execFileAsync('git', args, { cwd, env: env() });
      return stdout.replace(/\n$/, '');
    },
    async gitStatus(cwd, ...args) {
      try {
        await execFileAsync('git', args, { cwd, env: env() });
        return { ok: true, stderr: '' };
      } catch (err) {
        return { ok: false, stderr: String((err as { stderr?: string }).stderr ?? err) };
      }
    },
  };
}
