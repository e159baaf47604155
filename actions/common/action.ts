/**
 * What every pinml action shares: reading inputs through a getter (so parsing is a pure
 * function), the workspace root, and the outermost error handler that turns located problems
 * into annotations on the file and line and fails the step.
 */
import * as core from '@actions/core';
import path from 'node:path';
import { PinmlError, type Problem } from '../../pipeline/errors.ts';

/** Reads an input by its name in action.yml. */
export type InputGetter = (name: string) => string;

/** The runner's getter: `INPUT_<NAME>`, trimmed; empty when unset. */
export const runnerInput: InputGetter = (name) => core.getInput(name);

/** A required input, with a message that names it (core.getInput's own throws a stack). */
export function required(get: InputGetter, name: string): string {
  const value = get(name);
  if (value === '') throw new PinmlError('E_USAGE', `input "${name}" is required`);
  return value;
}

/** A yes/no input (`true`/`false`, empty for the default). */
export function flag(get: InputGetter, name: string, fallback: boolean): boolean {
  const value = get(name).toLowerCase();
  if (value === '') return fallback;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new PinmlError('E_USAGE', `input "${name}" must be true or false, not "${value}"`);
}

/** The checked-out repository: GITHUB_WORKSPACE, else the current directory. */
export function workspace(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env.GITHUB_WORKSPACE ?? process.cwd());
}

function annotate(problem: Problem): void {
  core.error(problem.message, {
    title: problem.column
      ? `pinml: column "${problem.column}"`
      : problem.field
        ? `pinml: ${problem.field}`
        : 'pinml',
    file: problem.file,
    ...(problem.line !== undefined ? { startLine: problem.line } : {}),
    ...(problem.col !== undefined ? { startColumn: problem.col } : {}),
  });
}

/** Runs an action's body; a failure becomes annotations and `setFailed` (exit code 1). */
export async function runAction(body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (e) {
    if (e instanceof PinmlError) {
      const problems = (e.data.problems as Problem[] | undefined) ?? [];
      for (const p of problems) annotate(p);
      core.setFailed(e.message);
    } else {
      core.setFailed(e instanceof Error ? `unexpected error: ${e.stack ?? e.message}` : String(e));
    }
  }
}

/** Writes markdown to the job summary when the runner provides one (GITHUB_STEP_SUMMARY). */
export async function writeSummary(markdown: string): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) return;
  await core.summary.addRaw(markdown, true).write();
}
