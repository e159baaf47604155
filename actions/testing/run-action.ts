/**
 * Runs a JavaScript action the way the GitHub Actions runner does: a separate `node` process
 * (Node 20, or Node 24 as GitHub runs `using: node24`) on the action's `runs.main`, in the
 * workspace, with the runner's environment: `INPUT_<NAME>` for every input (action.yml defaults
 * filled in), the `GITHUB_*` variables, and fresh `GITHUB_OUTPUT` / `GITHUB_STEP_SUMMARY` files
 * that are read back and parsed when it exits, along with the workflow commands it printed
 * (`::error file=…,line=…::`, `::add-mask::`).
 *
 * Test helper only.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { interpolate, type Contexts } from './expressions.ts';

import type { Runtime as NodeRuntime } from '../../pipeline/testing/runtimes.ts';

export {
  node20,
  node24,
  node24Available,
  node24Path,
  repoRoot,
} from '../../pipeline/testing/runtimes.ts';
export type { NodeRuntime };

/** What the runner knows about the run (the `github` context, in part). */
export interface RunnerGitHub {
  /** `owner/repo`. */
  repository: string;
  sha: string;
  ref: string;
  eventName: string;
  /** The event payload, written to the file GITHUB_EVENT_PATH names. */
  event: Record<string, unknown>;
  /** The REST API base URL (the fake). */
  apiUrl: string;
  serverUrl?: string;
  /** The job's token (`github.token`, `secrets.GITHUB_TOKEN`). */
  token: string;
  runId?: number;
  runAttempt?: number;
  job?: string;
  actor?: string;
  /** The workflow file the run is of (`.github/workflows/train.yml`): GITHUB_WORKFLOW_REF. */
  workflow?: string;
}

/** A workflow command an action printed on stdout (`::name k=v,…::message`). */
export interface WorkflowCommand {
  command: string;
  properties: Record<string, string>;
  message: string;
}

export interface ActionResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** GITHUB_OUTPUT, parsed (both `name=value` and `name<<delimiter` forms). */
  outputs: Record<string, string>;
  /** The raw GITHUB_OUTPUT file. */
  outputFile: string;
  /** GITHUB_STEP_SUMMARY as written. */
  summary: string;
  commands: WorkflowCommand[];
  /**
   * The `error`, `warning` and `notice` commands GitHub shows: at most 10 of each kind per step
   * (the workflow runner also applies the job's 50).
   */
  annotations: WorkflowCommand[];
  /** The annotation commands past the step's limits, which GitHub drops without a word. */
  droppedAnnotations: WorkflowCommand[];
  seconds: number;
}

/** GitHub's annotation limits: per kind per step, and per job. */
export const ANNOTATION_LIMITS = { step: 10, job: 50 } as const;

/** Splits annotation commands into those GitHub shows and those it drops (per kind, per step). */
export function limitAnnotations(commands: readonly WorkflowCommand[]): {
  shown: WorkflowCommand[];
  dropped: WorkflowCommand[];
} {
  const seen = new Map<string, number>();
  const shown: WorkflowCommand[] = [];
  const dropped: WorkflowCommand[] = [];
  for (const c of commands) {
    if (!['error', 'warning', 'notice'].includes(c.command)) continue;
    const n = (seen.get(c.command) ?? 0) + 1;
    seen.set(c.command, n);
    (n <= ANNOTATION_LIMITS.step ? shown : dropped).push(c);
  }
  return { shown, dropped };
}

export interface RunActionOptions {
  /** The folder holding action.yml. */
  actionDir: string;
  runtime: NodeRuntime;
  /** GITHUB_WORKSPACE, and the process's working directory. */
  workspace: string;
  /** The step's `with:`, already evaluated. */
  inputs: Record<string, string>;
  github: RunnerGitHub;
  /** RUNNER_TEMP: a folder for the runner's files (event, outputs, summary). */
  runnerTemp: string;
  /** Contexts for the `${{ }}` in action.yml defaults (default: `github.token` only). */
  contexts?: Contexts;
  /** Extra environment (the step's `env:`). */
  env?: Record<string, string>;
  /** Kills the process after this long. */
  timeoutMs?: number;
}

