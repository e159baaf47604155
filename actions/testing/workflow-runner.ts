/**
 * Runs a workflow file the way GitHub Actions would, against the sandbox's git server and
 * fake GitHub, for end-to-end tests. The workflow is read from the event's commit and parsed
 * with GitHub's own parser (`@actions/workflow-parser`); expressions are evaluated with GitHub's
 * own evaluator (`@actions/expressions`).
 *
 * What it does as the runner does: `on:` filters (branches, paths) decide whether an event
 * triggers the workflow; jobs run in `needs` order (independent ones and matrix legs in
 * parallel, each on a fresh "runner" folder); `strategy.matrix` is expanded (axes, `include`,
 * `exclude`, `fromJSON(needs.x.outputs.y)`) and its legs run with `max-parallel` and
 * `fail-fast` (`strategy.ts`); job and step `if:` conditions, `with:`, `env:`,
 * job `outputs` and `concurrency` groups are evaluated (the groups are the repository's, shared by
 * every run against the sandbox, with GitHub's one-pending-per-group rule: `concurrency.ts`); each job's token is the write token
 * when the job is granted `contents: write`, else a read-only one. Steps that use a
 * JavaScript action of the repository (`./actions/x`) run its bundle as a separate node process
 * on the runtime action.yml names (node24: the Node 24 binary). The standard steps are
 * emulated: actions/checkout (the event's commit, shallow unless `fetch-depth: 0`),
 * upload-artifact and download-artifact (a per-run artifact store; `name`, `pattern`, `path`,
 * `merge-multiple`, `include-hidden-files`, `if-no-files-found`), setup-node and cache (no-ops),
 * create-github-app-token (an installation token of a test app: `Sandbox.appToken`).
 * Anything else (a `run:` step, another action) fails the step: the harness does not pretend.
 *
 * Test helper only.
 */
