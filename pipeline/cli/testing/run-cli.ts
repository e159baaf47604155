/**
 * Test helpers for the CLI's own tests: `pinml` run in-process with its output captured, and
 * throw-away project folders with the bundled pinml.yaml and Iris data.
 *
 * Test helper only: product code never imports it.
 */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../main.ts';

/** The root of this repository (where `pinml.yaml` and `data/iris.csv` live). */
export const repoRoot = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  '..',
);

/** What one in-process run of the CLI printed and returned. */
export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `pinml ...argv` in-process in `cwd`. */
export function pinml(cwd: string, ...argv: string[]): Promise<Result> {
  return pinmlWith({ cwd }, ...argv);
}

/** Runs `pinml ...argv` in-process in `cwd` with the environment `env` (default: this process's). */
export async function pinmlWith(
  where: { cwd: string; env?: Record<string, string | undefined> },
  ...argv: string[]
): Promise<Result> {
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

/** A repository-like folder with the bundled pinml.yaml and Iris data, in `dir`. */
export async function irisProject(dir: string): Promise<string> {
  await cp(path.join(repoRoot, 'pinml.yaml'), path.join(dir, 'pinml.yaml'));
  await cp(path.join(repoRoot, 'data'), path.join(dir, 'data'), { recursive: true });
  return dir;
}
