/**
 * What every workflow suite does to the sandbox between its runs: push a commit as a developer,
 * run a workflow on an event (checking the OpenAPI-validated fake saw no bad request), merge a
 * pull request as a reviewer, and read the open pull requests. One copy, so the suites of
 * `train.yml`, `drift.yml` and `monitor.yml` drive GitHub the same way.
 */
import { expect } from 'vitest';
import { createGitHubClient } from '../../pipeline/github/client.ts';
import type { FakePull } from '../../pipeline/github/testing/fake-github.ts';
import type { Sandbox } from './sandbox.ts';
import {
  runWorkflow,
  type RunWorkflowOptions,
  type WorkflowEvent,
  type WorkflowRun,
} from './workflow-runner.ts';

export interface LoopOptions {
  /** The `vars` context of each run (read when the run starts). */
  vars?: () => Record<string, string>;
  secrets?: Record<string, string>;
  /** Where `<owner>/<repo>/actions/<name>@<ref>` actions come from (a scaffolded repository's). */
  remoteActions?: Record<string, string>;
}

export interface WorkflowLoop {
  /** Every run so far, in order. */
  readonly runs: WorkflowRun[];
  /**
   * Runs `workflow` on `event`; unless `allowFailure`, fails the test (with the run's log) when a
   * job failed.
   */
  run: (
    workflow: string,
    event: WorkflowEvent,
    options?: {
      rerun?: RunWorkflowOptions['rerun'];
      allowFailure?: boolean;
      lostRunners?: string[];
      /** This run's `vars` and `secrets`, over the loop's. */
      vars?: Record<string, string>;
      secrets?: Record<string, string>;
    },
  ) => Promise<WorkflowRun>;
  /** Commits `files` as the developer and pushes main: the push event. */
  push: (files: Record<string, string | Buffer | null>, message: string) => Promise<WorkflowEvent>;
  /** Merges pull request `pull` (a merge commit) as a reviewer: the push event it makes. */
  merge: (pull: number) => Promise<WorkflowEvent>;
  /** A `schedule` event at main's tip. */
  schedule: () => Promise<WorkflowEvent>;
  openPulls: () => FakePull[];
  /** `label: 12.3 s (train.yml #1.1 4.5 s, …)`, for the suite's afterAll. */
  timing: (label: string) => string;
}

/** The loop over the sandbox `sandbox()` returns (created in a beforeAll). */
export function workflowLoop(sandbox: () => Sandbox, options: LoopOptions = {}): WorkflowLoop {
  const runs: WorkflowRun[] = [];
  const started = performance.now();
  return {
    runs,
    async run(workflow, event, more = {}) {
      const result = await runWorkflow(sandbox(), {
        workflow,
        event,
        vars: { ...options.vars?.(), ...more.vars },
        secrets: { ...options.secrets, ...more.secrets },
        ...(more.rerun ? { rerun: more.rerun } : {}),
        ...(more.lostRunners ? { lostRunners: more.lostRunners } : {}),
        ...(options.remoteActions ? { remoteActions: options.remoteActions } : {}),
      });
      runs.push(result);
      expect(sandbox().fake.violations).toEqual([]);
      if (!more.allowFailure) {
        const failed = Object.entries(result.jobs).filter(([, j]) => j.result === 'failure');
        expect(
          failed.map(([id]) => id),
          result.log.join('\n'),
        ).toEqual([]);
      }
      return result;
    },
    async push(files, message) {
      const { before, after, changed } = await sandbox().push(files, message);
      return { name: 'push', sha: after, before, changed };
    },
    async merge(pull) {
      const s = sandbox();
      const before = await s.tip();
      const client = createGitHubClient({ token: s.token, baseUrl: s.fake.url });
      await client.rest.pulls.merge({
        owner: s.owner,
        repo: s.repo,
        pull_number: pull,
        merge_method: 'merge',
      });
      expect(s.fake.violations).toEqual([]);
      const after = await s.tip();
      const changed = (await s.cli.git(s.bare, 'diff', '--name-only', before, after))
        .trim()
        .split('\n');
      return { name: 'push', sha: after, before, changed };
    },
    async schedule() {
      return { name: 'schedule', sha: await sandbox().tip() };
    },
    openPulls: () => sandbox().fake.pulls.filter((p) => p.state === 'open'),
    timing(label) {
      const each = runs.map(
        (r) => `${r.workflow} #${r.runId}.${r.attempt} ${r.seconds.toFixed(1)} s`,
      );
      return `${label}: ${((performance.now() - started) / 1000).toFixed(1)} s (${each.join(', ')})`;
    },
  };
}
