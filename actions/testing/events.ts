/**
 * The events a run causes, and which workflows GitHub starts from them. GitHub ("Triggering a
 * workflow from a workflow"): "When you use the repository's GITHUB_TOKEN to perform tasks,
 * events triggered by the GITHUB_TOKEN, with the exception of workflow_dispatch and
 * repository_dispatch, will not create a new workflow run." A personal access token or a GitHub
 * App's token does start them, as a person does.
 *
 * So a registration pushed with `GITHUB_TOKEN` starts no `train.yml`, and a promotion pull
 * request opened with it runs no `ci.yml` — the reason the workflows take `PINML_TOKEN`.
 *
 * Test helper only.
 */
import {
  convertWorkflowTemplate,
  NoOperationTraceWriter,
  parseWorkflow,
} from '@actions/workflow-parser';
import type { Sandbox } from './sandbox.ts';
import { triggers, type TriggerEvent } from './workflow-runner.ts';

/**
 * Who caused an event: the developer (a push from their clone), a job's `GITHUB_TOKEN`, a GitHub
 * App's installation token, or the sandbox's full token (a personal access token such as
 * `PINML_TOKEN`, or a reviewer).
 */
export type Actor = 'developer' | 'GITHUB_TOKEN' | 'app' | 'token' | 'other';

export type CausedEvent =
  | { name: 'push'; by: Actor; ref: string; before: string; after: string; at: number }
  | {
      name: 'pull_request';
      by: Actor;
      action: 'opened' | 'synchronize';
      number: number;
      base: string;
      head: string;
      at: number;
    }
  | {
      name: 'workflow_dispatch';
      by: Actor;
      ref: string;
      /** The workflow dispatched (its file name or id); absent: any that takes a dispatch. */
      workflow?: string;
      at: number;
    }
  | { name: 'repository_dispatch'; by: Actor; type: string; at: number };

const ZERO = '0'.repeat(40);

/** GitHub's rule: whether an event may start workflow runs at all. */
export function startsRuns(event: CausedEvent): boolean {
  return (
    event.by !== 'GITHUB_TOKEN' ||
    event.name === 'workflow_dispatch' ||
    event.name === 'repository_dispatch'
  );
}

/** The workflow files GitHub would start for `event` (their paths, sorted). */
export async function workflowsStarted(sandbox: Sandbox, event: CausedEvent): Promise<string[]> {
  if (!startsRuns(event)) return [];
  const { git } = sandbox.cli;
  let sha: string;
  let trigger: TriggerEvent;
  const lines = (text: string): string[] => text.split('\n').filter(Boolean);
  switch (event.name) {
    case 'push': {
      sha = event.after;
      if (sha === ZERO) return []; // a deleted branch
      const changed =
        event.before === ZERO
          ? lines(await git(sandbox.bare, 'ls-tree', '-r', '--name-only', sha))
          : lines(await git(sandbox.bare, 'diff', '--name-only', event.before, sha));
      trigger = { name: 'push', sha, ref: event.ref, before: event.before, changed };
      break;
    }
    case 'pull_request': {
      // A fork's commits are kept under refs/pull/<n>/head, not on a branch.
      const pull = sandbox.fake.pulls.find((p) => p.number === event.number);
      sha =
        pull && pull.head.repo !== sandbox.repository
          ? await git(sandbox.bare, 'rev-parse', `refs/pull/${String(event.number)}/head`)
          : await sandbox.tip(event.head);
      const changed = lines(
        await git(sandbox.bare, 'diff', '--name-only', `refs/heads/${event.base}...${sha}`),
      );
      trigger = { name: 'pull_request', action: event.action, base: event.base, changed };
      break;
    }
    case 'workflow_dispatch':
      sha = await sandbox.tip(event.ref.replace(/^refs\/heads\//, ''));
      trigger = { name: 'workflow_dispatch', sha, ref: event.ref };
      break;
    case 'repository_dispatch':
      sha = await sandbox.tip();
      trigger = { name: 'repository_dispatch', type: event.type };
      break;
  }
  const dispatched = event.name === 'workflow_dispatch' ? event.workflow : undefined;
  const files = lines(
    await git(sandbox.bare, 'ls-tree', '--name-only', sha, '.github/workflows/'),
  ).filter(
    (f) =>
      /\.ya?ml$/.test(f) && (dispatched === undefined || f === `.github/workflows/${dispatched}`),
  );
  const started: string[] = [];
  for (const file of files) {
    const content = (await sandbox.show(sha, file)) ?? '';
    const parsed = parseWorkflow({ name: file, content }, new NoOperationTraceWriter());
    if (!parsed.value) throw new Error(`${file} at ${sha} does not parse`);
    const template = await convertWorkflowTemplate(parsed.context, parsed.value);
    if (triggers(template.events, trigger)) started.push(file);
  }
  return started.sort();
}