/** The environment variable the runner sets for an input: upper case, spaces → `_`, hyphens kept. */
export function inputEnvName(name: string): string {
  return `INPUT_${name.replace(/ /g, '_').toUpperCase()}`;
}

interface ActionMetadata {
  runs: { using: string; main: string };
  inputs?: Record<string, { default?: string | number | boolean | null; required?: boolean }>;
}

/** Reads action.yml (or action.yaml). */
export async function readActionMetadata(actionDir: string): Promise<ActionMetadata> {
  const file = ['action.yml', 'action.yaml']
    .map((f) => path.join(actionDir, f))
    .find((f) => existsSync(f));
  if (!file) throw new Error(`${actionDir} has no action.yml`);
  return parseYaml(await readFile(file, 'utf8')) as ActionMetadata;
}

/**
 * The inputs the runner passes: every input of action.yml, given or defaulted (defaults
 * may hold `${{ github.token }}`), and the given ones action.yml does not declare (the
 * runner warns about those but passes them).
 */
export function resolveInputs(
  metadata: ActionMetadata,
  given: Record<string, string>,
  contexts: Contexts,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, spec] of Object.entries(metadata.inputs ?? {})) {
    const value = given[name];
    if (value !== undefined) out[name] = value;
    else if (spec.default !== undefined && spec.default !== null)
      out[name] = interpolate(String(spec.default), contexts);
  }
  for (const [name, value] of Object.entries(given)) out[name] ??= value;
  return out;
}

/** Parses a GITHUB_OUTPUT (or GITHUB_ENV) file as the runner does. */
export function parseOutputFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (line === '') continue;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    const eq = line.indexOf('=');
    if (heredoc && (eq < 0 || line.indexOf('<<') < eq)) {
      const [, name, delimiter] = heredoc as unknown as [string, string, string];
      const value: string[] = [];
      let closed = false;
      for (i++; i < lines.length; i++) {
        if (lines[i] === delimiter) {
          closed = true;
          break;
        }
        value.push(lines[i] ?? '');
      }
      if (!closed) throw new Error(`GITHUB_OUTPUT: ${name} has no closing delimiter ${delimiter}`);
      out[name] = value.join('\n');
    } else if (eq > 0) {
      out[line.slice(0, eq)] = line.slice(eq + 1);
    } else {
      throw new Error(`GITHUB_OUTPUT: cannot parse line "${line}"`);
    }
  }
  return out;
}

const unescapeData = (s: string): string =>
  s.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');
const unescapeProperty = (s: string): string =>
  unescapeData(s).replace(/%3A/g, ':').replace(/%2C/g, ',');

/** The workflow commands in an action's stdout. */
export function parseWorkflowCommands(stdout: string): WorkflowCommand[] {
  const commands: WorkflowCommand[] = [];
  for (const line of stdout.split(/\r?\n/)) {
    const m = /^::([\w-]+)(?: ([^:]*))?::(.*)$/.exec(line);
    if (!m) continue;
    const properties: Record<string, string> = {};
    for (const pair of (m[2] ?? '').split(',')) {
      const eq = pair.indexOf('=');
      if (eq > 0) properties[pair.slice(0, eq)] = unescapeProperty(pair.slice(eq + 1));
    }
    commands.push({ command: m[1] as string, properties, message: unescapeData(m[3] ?? '') });
  }
  return commands;
}

let sequence = 0;