import { cp, mkdir, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import {
  convertWorkflowTemplate,
  NoOperationTraceWriter,
  parseWorkflow,
} from '@actions/workflow-parser';
import type { MappingToken } from '@actions/workflow-parser/templates/tokens/mapping-token';
import type { SequenceToken } from '@actions/workflow-parser/templates/tokens/sequence-token';
import type { TemplateToken } from '@actions/workflow-parser/templates/tokens/template-token';
import type { Job, Step, WorkflowTemplate } from '@actions/workflow-parser/model/workflow-template';
import {
  asString,
  evaluate,
  evaluateToken,
  truthy,
  type Contexts,
  type Json,
} from './expressions.ts';
import {
  ANNOTATION_LIMITS,
  node20,
  node24,
  readActionMetadata,
  runAction,
  type ActionResult,
  type NodeRuntime,
} from './run-action.ts';
import { concurrencyOf } from './concurrency.ts';
import { runStrategy, strategyOptions, type StrategyOptions } from './strategy.ts';
import type { TokenPermissions } from '../../pipeline/github/testing/fake-github.ts';
import type { Sandbox } from './sandbox.ts';

export type Result = 'success' | 'failure' | 'skipped' | 'cancelled';

/** The event that starts a run. */
export interface WorkflowEvent {
  /**
   * `schedule`: a cron run (GitHub gives it no inputs: `inputs.*` are empty). `pull_request`
   * and `workflow_run`: build them with `Sandbox.pullRequestEvent` and `workflowRunEvent`.
   */
  name: 'push' | 'workflow_dispatch' | 'schedule' | 'pull_request' | 'workflow_run';
  /**
   * GITHUB_SHA: the pushed commit, the branch tip a dispatch ran on, a pull request's merge
   * commit (`refs/pull/<n>/merge`), the default branch's tip for a `workflow_run`.
   */
  sha: string;
  /** Default `refs/heads/main`; `refs/pull/<n>/merge` for a pull request. */
  ref?: string;
  /** For a push: the commit before it (for `paths` filters). */
  before?: string;
  /** For a push or a pull request: the files it changed (for `paths` filters). */
  changed?: string[];
  /** For a dispatch: the inputs given. */
  inputs?: Record<string, string>;
  /** For a pull request: which, and what happened to it. */
  pull?: PullRequestInfo;
  /** For a `workflow_run`: the run that completed. */
  completed?: WorkflowRun;
}

/** A pull request as its event names it. */
export interface PullRequestInfo {
  number: number;
  action: 'opened' | 'synchronize' | 'reopened';
  base: { ref: string; sha: string };
  /** `repo`: the head repository's full name (another one for a fork's pull request). */
  head: { ref: string; sha: string; repo: string };
}

export interface StepRun {
  id: string;
  uses: string;
  result: Result;
  outputs: Record<string, string>;
  /** Its `with:` as evaluated (absent when the step was skipped). */
  inputs?: Record<string, string>;
  /** The action's process, for steps that ran one. */
  action?: ActionResult;
  error?: string;
}

export interface JobInstanceRun {
  job: string;
  name: string;
  matrix: Record<string, Json>;
  result: Result;
  steps: StepRun[];
  outputs: Record<string, string>;
  workspace?: string;
  /** The job's token (`github.token`): `Sandbox.permissions` says what it may do. */
  token?: string;
}

export interface JobRun {
  result: Result;
  outputs: Record<string, string>;
  instances: JobInstanceRun[];
}

export interface WorkflowRun {
  /** False when the event does not match the workflow's `on:` (nothing ran). */
  triggered: boolean;
  runId: number;
  attempt: number;
  /** The workflow file. */
  workflow: string;
  /** The workflow's `name:` (its file path without one), as `workflow_run` filters name it. */
  name: string;
  event: WorkflowEvent;
  jobs: Record<string, JobRun>;
  /** Every step that ran an action process, in order of completion. */
  actions: ActionResult[];
  /** What happened, one line per job and step: print it when a test fails. */
  log: string[];
  seconds: number;
}

export interface RunWorkflowOptions {
  /** The workflow file, relative to the repository root (`.github/workflows/train.yml`). */
  workflow: string;
  event: WorkflowEvent;
  /** Secrets besides GITHUB_TOKEN (e.g. `PINML_TOKEN`); none by default. */
  secrets?: Record<string, string>;
  /** Configuration variables (the `vars` context: repository and organisation variables). */
  vars?: Record<string, string>;
  /** The runtime for `using: node24` actions (default Node 24; node20 actions run on Node 20). */
  runtime?: NodeRuntime;
  /** Re-run these jobs (and the jobs that need them) of a previous run, as a new attempt. */
  rerun?: { run: WorkflowRun; jobs: string[] };
  /**
   * Repositories whose actions a workflow uses as `<owner>/<repo>/actions/<name>@<ref>`, by
   * `owner/repo`, mapped to a local checkout of them (the runner would download them).
   */
  remoteActions?: Record<string, string>;
  /**
   * Job instances (by their evaluated name, e.g. `Train iris / logistic-fast`) whose runner is
   * lost before their first step, as GitHub reports a hosted runner that stopped answering: the
   * instance fails with no step run.
   */
  lostRunners?: string[];
}

const STANDARD = {
  checkout: 'actions/checkout',
  upload: 'actions/upload-artifact',
  download: 'actions/download-artifact',
  noop: ['actions/setup-node', 'actions/cache'],
  appToken: 'actions/create-github-app-token',
} as const;

/** A `*`/`**`/`?` glob (as workflow filters and artifact patterns use) as a regular expression. */
export function globToRegExp(glob: string): RegExp {
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '*' && glob[i + 1] === '*') {
      source += '.*';
      i++;
      if (glob[i + 1] === '/') i++;
    } else if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else source += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

function matchesAny(value: string, globs: readonly string[]): boolean {
  let matched = false;
  // GitHub: a later pattern starting with ! excludes what earlier ones included.
  for (const g of globs) {
    if (g.startsWith('!')) {
      if (globToRegExp(g.slice(1)).test(value)) matched = false;
    } else if (globToRegExp(g).test(value)) matched = true;
  }
  return matched;
}

/** An event as `on:` filters see it: a run's event, or one a run caused (`events.ts`). */
export type TriggerEvent =
  | (WorkflowEvent & { name: 'push' | 'workflow_dispatch' | 'schedule' })
  | { name: 'pull_request'; action: string; base: string; changed: string[] }
  | { name: 'repository_dispatch'; type: string }
  | { name: 'workflow_run'; workflow: string; action: 'completed'; branch: string };

/** A run's event as `on:` filters see it. */
function asTrigger(event: WorkflowEvent, ref: string): TriggerEvent {
  if (event.name === 'pull_request') {
    if (!event.pull)
      throw new Error('a pull_request event needs `pull` (Sandbox.pullRequestEvent)');
    const { action, base } = event.pull;
    return { name: 'pull_request', action, base: base.ref, changed: event.changed ?? [] };
  }
  if (event.name === 'workflow_run') {
    const run = event.completed;
    if (!run) throw new Error('a workflow_run event needs `completed` (workflowRunEvent)');
    const branch = run.event.pull?.head.ref ?? (run.event.ref ?? '').replace(/^refs\/heads\//, '');
    return { name: 'workflow_run', workflow: run.name, action: 'completed', branch };
  }
  return { ...event, name: event.name, ref };
}

/** A finished run's conclusion, as `workflow_run` reports it. */
export function conclusionOf(run: WorkflowRun): 'success' | 'failure' | 'cancelled' {
  const results = Object.values(run.jobs).map((j) => j.result);
  if (results.includes('failure')) return 'failure';
  if (results.includes('cancelled')) return 'cancelled';
  return 'success';
}

/** The event of a finished run's `workflow_run: completed`, run on the default branch's tip. */
export function workflowRunEvent(completed: WorkflowRun, defaultBranchTip: string): WorkflowEvent {
  return { name: 'workflow_run', sha: defaultBranchTip, completed };
}

type Filters = NonNullable<WorkflowTemplate['events']['push']>;

/** A `push` or `pull_request` filter's verdict on a branch and the files changed. */
function passes(filter: Filters, branch: string, changed: readonly string[]): boolean {
  if (filter.branches && !matchesAny(branch, filter.branches)) return false;
  if (filter['branches-ignore'] && matchesAny(branch, filter['branches-ignore'])) return false;
  if (filter.paths && !changed.some((f) => matchesAny(f, filter.paths ?? []))) return false;
  if (filter['paths-ignore'] && changed.every((f) => matchesAny(f, filter['paths-ignore'] ?? [])))
    return false;
  return true;
}

/**
 * Whether `event` triggers a workflow with these `on:` events. A pull request's branch filters
 * match its base branch, its `types` default to opened, synchronize and reopened.
 */
export function triggers(events: WorkflowTemplate['events'], event: TriggerEvent): boolean {
  if (event.name === 'workflow_dispatch') return events.workflow_dispatch !== undefined;
  if (event.name === 'schedule') return (events.schedule ?? []).length > 0;
  if (event.name === 'repository_dispatch') {
    const on = events.repository_dispatch;
    return on !== undefined && (on.types === undefined || on.types.includes(event.type));
  }
  if (event.name === 'workflow_run') {
    const on = events.workflow_run;
    if (on === undefined || !(on.workflows ?? []).includes(event.workflow)) return false;
    if (on.types !== undefined && !on.types.includes(event.action)) return false;
    return passes(on, event.branch, []);
  }
  if (event.name === 'pull_request') {
    const on = events.pull_request;
    if (on === undefined) return false;
    if (!(on.types ?? ['opened', 'synchronize', 'reopened']).includes(event.action)) return false;
    return passes(on, event.base, event.changed);
  }
  const push = events.push;
  if (push === undefined) return false;
  // GitHub: a workflow that filters only branches runs for no tag, one that filters only tags
  // for no branch; paths are not evaluated for a tag.
  const ref = event.ref ?? 'refs/heads/main';
  const branchFilter = push.branches !== undefined || push['branches-ignore'] !== undefined;
  const tagFilter = push.tags !== undefined || push['tags-ignore'] !== undefined;
  if (ref.startsWith('refs/tags/')) {
    if (branchFilter && !tagFilter) return false;
    const tag = ref.slice('refs/tags/'.length);
    if (push.tags && !matchesAny(tag, push.tags)) return false;
    return !(push['tags-ignore'] && matchesAny(tag, push['tags-ignore']));
  }
  if (tagFilter && !branchFilter) return false;
  return passes(push, ref.replace(/^refs\/heads\//, ''), event.changed ?? []);
}

/** Expands `strategy.matrix` into its combinations, with GitHub's `include`/`exclude` rules. */
export function expandMatrix(matrix: Json): Record<string, Json>[] {
  if (matrix === null || typeof matrix !== 'object' || Array.isArray(matrix))
    throw new Error(`strategy.matrix must be a mapping, not ${JSON.stringify(matrix)}`);
  const { include = [], exclude = [], ...axes } = matrix;
  if (!Array.isArray(include) || !Array.isArray(exclude))
    throw new Error('strategy.matrix include and exclude must be lists');
  const same = (a: Json | undefined, b: Json | undefined): boolean =>
    JSON.stringify(a) === JSON.stringify(b);
  let combos: Record<string, Json>[] = Object.keys(axes).length > 0 ? [{}] : [];
  for (const [key, values] of Object.entries(axes)) {
    if (!Array.isArray(values) || values.length === 0)
      throw new Error(`strategy.matrix.${key} must be a non-empty list`);
    combos = combos.flatMap((c) => values.map((v) => ({ ...c, [key]: v })));
  }
  combos = combos.filter(
    (c) =>
      !exclude.some(
        (e) =>
          e !== null && typeof e === 'object' && Object.entries(e).every(([k, v]) => same(c[k], v)),
      ),
  );
  // An include entry extends every original combination whose original values it keeps;
  // one that extends none becomes a combination of its own.
  const original = combos.map((c) => ({ ...c }));
  for (const entry of include) {
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry))
      throw new Error('each strategy.matrix.include entry must be a mapping');
    let added = false;
    original.forEach((base, i) => {
      if (Object.entries(entry).every(([k, v]) => !(k in base) || same(base[k], v))) {
        Object.assign(combos[i] as Record<string, Json>, entry);
        added = true;
      }
    });
    if (!added) combos.push({ ...entry });
  }
  if (combos.length === 0) throw new Error('strategy.matrix expands to no job');
  return combos;
}

/** The raw token of a step (for `with:`, which the converted template leaves out). */
function rawSteps(root: TemplateToken, job: string): MappingToken[] {
  const jobs = (root as MappingToken).find('jobs') as MappingToken | undefined;
  const steps = (jobs?.find(job) as MappingToken | undefined)?.find('steps') as
    SequenceToken | undefined;
  return steps ? ([...steps] as MappingToken[]) : [];
}

async function listFiles(dir: string, includeHidden: boolean, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (!includeHidden && entry.name.startsWith('.')) continue;
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory())
      out.push(...(await listFiles(path.join(dir, entry.name), includeHidden, rel)));
    else out.push(rel);
  }
  return out;
}

