/**
 * What every `pinml` command is given: where it reads and writes, the repository root (the
 * global `-C`), the repository, the exit code it sets, and the argument parsers they share.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../errors.ts';
import type { GitRepo } from '../git/repo.ts';
import { parseModelRef } from '../registry/messages.ts';

/** Where the CLI reads and writes: injectable so tests run it in-process. */
export interface CliIO {
  stdout: { write(text: string): unknown; isTTY?: boolean };
  stderr: { write(text: string): unknown; isTTY?: boolean };
  cwd: string;
  /** Standard input, for commands that read `-` (`pinml predict --input -`). */
  stdin?: NodeJS.ReadableStream;
  /** The environment variables a command reads (`PINML_ADMIN_TOKEN`, `PINML_DATA_DIR`; git's identity). */
  env: Readonly<Record<string, string | undefined>>;
}

/** A command's view of the CLI. */
export interface CliContext {
  io: CliIO;
  /** The repository root: `-C DIR`, resolved against the working directory. */
  root(): string;
  /** The repository at the root. */
  repo(): GitRepo;
  /** Sets the exit code for an outcome that is not an error (a gate that fails, a mismatch). */
  setExit(code: number): void;
}

/** A path as the user reads it: relative to the working directory (`.` for itself). */
export function shown(io: CliIO, file: string): string {
  return path.relative(io.cwd, file) || '.';
}

/** The run folder named, or the only one under .pinml/runs. */
export async function resolveRunDir(cli: CliContext, dir: string | undefined): Promise<string> {
  if (dir !== undefined) return path.resolve(cli.io.cwd, dir);
  const runs = path.join(cli.root(), '.pinml', 'runs');
  let names: string[] = [];
  try {
    names = await readdir(runs);
  } catch {
    // no runs yet
  }
  if (names.length === 1) return path.join(runs, names[0] as string);
  throw new UsageError(
    names.length === 0
      ? 'no run folder: train first (`pinml train`) or name the folder'
      : `several run folders under .pinml/runs (${names.join(', ')}): name one`,
  );
}

/** `iris` or `iris@3` from the command line; `needVersion` insists on the version. */
export function modelRef(text: string, needVersion: false): { model: string; version?: number };
export function modelRef(text: string, needVersion: true): { model: string; version: number };
export function modelRef(text: string, needVersion: boolean): { model: string; version?: number } {
  const parsed = parseModelRef(text);
  if (!parsed || (needVersion && parsed.version === undefined)) {
    throw new UsageError(
      `"${text}" is not a model${needVersion ? ' version' : ''}: write it as iris${needVersion ? '@3' : ' or iris@3'}`,
    );
  }
  return parsed;
}
