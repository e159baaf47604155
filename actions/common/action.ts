/**
 * What every pinml action shares: reading inputs through a getter (so parsing is a pure
 * function), the workspace and its repository (the token masked first), the outputs and the
 * job summary, and the outermost error handler that turns located problems into annotations
 * on the file and line and fails the step.
 */
import * as core from '@actions/core';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PinmlError, UsageError, type Problem } from '../../pipeline/errors.ts';
import { GitRepo } from '../../pipeline/git/repo.ts';
import { createGitHubClient, type GitHubClient } from '../../pipeline/github/client.ts';
import { annotations } from './annotations.ts';

/** Reads an input by its name in action.yml. */
export type InputGetter = (name: string) => string;

/** The runner's getter: `INPUT_<NAME>`, trimmed; empty when unset. */
export const runnerInput: InputGetter = (name) => core.getInput(name);

/** A required input, with a message that names it (core.getInput's own throws a stack). */
export function required(get: InputGetter, name: string): string {
  const value = get(name);
  if (value === '') throw new UsageError(`input "${name}" is required`);
  return value;
}

/** A `true`/`false` input (empty: `fallback`); anything else is a UsageError naming it. */
export function boolean(get: InputGetter, name: string, fallback = false): boolean {
  const value = get(name) || String(fallback);
  if (value !== 'true' && value !== 'false')
    throw new UsageError(`input "${name}" must be true or false, got ${JSON.stringify(value)}`);
  return value === 'true';
}

/** An optional input: `{ [key]: value }` when it is set, `{}` when it is empty. */
export function optional<K extends string>(
  get: InputGetter,
  name: string,
  key: K,
): Partial<Record<K, string>> {
  const value = get(name);
  return value === '' ? {} : ({ [key]: value } as Record<K, string>);
}

/**
 * The repository's default branch, as the run knows it: the event payload's
 * `repository.default_branch` (push, workflow_dispatch, pull_request); for a `schedule` run,
 * whose payload has no repository, the branch it runs on (GitHub runs schedules on the default
 * branch); else `main`.
 */
export function defaultBranch(env: NodeJS.ProcessEnv = process.env): string {
  try {
    const event = JSON.parse(readFileSync(env.GITHUB_EVENT_PATH ?? '', 'utf8')) as {
      repository?: { default_branch?: unknown };
    };
    const named = event.repository?.default_branch;
    if (typeof named === 'string' && named !== '') return named;
  } catch {
    // no event file (outside Actions): the rules below
  }
  if (env.GITHUB_EVENT_NAME === 'schedule' && env.GITHUB_REF_NAME) return env.GITHUB_REF_NAME;
  return 'main';
}

/**
 * The GitHub client of a step: `token`, the run's API (`GITHUB_API_URL`, a GitHub Enterprise
 * Server's included), rate-limit waits logged.
 */
export function githubClient(token: string, env: NodeJS.ProcessEnv = process.env): GitHubClient {
  return createGitHubClient({
    token,
    ...(env.GITHUB_API_URL ? { baseUrl: env.GITHUB_API_URL } : {}),
    onWait: (m) => core.info(m),
  });
}

/** The checked-out repository: GITHUB_WORKSPACE, else the current directory. */
export function workspace(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env.GITHUB_WORKSPACE ?? process.cwd());
}

/**
 * The workspace and its repository, authenticated with `token` when one is given; the token
 * is masked in the log before anything else runs.
 */
/**
 * Commits are made as the inputs `git-user-name` and `git-user-email` say, when given (as author
 * and committer: `GIT_AUTHOR_*` and `GIT_COMMITTER_*`, which win over the git configuration);
 * else as git's configuration says; else as `github-actions[bot]` (`DEFAULT_IDENTITY`).
 */
export function useCommitIdentity(get: InputGetter, env: NodeJS.ProcessEnv = process.env): void {
  const name = get('git-user-name');
  const email = get('git-user-email');
  if (name) env.GIT_AUTHOR_NAME = env.GIT_COMMITTER_NAME = name;
  if (email) env.GIT_AUTHOR_EMAIL = env.GIT_COMMITTER_EMAIL = email;
}

export function openRepository(
  token: string,
  env: NodeJS.ProcessEnv = process.env,
): { root: string; repo: GitRepo } {
  if (token) core.setSecret(token);
  const root = workspace(env);
  return { root, repo: GitRepo.open(root, { env, ...(token ? { token } : {}) }) };
}

/** Sets the step's outputs; an undefined value is left unset. */
export function setOutputs(outputs: Record<string, string | number | undefined>): void {
  for (const [name, value] of Object.entries(outputs)) {
    if (value !== undefined) core.setOutput(name, String(value));
  }
}

function annotate(problem: Problem): void {
  annotations().add(
    {
      kind: 'error',
      message: problem.message,
      properties: {
        title: problem.column
          ? `pinml: column "${problem.column}"`
          : problem.field
            ? `pinml: ${problem.field}`
            : 'pinml',
        ...(problem.file !== undefined ? { file: problem.file } : {}),
        ...(problem.line !== undefined ? { startLine: problem.line } : {}),
        ...(problem.col !== undefined ? { startColumn: problem.col } : {}),
      },
    },
    1, // the place of setFailed's own error
  );
}

/** A warning annotation, within GitHub's limits (past them, in the job summary). */
export function warn(message: string): void {
  annotations().add({ kind: 'warning', message, properties: {} });
}

/** Lists in the job summary what did not fit GitHub's annotation limits. */
async function summariseOverflow(): Promise<void> {
  const section = annotations().summary();
  if (section) await writeSummary(section).catch(() => undefined);
}

/**
 * Runs an action's body; a failure becomes annotations and `setFailed` (exit code 1). What does
 * not fit GitHub's annotation limits goes to the job summary.
 */
export async function runAction(body: () => Promise<void>): Promise<void> {
  try {
    await body();
    await summariseOverflow();
  } catch (e) {
    if (e instanceof PinmlError) {
      const problems = (e.data.problems as Problem[] | undefined) ?? [];
      for (const p of problems) annotate(p);
      await summariseOverflow();
      annotations().counted('error');
      core.setFailed(e.message);
    } else {
      annotations().counted('error');
      core.setFailed(e instanceof Error ? `unexpected error: ${e.stack ?? e.message}` : String(e));
    }
  }
}

/** Writes markdown to the job summary when the runner provides one (GITHUB_STEP_SUMMARY). */
export async function writeSummary(markdown: string): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) return;
  await core.summary.addRaw(markdown, true).write();
}