/** Each permission of a job's `permissions:` at most `read` (a fork's pull request). */
function readOnly(asked: Json): Json {
  if (asked === 'write-all' || asked === 'read-all') return 'read-all';
  if (asked === null || typeof asked !== 'object' || Array.isArray(asked)) return asked;
  return Object.fromEntries(Object.entries(asked).map(([k, v]) => [k, v === 'write' ? 'read' : v]));
}

type RepositoryJson = { full_name: string; owner: { login: string } } & Record<string, unknown>;

/** The head or base repository of a pull request, as its payload shows it. */
function repoJson(fullName: string, base: RepositoryJson): Record<string, unknown> {
  if (fullName === base.full_name) return { ...base, fork: false };
  const [login = '', name = ''] = fullName.split('/');
  return { name, full_name: fullName, owner: { login }, fork: true };
}

/** A `pull_request` payload's own part. */
function pullRequestPayload(
  event: WorkflowEvent,
  repository: RepositoryJson,
): Record<string, unknown> {
  const pull = event.pull as PullRequestInfo;
  return {
    action: pull.action,
    number: pull.number,
    pull_request: {
      number: pull.number,
      html_url: `https://github.com/${repository.full_name}/pull/${String(pull.number)}`,
      head: { ...pull.head, repo: repoJson(pull.head.repo, repository) },
      base: { ...pull.base, repo: repoJson(repository.full_name, repository) },
    },
  };
}