/** Runs the action and collects what the runner would. Never rejects on a failing action. */
export async function runAction(options: RunActionOptions): Promise<ActionResult> {
  const metadata = await readActionMetadata(options.actionDir);
  const { using, main } = metadata.runs;
  if (using !== 'node20' && using !== 'node24')
    throw new Error(`${options.actionDir}: runs.using ${using} is not a JavaScript action`);
  const { github } = options;
  const contexts = options.contexts ?? { github: { token: github.token } };
  const inputs = resolveInputs(metadata, options.inputs, contexts);

  await mkdir(options.runnerTemp, { recursive: true });
  const files = await mkdtemp(path.join(options.runnerTemp, `step-${++sequence}-`));
  const eventPath = path.join(files, 'event.json');
  const outputPath = path.join(files, 'output');
  const summaryPath = path.join(files, 'summary.md');
  await writeFile(eventPath, JSON.stringify(github.event, null, 2));
  for (const f of [outputPath, summaryPath, 'env', 'path', 'state'])
    await writeFile(path.resolve(files, f), '');

  const [owner] = github.repository.split('/');
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: path.join(options.runnerTemp, 'home'),
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    RUNNER_OS: 'Linux',
    RUNNER_ARCH: 'X64',
    RUNNER_TEMP: options.runnerTemp,
    GITHUB_WORKSPACE: options.workspace,
    GITHUB_REPOSITORY: github.repository,
    GITHUB_REPOSITORY_OWNER: owner,
    GITHUB_SHA: github.sha,
    GITHUB_REF: github.ref,
    GITHUB_REF_NAME: github.ref.replace(/^refs\/(heads|tags)\//, ''),
    GITHUB_EVENT_NAME: github.eventName,
    GITHUB_EVENT_PATH: eventPath,
    GITHUB_OUTPUT: outputPath,
    GITHUB_STEP_SUMMARY: summaryPath,
    GITHUB_ENV: path.join(files, 'env'),
    GITHUB_PATH: path.join(files, 'path'),
    GITHUB_STATE: path.join(files, 'state'),
    GITHUB_API_URL: github.apiUrl,
    GITHUB_SERVER_URL: github.serverUrl ?? 'https://github.com',
    GITHUB_GRAPHQL_URL: `${github.apiUrl}/graphql`,
    GITHUB_RUN_ID: String(github.runId ?? 1),
    GITHUB_RUN_NUMBER: String(github.runId ?? 1),
    GITHUB_RUN_ATTEMPT: String(github.runAttempt ?? 1),
    GITHUB_JOB: github.job ?? 'job',
    GITHUB_ACTION: path.basename(options.actionDir),
    GITHUB_ACTOR: github.actor ?? 'ada',
    GITHUB_WORKFLOW: 'test',
    ...(github.workflow
      ? { GITHUB_WORKFLOW_REF: `${github.repository}/${github.workflow}@${github.ref}` }
      : {}),
    ...options.env,
  };
  for (const [name, value] of Object.entries(inputs)) env[inputEnvName(name)] = value;
  await mkdir(env.HOME as string, { recursive: true });

  const started = performance.now();
  const child = spawn(options.runtime.binary(), [path.join(options.actionDir, main)], {
    cwd: options.workspace,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
  const exitCode = await new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  }).finally(() => clearTimeout(timer));

  const outputFile = await readFile(outputPath, 'utf8');
  const commands = parseWorkflowCommands(stdout);
  const { shown, dropped } = limitAnnotations(commands);
  return {
    exitCode,
    stdout,
    stderr,
    outputs: parseOutputFile(outputFile),
    outputFile,
    summary: await readFile(summaryPath, 'utf8'),
    commands,
    annotations: shown,
    droppedAnnotations: dropped,
    seconds: (performance.now() - started) / 1000,
  };
}

/** Every place a secret could leak from a step, except the `::add-mask::` command that hides it. */
export function leakedSecret(result: ActionResult, secret: string): string[] {
  const where: string[] = [];
  const stdout = result.stdout
    .split('\n')
    .filter((l) => !l.startsWith('::add-mask::'))
    .join('\n');
  if (stdout.includes(secret)) where.push('stdout');
  if (result.stderr.includes(secret)) where.push('stderr');
  if (result.outputFile.includes(secret)) where.push('outputs');
  if (result.summary.includes(secret)) where.push('summary');
  return where;
}
