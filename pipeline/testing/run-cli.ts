/**
 * The `pinml` CLI run in-process for tests, with its output captured, and throw-away project
 * folders with the bundled pinml.yaml and Iris data. The one door from a test below the CLI to
 * the CLI: tests of the registry and of the steps that check what a user's command does come
 * through here (the lint rules let nothing else under `pipeline/` import `pipeline/cli/`).
 *
 * Test helper only: product code never imports it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { main } from '../cli/main.ts';

/** What one in-process run of the CLI printed and returned. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `pinml ...argv` in-process in `cwd`. */
export function pinml(cwd: string, ...argv: string[]): Promise<CliResult> {
  return pinmlWith({ cwd }, ...argv);
}

/** Runs `pinml ...argv` in-process in `cwd` with the environment `env` (default: this process's). */
export async function pinmlWith(
  where: { cwd: string; env?: Record<string, string | undefined> },
  ...argv: string[]
): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    cwd: where.cwd,
    ...(where.env === undefined ? {} : { env: where.env }),
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
  });
  return { code, stdout, stderr };
}

/** Runs `pinml ...argv` and fails with its output unless it exits 0. */
export async function pinmlOk(cwd: string, ...argv: string[]): Promise<CliResult> {
  const r = await pinml(cwd, ...argv);
  if (r.code !== 0) {
    throw new Error(`pinml ${argv.join(' ')} exited ${r.code}:\n${r.stderr}${r.stdout}`);
  }
  return r;
}

/** Temp folders for one test file, removed together. */
export function tempDirs(): { make: () => Promise<string>; remove: () => Promise<void> } {
  const made: string[] = [];
  return {
    async make() {
      const dir = await mkdtemp(path.join(tmpdir(), 'pinml-cli-'));
      made.push(dir);
      return dir;
    },
    remove: () => Promise.all(made.map((d) => rm(d, { recursive: true, force: true }))).then(),
  };
}

export { irisProject } from './iris.ts';