/**
 * A `workflow_run` payload's own part. As GitHub fills it, `pull_requests` is empty when the
 * run's pull request comes from a fork: the workflow must find it by head branch and commit.
 */
function workflowRunPayload(
  event: WorkflowEvent,
  repository: RepositoryJson,
): Record<string, unknown> {
  const completed = event.completed as WorkflowRun;
  const pull = completed.event.pull;
  const headRepo = pull?.head.repo ?? repository.full_name;
  return {
    action: 'completed',
    workflow_run: {
      id: completed.runId,
      name: completed.name,
      path: completed.workflow,
      event: completed.event.name,
      status: 'completed',
      conclusion: conclusionOf(completed),
      run_attempt: completed.attempt,
      head_sha: pull?.head.sha ?? completed.event.sha,
      head_branch: pull?.head.ref ?? (completed.event.ref ?? '').replace(/^refs\/heads\//, ''),
      head_repository: repoJson(headRepo, repository),
      repository,
      html_url: `https://github.com/${repository.full_name}/actions/runs/${String(completed.runId)}`,
      pull_requests:
        pull && headRepo === repository.full_name
          ? [
              {
                number: pull.number,
                head: { ref: pull.head.ref, sha: pull.head.sha },
                base: { ref: pull.base.ref, sha: pull.base.sha },
              },
            ]
          : [],
    },
  };
}

let runs = 0;
/** Who uploaded each artifact of a run, by run id (a later upload needs `overwrite: true`). */
const artifactOwnersByRun = new Map<number, Map<string, string>>();

/** Runs (or re-runs) a workflow for an event. */
export async function runWorkflow(
  sandbox: Sandbox,
  options: RunWorkflowOptions,
): Promise<WorkflowRun> {
  const started = performance.now();
  const { event } = options;
  const ref = event.ref ?? `refs/heads/${sandbox.defaultBranch}`;
  const content = await sandbox.show(event.sha, options.workflow);
  if (content === undefined) throw new Error(`${options.workflow} does not exist at ${event.sha}`);
  const parsed = parseWorkflow({ name: options.workflow, content }, new NoOperationTraceWriter());
  const errors = parsed.context.errors.getErrors().map((e) => e.message);
  if (!parsed.value || errors.length > 0)
    throw new Error(`${options.workflow}: ${errors.join('; ')}`);
  const template = await convertWorkflowTemplate(parsed.context, parsed.value);
  if (template.errors?.length)
    throw new Error(`${options.workflow}: ${template.errors.map((e) => e.Message).join('; ')}`);
  const root = parsed.value;
  const rawDoc = root as MappingToken;

  const previous = options.rerun?.run;
  const runId = previous?.runId ?? ++runs;
  const attempt = (previous?.attempt ?? 0) + 1;
  const nameToken = rawDoc.find('name');
  const run: WorkflowRun = {
    triggered: triggers(template.events, asTrigger(event, ref)),
    runId,
    attempt,
    workflow: options.workflow,
    name: nameToken ? asString(evaluateToken(nameToken, {})) : options.workflow,
    event,
    jobs: {},
    actions: [],
    log: [],
    seconds: 0,
  };
  if (!run.triggered) {
    run.log.push(`${options.workflow} is not triggered by this ${event.name}`);
    return run;
  }

  const artifacts = path.join(sandbox.root, 'artifacts', `run-${runId}`);
  await mkdir(artifacts, { recursive: true });
  const artifactOwners = artifactOwnersByRun.get(runId) ?? new Map<string, string>();
  artifactOwnersByRun.set(runId, artifactOwners);

  // Dispatch inputs, with the defaults declared in the workflow.
  const inputs: Record<string, Json> = {};
  if (event.name === 'workflow_dispatch') {
    for (const [name, spec] of Object.entries(template.events.workflow_dispatch?.inputs ?? {})) {
      const given = event.inputs?.[name];
      if (given === undefined && spec.required) throw new Error(`input ${name} is required`);
      inputs[name] = given ?? (spec.default as Json | undefined) ?? '';
    }
  }
  // As GitHub sends them: a schedule's payload names its cron only, no repository.
  const repository = {
    name: sandbox.repo,
    full_name: sandbox.repository,
    owner: { login: sandbox.owner },
    default_branch: sandbox.defaultBranch,
    clone_url: sandbox.url,
  };
  const payload: Record<string, unknown> =
    event.name === 'schedule'
      ? { schedule: (template.events.schedule ?? [])[0]?.cron ?? '' }
      : {
          ref,
          repository,
          sender: { login: 'ada' },
          ...(event.name === 'push'
            ? {
                before: event.before ?? '0'.repeat(40),
                after: event.sha,
                head_commit: { id: event.sha },
              }
            : event.name === 'pull_request'
              ? pullRequestPayload(event, repository)
              : event.name === 'workflow_run'
                ? workflowRunPayload(event, repository)
                : { inputs }),
        };
  // A fork's pull request: GitHub gives its jobs a read-only token, no secret but that token,
  // and no configuration variables, whatever the workflow asks for.
  const fork = event.name === 'pull_request' && event.pull?.head.repo !== sandbox.repository;

  // Without a permissions key the token gets the repository's default, taken here as write-all.
  const permissionsOf = (jobId: string): Json => {
    const job = (rawDoc.find('jobs') as MappingToken).find(jobId) as MappingToken;
    const own = job.find('permissions') ?? rawDoc.find('permissions');
    return own ? evaluateToken(own, {}) : 'write-all';
  };
  const tokenFor = (jobId: string): string => {
    const asked = permissionsOf(jobId);
    const p = fork ? readOnly(asked) : asked;
    if (p === 'write-all') return sandbox.token;
    if (p === 'read-all')
      return sandbox.jobToken({ contents: 'read', issues: 'read', 'pull-requests': 'read' });
    if (p !== null && typeof p === 'object' && !Array.isArray(p)) {
      return sandbox.jobToken(p as Record<string, 'read' | 'write' | 'none'>);
    }
    return sandbox.readToken;
  };

  const githubContext = (token: string, job: string, workspace: string): Json => ({
    token,
    sha: event.sha,
    ref,
    ref_name: ref.replace(/^refs\/heads\//, ''),
    repository: sandbox.repository,
    repository_owner: sandbox.owner,
    event_name: event.name,
    event: payload as Json,
    head_ref: event.pull?.head.ref ?? '',
    base_ref: event.pull?.base.ref ?? '',
    workspace,
    server_url: 'https://github.com',
    api_url: sandbox.fake.url,
    run_id: String(runId),
    run_attempt: String(attempt),
    actor: 'ada',
    job,
  });

  // The repository's concurrency groups: shared with every other run against the sandbox.
  const groups = concurrencyOf(sandbox);

  const jobs = template.jobs.filter((j): j is Job => j.type === 'job');
  if (jobs.length !== template.jobs.length)
    throw new Error('the harness does not run reusable workflow jobs');
  const rerunSet = new Set<string>();
  if (options.rerun) {
    // A re-run job takes the jobs that need it along (GitHub re-runs its dependents too).
    const queue = [...options.rerun.jobs];
    while (queue.length > 0) {
      const id = queue.shift() as string;
      if (rerunSet.has(id)) continue;
      rerunSet.add(id);
      for (const j of jobs) if (j.needs?.some((n) => n.value === id)) queue.push(j.id.value);
    }
  }

  const done = new Map<string, Promise<JobRun>>();
  const runJob = (job: Job): Promise<JobRun> => {
    const id = job.id.value;
    const existing = done.get(id);
    if (existing) return existing;
    const promise = (async (): Promise<JobRun> => {
      const needs: Record<string, Json> = {};
      let needFailed = false;
      for (const n of job.needs ?? []) {
        const dep = jobs.find((j) => j.id.value === n.value);
        if (!dep) throw new Error(`job ${id} needs unknown job ${n.value}`);
        const r = await runJob(dep);
        needs[n.value] = { result: r.result, outputs: r.outputs };
        if (r.result !== 'success') needFailed = true;
      }
      if (previous && !rerunSet.has(id)) {
        const kept = previous.jobs[id];
        if (kept) {
          run.log.push(`${id}: kept from attempt ${previous.attempt} (${kept.result})`);
          return kept;
        }
      }
      const token = tokenFor(id);
      const base: Contexts = {
        github: githubContext(token, id, ''),
        inputs,
        needs,
        vars: fork ? {} : { ...options.vars },
        secrets: fork ? { GITHUB_TOKEN: token } : { GITHUB_TOKEN: token, ...options.secrets },
      };
      if (!truthy(evaluate(job.if.expression, base, { failed: needFailed }))) {
        run.log.push(`${id}: skipped (if: ${job.if.expression})`);
        return { result: 'skipped', outputs: {}, instances: [] };
      }
      const strategy = job.strategy ? evaluateToken(job.strategy, base) : null;
      const matrixValue =
        strategy !== null && typeof strategy === 'object' && !Array.isArray(strategy)
          ? strategy.matrix
          : undefined;
      let combos: Record<string, Json>[];
      try {
        combos = matrixValue === undefined ? [{}] : expandMatrix(matrixValue);
      } catch (e) {
        run.log.push(`${id}: failed: ${(e as Error).message}`);
        return { result: 'failure', outputs: {}, instances: [] };
      }
      let legs: StrategyOptions;
      try {
        legs = strategyOptions(strategy, combos.length);
      } catch (e) {
        run.log.push(`${id}: failed: ${(e as Error).message}`);
        return { result: 'failure', outputs: {}, instances: [] };
      }
      const legContexts = (index: number): Contexts => ({
        ...base,
        matrix: combos[index] as Record<string, Json>,
        strategy: {
          'fail-fast': legs.failFast,
          'job-index': index,
          'job-total': combos.length,
          'max-parallel': legs.maxParallel,
        },
      });
      const instances = await runStrategy(
        combos.length,
        legs,
        (index, cancelled) => runInstance(job, legContexts(index), cancelled),
        (index, reason) => {
          const name = legName(job, legContexts(index));
          run.log.push(`${name}: cancelled before it started: ${reason}`);
          return {
            job: id,
            name,
            matrix: combos[index] as Record<string, Json>,
            result: 'cancelled',
            steps: [],
            outputs: {},
            workspace: '',
          };
        },
      );
      const outputs: Record<string, string> = {};
      for (const i of instances) Object.assign(outputs, i.outputs);
      const result: Result = instances.every((i) => i.result === 'success')
        ? 'success'
        : instances.some((i) => i.result === 'failure')
          ? 'failure'
          : 'cancelled';
      return { result, outputs, instances };
    })();
    done.set(id, promise);
    return promise;
  };

  /** A leg's name: the job's `name:` evaluated with its matrix, or its id. */
  const legName = (job: Job, contexts: Contexts): string =>
    job.name
      ? asString(evaluateToken(job.name, { ...contexts, env: {}, steps: {} }))
      : job.id.value;

  async function runInstance(
    job: Job,
    contexts: Contexts,
    strategyCancelled: () => string | undefined = () => undefined,
  ): Promise<JobInstanceRun> {
    const id = job.id.value;
    const workspace = await sandbox.tempDir(`runner-${id}`);
    const runnerTemp = await sandbox.tempDir(`runner-temp-${id}`);
    const token = tokenFor(id);
    const matrix = contexts.matrix as Record<string, Json>;
    const ctx: Contexts = {
      ...contexts,
      github: githubContext(token, id, workspace),
      runner: { os: 'Linux', arch: 'X64', temp: runnerTemp, name: 'pinml-harness' },
      env: {},
      job: { status: 'success' },
      steps: {},
    };
    const name = legName(job, ctx);
    const instance: JobInstanceRun = {
      job: id,
      name,
      matrix,
      result: 'success',
      steps: [],
      outputs: {},
      workspace,
      token,
    };
    const group = job.concurrency ? evaluateToken(job.concurrency, ctx) : null;
    const groupSpec =
      group === null || typeof group === 'string' ? {} : (group as Record<string, Json>);
    const groupName =
      group === null
        ? undefined
        : typeof group === 'string'
          ? group
          : asString(groupSpec.group ?? null);
    if (options.lostRunners?.includes(name)) {
      instance.result = 'failure';
      run.log.push(
        `${name}: The hosted runner: GitHub Actions 7 lost communication with the server. Anything in your workflow that terminates the runner process, starves it for CPU/Memory, or blocks its network access can cause this error.`,
      );
      return instance;
    }
    const admission = groupName
      ? await groups.acquire({
          group: groupName,
          label: `${path.basename(options.workflow)} #${runId} ${name}`,
          cancelInProgress: groupSpec['cancel-in-progress'] === true,
          queue: groupSpec.queue === 'max',
        })
      : undefined;
    if (admission !== undefined && !admission.admitted) {
      instance.result = 'cancelled';
      run.log.push(`${name}: cancelled while pending: ${admission.reason}`);
      return instance;
    }
    try {
      const raw = rawSteps(root, id);
      if (raw.length !== job.steps.length) throw new Error(`${id}: steps do not line up`);
      let failed = false;
      let jobAnnotations = 0;
      for (const [index, step] of job.steps.entries()) {
        const cancelled = admission?.cancelled() ?? strategyCancelled();
        if (cancelled !== undefined) {
          instance.result = 'cancelled';
          run.log.push(`${name}: cancelled while running: ${cancelled}`);
          return instance;
        }
        const stepStarted = performance.now();
        const result = await runStep(step, raw[index] as MappingToken, ctx, failed, {
          job: id,
          workspace,
          runnerTemp,
          token,
        });
        if (result.action) {
          // The job's limit: past 50 annotations over its steps, GitHub shows none.
          const room = Math.max(0, ANNOTATION_LIMITS.job - jobAnnotations);
          const { annotations } = result.action;
          result.action.droppedAnnotations.push(...annotations.splice(room));
          jobAnnotations += annotations.length;
        }
        instance.steps.push(result);
        (ctx.steps as Record<string, Json>)[step.id] = {
          outputs: result.outputs,
          outcome: result.result,
          conclusion: result.result,
        };
        run.log.push(
          `${name}: ${result.uses} → ${result.result} in ${((performance.now() - stepStarted) / 1000).toFixed(2)} s` +
            (result.action ? ` (exit ${result.action.exitCode})` : '') +
            (result.error ? `: ${result.error}` : ''),
        );
        if (result.result === 'failure') {
          failed = true;
          ctx.job = { status: 'failure' };
        }
      }
      instance.result = failed ? 'failure' : 'success';
      if (job.outputs) {
        const outputs = evaluateToken(job.outputs, ctx);
        for (const [k, v] of Object.entries(outputs as Record<string, Json>))
          instance.outputs[k] = asString(v);
      }
    } finally {
      admission?.release();
    }
    return instance;
  }

  async function runStep(
    step: Step,
    raw: MappingToken,
    ctx: Contexts,
    failed: boolean,
    where: { job: string; workspace: string; runnerTemp: string; token: string },
  ): Promise<StepRun> {
    if (!('uses' in step)) {
      return {
        id: step.id,
        uses: 'run',
        result: 'failure',
        outputs: {},
        error: 'the harness runs no `run:` steps',
      };
    }
    const uses = step.uses.value;
    const stepRun: StepRun = { id: step.id, uses, result: 'success', outputs: {} };
    if (!truthy(evaluate(step.if.expression, ctx, { failed })))
      return { ...stepRun, result: 'skipped' };
    const withToken = raw.find('with');
    const inputs: Record<string, string> = {};
    if (withToken) {
      for (const [k, v] of Object.entries(evaluateToken(withToken, ctx) as Record<string, Json>))
        inputs[k] = asString(v);
    }
    stepRun.inputs = inputs;
    const env: Record<string, string> = {};
    if (step.env) {
      for (const [k, v] of Object.entries(evaluateToken(step.env, ctx) as Record<string, Json>))
        env[k] = asString(v);
    }
    const action = uses.replace(/@.*$/, '');
    const remote = /^([\w.-]+\/[\w.-]+)\/(actions\/[\w-]+)@[\w./-]+$/.exec(uses);
    const remoteDir = remote?.[1] ? options.remoteActions?.[remote[1]] : undefined;
    try {
      if (uses.startsWith('./') || (remote?.[2] && remoteDir)) {
        const actionDir =
          remote?.[2] && remoteDir
            ? path.join(remoteDir, remote[2])
            : path.join(where.workspace, uses);
        const result = await runAction({
          actionDir,
          runtime: await runtimeOf(actionDir),
          workspace: where.workspace,
          inputs,
          env,
          runnerTemp: where.runnerTemp,
          contexts: ctx,
          github: {
            repository: sandbox.repository,
            sha: event.sha,
            ref,
            eventName: event.name,
            event: payload,
            apiUrl: sandbox.fake.url,
            token: where.token,
            runId,
            runAttempt: attempt,
            job: where.job,
            workflow: options.workflow,
          },
        });
        run.actions.push(result);
        return {
          ...stepRun,
          result: result.exitCode === 0 ? 'success' : 'failure',
          outputs: result.outputs,
          action: result,
          ...(result.exitCode === 0
            ? {}
            : {
                error:
                  result.annotations.map((a) => a.message).join(' | ') || result.stderr.slice(-500),
              }),
        };
      }
      if (action === STANDARD.checkout) {
        await sandbox.checkout(where.workspace, {
          sha: inputs.ref || event.sha,
          branch: ref.replace(/^refs\/(heads\/)?/, ''),
          fetchDepth: Number(inputs['fetch-depth'] ?? '1'),
          persistCredentials: (inputs['persist-credentials'] ?? 'true') !== 'false',
          token: inputs.token || where.token,
        });
        return stepRun;
      }
      if (action === STANDARD.upload) {
        await uploadArtifact(inputs, where);
        return stepRun;
      }
      if (action === STANDARD.download) {
        const downloaded = await downloadArtifacts(inputs, where.workspace);
        return { ...stepRun, outputs: { 'download-path': downloaded } };
      }
      if ((STANDARD.noop as readonly string[]).includes(action)) return stepRun;
      if (action === STANDARD.appToken) {
        // An installation token of the GitHub App, with the `permission-*` inputs as its
        // permissions (none given: the installation's, here contents, pull requests, issues).
        if (!inputs['client-id'] && !inputs['app-id'])
          throw new Error('[@octokit/auth-app] appId option is required');
        if (!/^-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(inputs['private-key'] ?? ''))
          throw new Error(
            '[@octokit/auth-app] privateKey option is required (a PEM-encoded private key)',
          );
        const asked = Object.entries(inputs)
          .filter(([k, v]) => k.startsWith('permission-') && v !== '')
          .map(([k, v]): [string, 'read' | 'write'] => [
            k.slice('permission-'.length),
            v as 'read' | 'write',
          ]);
        const permissions: TokenPermissions =
          asked.length > 0
            ? Object.fromEntries(asked)
            : { contents: 'write', 'pull-requests': 'write', issues: 'write' };
        const token = sandbox.appToken(permissions);
        return {
          ...stepRun,
          outputs: { token, 'installation-id': '4242', 'app-slug': 'pinml-test-app' },
        };
      }
      return { ...stepRun, result: 'failure', error: `the harness does not emulate ${uses}` };
    } catch (e) {
      return { ...stepRun, result: 'failure', error: (e as Error).message };
    }
  }

  async function runtimeOf(actionDir: string): Promise<NodeRuntime> {
    const using = (await readActionMetadata(actionDir)).runs.using;
    if (using === 'node24') return options.runtime ?? node24;
    if (using === 'node20') return node20;
    throw new Error(`${actionDir}: the harness runs node20 and node24 actions, not ${using}`);
  }

  async function uploadArtifact(
    inputs: Record<string, string>,
    where: { job: string; workspace: string },
  ): Promise<void> {
    const name = inputs.name || 'artifact';
    const includeHidden = inputs['include-hidden-files'] === 'true';
    const sources = (inputs.path ?? '')
      .split('\n')
      .map((p) => p.trim())
      .filter(Boolean);
    if (sources.length !== 1 || /[*?[]/.test(sources[0] as string))
      throw new Error('the harness uploads exactly one path, without wildcards');
    const source = path.resolve(where.workspace, sources[0] as string);
    const target = path.join(artifacts, name);
    // Artifacts belong to the run, not to the attempt: a re-run job uploading again is refused
    // as GitHub refuses it, unless the upload says `overwrite: true`.
    const owner = artifactOwners.get(name);
    if (owner !== undefined && inputs.overwrite !== 'true') {
      throw new Error(
        `Failed to CreateArtifact: Received non-retryable error: Failed request: (409) Conflict: an artifact with this name already exists on the workflow run (${name}, uploaded by ${owner})`,
      );
    }
    const info = await stat(source).catch(() => undefined);
    const files = info?.isDirectory()
      ? await listFiles(source, includeHidden)
      : info
        ? [path.basename(source)]
        : [];
    if (files.length === 0) {
      const mode = inputs['if-no-files-found'] || 'warn';
      if (mode === 'error')
        throw new Error(`no files were found with the provided path: ${sources[0]}`);
      return;
    }
    await rm(target, { recursive: true, force: true });
    await mkdir(target, { recursive: true });
    for (const f of files) {
      const from = info?.isDirectory() ? path.join(source, f) : source;
      await mkdir(path.dirname(path.join(target, f)), { recursive: true });
      await cp(from, path.join(target, f));
    }
    artifactOwners.set(name, where.job);
  }

  async function downloadArtifacts(
    inputs: Record<string, string>,
    workspace: string,
  ): Promise<string> {
    const into = path.resolve(workspace, inputs.path || '.');
    // Another run's artifacts: `run-id` with `github-token` (without a token, download-artifact
    // reads the current run), read through the API, which needs `actions: read`.
    let from = artifacts;
    const given = inputs['github-token'] ?? '';
    if (inputs['run-id'] && given !== '') {
      if (inputs.repository && inputs.repository !== sandbox.repository)
        throw new Error(`the harness has no repository ${inputs.repository}`);
      const granted = sandbox.permissions(given);
      if (granted !== 'all' && !['read', 'write'].includes(granted?.actions ?? 'none'))
        throw new Error(
          'Unable to download artifact(s): Resource not accessible by integration (the token needs actions: read)',
        );
      from = path.join(sandbox.root, 'artifacts', `run-${inputs['run-id']}`);
      if (!(await stat(from).catch(() => undefined)))
        throw new Error(`Unable to download artifact(s): no run ${inputs['run-id']}`);
    }
    const all = (await readdir(from)).sort();
    if (inputs.name) {
      if (!all.includes(inputs.name)) throw new Error(`artifact ${inputs.name} not found`);
      await cp(path.join(from, inputs.name), into, { recursive: true });
      return into;
    }
    const pattern = inputs.pattern ? globToRegExp(inputs.pattern) : /^/;
    const merge = inputs['merge-multiple'] === 'true';
    for (const name of all.filter((n) => pattern.test(n))) {
      await cp(path.join(from, name), merge ? into : path.join(into, name), {
        recursive: true,
      });
    }
    return into;
  }

  const results = await Promise.all(
    jobs.map((j) => runJob(j).then((r) => [j.id.value, r] as const)),
  );
  for (const [id, r] of results) run.jobs[id] = r;
  run.seconds = (performance.now() - started) / 1000;
  return run;
}
