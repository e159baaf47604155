/**
 * End to end, driven by the workflow files themselves: pushes to a repository behind
 * `git http-backend` trigger `.github/workflows/train.yml`, which the harness reads with
 * GitHub's parser and runs job by job (matrix, `with:`, outputs, artifacts, `if:`), each
 * action's committed bundle running on Node 24; pull requests are merged through the fake
 * GitHub's merge endpoint, and `.github/workflows/rollback.yml` opens the revert.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { protectBranch } from '../pipeline/git/testing/git-server.ts';
import { createGitHubClient } from '../pipeline/github/client.ts';
import { waitFor } from '../pipeline/testing/wait.ts';
import { chapters } from './testing/chapters.ts';
import { concurrencyOf } from './testing/concurrency.ts';
import { workflowsStarted, type CausedEvent } from './testing/events.ts';
import { irisCsv, withoutRows, workflowRepositoryFiles } from './testing/fixture-repo.ts';
import { leakedSecret, node24, node24Available } from './testing/run-action.ts';
import { startSandbox, type Sandbox } from './testing/sandbox.ts';
import { workflowLoop } from './testing/loop.ts';
import type { WorkflowEvent, WorkflowRun } from './testing/workflow-runner.ts';

const TRAIN = '.github/workflows/train.yml';
/** A PEM-shaped key for the emulated actions/create-github-app-token (no key is checked). */
const TEST_APP_KEY =
  '-----BEGIN RSA PRIVATE KEY-----\nnot-a-real-key\n-----END RSA PRIVATE KEY-----\n';
const ROLLBACK = '.github/workflows/rollback.yml';

let sandbox: Sandbox;
const loop = workflowLoop(() => sandbox);
const { push, merge, openPulls, runs } = loop;

beforeAll(async () => {
  sandbox = await startSandbox();
});

afterAll(async () => {
  console.log(loop.timing('end to end'));
  await sandbox?.close();
});

/** Runs a workflow; whether it succeeded is each chapter's to check (`expectSucceeded`). */
const run = (
  workflow: string,
  event: WorkflowEvent,
  rerun?: { run: WorkflowRun; jobs: string[] },
): Promise<WorkflowRun> =>
  loop.run(workflow, event, { allowFailure: true, ...(rerun ? { rerun } : {}) });

function expectSucceeded(result: WorkflowRun): void {
  const failed = Object.entries(result.jobs).filter(([, j]) => j.result === 'failure');
  expect(
    failed.map(([id]) => id),
    result.log.join('\n'),
  ).toEqual([]);
}

/** The outputs of a step of the (single-instance or first) instance of a job. */
function stepOutputs(result: WorkflowRun, job: string, step: string): Record<string, string> {
  const s = result.jobs[job]?.instances[0]?.steps.find((x) => x.id === step);
  return s?.result === 'success' ? s.outputs : {};
}

async function pinned(ref = 'main'): Promise<number | undefined> {
  const text = await sandbox.show(ref, 'registry/iris/pins.json');
  return text === undefined ? undefined : (JSON.parse(text) as { production: number }).production;
}

describe.skipIf(!node24Available('the workflow tests (their actions run on node24) are'))(
  'train.yml and rollback.yml, run as GitHub Actions runs them',
  () => {
    // Each chapter starts from what the earlier ones left: after a failure, they skip.
    const { chapter } = chapters();
    let third: WorkflowRun;

    chapter(
      'push 1 trains the matrix, registers v1 and opens the promotion pull request',
      async () => {
        node24.binary(); // node24 actions run on Node 24: fails with how to install it when missing
        const event = await push(await workflowRepositoryFiles(), 'A model repository using pinml');
        const result = await run(TRAIN, event);
        expect(result.triggered).toBe(true);
        expectSucceeded(result);
        expect(result.jobs.train?.instances.map((i) => i.name)).toEqual([
          'Train iris / forest-conservative',
          'Train iris / logistic-fast',
        ]);
        expect(result.jobs.decide?.instances.map((i) => i.matrix)).toEqual([{ model: 'iris' }]);
        expect(stepOutputs(result, 'decide', 'decide')).toMatchObject({
          gate: 'passed',
          decision: 'promote',
        });
        expect(stepOutputs(result, 'decide', 'register')).toMatchObject({
          status: 'created',
          ref: 'iris@1',
        });
        expect(stepOutputs(result, 'decide', 'promote')).toMatchObject({
          operation: 'created',
          'pr-number': '1',
        });

        const log = await sandbox.cli.git(sandbox.bare, 'log', '--format=%s', 'main');
        expect(log.split('\n')[0]).toMatch(/^pinml: register iris@1 /);
        expect(openPulls()).toMatchObject([
          { number: 1, title: 'Promote iris@1 to production', labels: ['pinml', 'promotion'] },
        ]);
        // The repository was fresh: labelling created both labels, which needs `issues: write`
        // (the fake refuses a job token without it, as GitHub does).
        expect([...sandbox.fake.labels]).toEqual(expect.arrayContaining(['pinml', 'promotion']));
        expect(await pinned('pinml/promote-iris')).toBe(1);
        expect(await pinned()).toBeUndefined();
        // The registration commit touches only registry/**: it does not start another training.
        const registration = await sandbox.cli.git(
          sandbox.bare,
          'diff',
          '--name-only',
          `${event.sha}..main`,
        );
        const again = await run(TRAIN, {
          ...event,
          sha: await sandbox.tip(),
          changed: registration.split('\n'),
        });
        expect(again.triggered).toBe(false);

        // GitHub starts no workflow from what the run's GITHUB_TOKEN did: neither its
        // registration push nor its pull request runs anything (ci.yml included). With
        // PINML_TOKEN (a personal access token) the pull request would run ci.yml.
        const caused = await sandbox.causedEvents();
        const said = caused.map(
          (e) =>
            `${e.name} ${e.name === 'push' ? e.ref : e.name === 'pull_request' ? `#${e.number} ${e.action}` : ''} by ${e.by}`,
        );
        expect(said).toEqual([
          'push refs/heads/main by developer',
          'push refs/heads/main by GITHUB_TOKEN',
          'push refs/heads/pinml/promote-iris by GITHUB_TOKEN',
          'pull_request #1 opened by GITHUB_TOKEN',
        ]);
        const [developer, registered, branch, opened] = caused as [
          CausedEvent,
          CausedEvent,
          CausedEvent,
          CausedEvent,
        ];
        expect(await workflowsStarted(sandbox, developer)).toEqual([
          '.github/workflows/ci.yml',
          TRAIN,
        ]);
        for (const e of [registered, branch, opened])
          expect(await workflowsStarted(sandbox, e)).toEqual([]);
        expect(await workflowsStarted(sandbox, { ...opened, by: 'token' })).toEqual([
          '.github/workflows/ci.yml',
        ]);
        // A registration pushed with a personal access token runs CI and registry.yml (whose
        // jobs act only on a merged registration pull request or a pins change), never another
        // training.
        expect(await workflowsStarted(sandbox, { ...registered, by: 'token' })).toEqual([
          '.github/workflows/ci.yml',
          '.github/workflows/registry.yml',
        ]);
        // A dispatch is GitHub's exception: the job token may start one (a monitor's rollback).
        const job = createGitHubClient({
          token: sandbox.jobToken({ actions: 'write', contents: 'write' }),
          baseUrl: sandbox.fake.url,
          retries: 0,
        });
        const where = { owner: sandbox.owner, repo: sandbox.repo };
        await job.rest.actions.createWorkflowDispatch({
          ...where,
          workflow_id: 'rollback.yml',
          ref: 'main',
          inputs: { model: 'iris', reason: 'live accuracy fell' },
        });
        await job.rest.repos.createDispatchEvent({ ...where, event_type: 'retrain' });
        const dispatches = (await sandbox.causedEvents()).slice(caused.length);
        expect(dispatches.map((e) => `${e.name} by ${e.by}`)).toEqual([
          'workflow_dispatch by GITHUB_TOKEN',
          'repository_dispatch by GITHUB_TOKEN',
        ]);
        expect(await workflowsStarted(sandbox, dispatches[0] as CausedEvent)).toEqual([ROLLBACK]);
        // None of pinml's workflows listens for a repository_dispatch.
        expect(await workflowsStarted(sandbox, dispatches[1] as CausedEvent)).toEqual([]);
        // Without actions: write, the job token may not dispatch (GitHub's 403).
        const readOnly = createGitHubClient({
          token: sandbox.jobToken({ contents: 'read' }),
          baseUrl: sandbox.fake.url,
          retries: 0,
        });
        await expect(
          readOnly.rest.actions.createWorkflowDispatch({
            ...where,
            workflow_id: 'rollback.yml',
            ref: 'main',
          }),
        ).rejects.toMatchObject({ status: 403 });
      },
    );

    chapter('merging the promotion pull request pins v1 on main', async () => {
      await merge(1);
      expect(await pinned()).toBe(1);
      expect(openPulls()).toEqual([]);
    });

    chapter(
      'push 2 with changed data registers v2, compares it with v1 and opens the promotion pull request',
      async () => {
        const event = await push(
          { 'data/iris.csv': withoutRows(await irisCsv(), [2, 52, 102]) },
          'Drop 3 rows',
        );
        const result = await run(TRAIN, event);
        expectSucceeded(result);
        expect(stepOutputs(result, 'decide', 'decide')).toMatchObject({
          decision: 'promote',
          production: '1',
        });
        expect(stepOutputs(result, 'decide', 'register')).toMatchObject({
          status: 'created',
          ref: 'iris@2',
        });
        expect(stepOutputs(result, 'decide', 'promote')).toMatchObject({
          operation: 'created',
          'pr-number': '2',
        });
        expect(openPulls()).toMatchObject([{ number: 2, title: 'Promote iris@2 to production' }]);
      },
    );

    chapter(
      'push 3 with changed data registers v3 and updates the same pull request, not a second one',
      async () => {
        const event = await push(
          { 'data/iris.csv': withoutRows(await irisCsv(), [3, 53, 103]) },
          'Drop 3 other rows',
        );
        third = await run(TRAIN, event);
        expectSucceeded(third);
        expect(stepOutputs(third, 'decide', 'register')).toMatchObject({
          status: 'created',
          ref: 'iris@3',
        });
        expect(stepOutputs(third, 'decide', 'promote')).toMatchObject({
          operation: 'updated',
          'pr-number': '2',
        });
        expect(openPulls()).toMatchObject([{ number: 2, title: 'Promote iris@3 to production' }]);
        expect(sandbox.fake.pulls).toHaveLength(2);
        expect(await pinned('pinml/promote-iris')).toBe(3);
        expect(openPulls()[0]?.body).toContain('iris');
      },
    );

    chapter('re-running every job of that run changes nothing', async () => {
      const main = await sandbox.tip();
      const branch = await sandbox.tip('pinml/promote-iris');
      const rerun = await run(TRAIN, third.event, { run: third, jobs: ['prepare'] });
      expectSucceeded(rerun);
      expect(rerun.attempt).toBe(2);
      expect(Object.keys(rerun.jobs).sort()).toEqual(['decide', 'prepare', 'train']);
      expect(stepOutputs(rerun, 'decide', 'register')).toMatchObject({
        status: 'unchanged',
        ref: 'iris@3',
      });
      expect(stepOutputs(rerun, 'decide', 'promote')).toMatchObject({
        operation: 'unchanged',
        'pr-number': '2',
      });
      expect(await sandbox.tip()).toBe(main);
      expect(await sandbox.tip('pinml/promote-iris')).toBe(branch);
      expect(sandbox.fake.pulls).toHaveLength(2);
    });

    chapter(
      'a push with a data error fails prepare with an annotation on the file and line, and nothing else runs',
      async () => {
        const main = await sandbox.tip('pinml/promote-iris');
        const lines = (await irisCsv()).split('\n');
        lines[11] = '5.4,3.7,1.5,0.2,sunflower';
        const event = await push({ 'data/iris.csv': lines.join('\n') }, 'A typo in the labels');
        const result = await run(TRAIN, event);
        expect(result.jobs.prepare?.result).toBe('failure');
        expect(result.jobs.train?.result).toBe('skipped');
        expect(result.jobs.decide?.result).toBe('skipped');
        const prepare = result.jobs.prepare?.instances[0]?.steps.find((s) => s.id === 'prepare');
        expect(prepare?.action?.exitCode).toBe(1);
        expect(prepare?.action?.annotations).toContainEqual(
          expect.objectContaining({
            command: 'error',
            properties: expect.objectContaining({ file: 'data/iris.csv', line: '12' }) as unknown,
            message: expect.stringContaining('sunflower') as unknown,
          }),
        );
        expect(await sandbox.tip()).toBe(event.sha);
        expect(await sandbox.tip('pinml/promote-iris')).toBe(main);
        expect(sandbox.fake.pulls).toHaveLength(2);
      },
    );

    chapter(
      'merging pins v3; the rollback workflow opens the revert, whose merge pins v1 again',
      async () => {
        await merge(2);
        expect(await pinned()).toBe(3);
        const dispatch: WorkflowEvent = {
          name: 'workflow_dispatch',
          sha: await sandbox.tip(),
          inputs: { model: 'iris', reason: 'v3 misclassifies live traffic' },
        };
        const rollback = await run(ROLLBACK, dispatch);
        expectSucceeded(rollback);
        expect(stepOutputs(rollback, 'rollback', 'rollback')).toMatchObject({
          operation: 'created',
          from: '3',
          to: '1',
          'pr-number': '3',
        });
        expect(openPulls()).toMatchObject([{ number: 3, title: 'Roll back iris from v3 to v1' }]);
        expect(openPulls()[0]?.body).toContain('v3 misclassifies live traffic');
        expect(await pinned('pinml/rollback-iris')).toBe(1);

        const main = await sandbox.tip();
        const again = await run(ROLLBACK, dispatch, { run: rollback, jobs: ['rollback'] });
        expectSucceeded(again);
        expect(stepOutputs(again, 'rollback', 'rollback')).toMatchObject({
          operation: 'unchanged',
          'pr-number': '3',
        });
        expect(await sandbox.tip()).toBe(main);

        await merge(3);
        expect(await pinned()).toBe(1);
        const subject = await sandbox.cli.git(sandbox.bare, 'log', '-1', '--format=%s', 'main^2');
        expect(subject).toMatch(/^Revert /);
      },
    );

    chapter(
      'a lost runner on one candidate leg: the other leg still decides, registers and proposes, and the summary names the lost one',
      async () => {
        const event = await push(
          { 'data/iris.csv': withoutRows(await irisCsv(), [2, 3, 4, 5]) },
          'Four rows fewer',
        );
        const result = await loop.run(TRAIN, event, {
          allowFailure: true,
          lostRunners: ['Train iris / forest-conservative'],
        });
        expect(result.jobs.train?.result).toBe('failure');
        expect(result.jobs.train?.instances.map((i) => [i.name, i.result])).toEqual([
          ['Train iris / forest-conservative', 'failure'],
          ['Train iris / logistic-fast', 'success'],
        ]);
        expect(result.jobs.decide?.result, result.log.join('\n')).toBe('success');
        expect(stepOutputs(result, 'decide', 'decide')).toMatchObject({
          chosen: 'logistic-fast',
          missing: 'forest-conservative',
          gate: 'passed',
        });
        expect(stepOutputs(result, 'decide', 'register')).toMatchObject({ status: 'created' });
        const decide = result.jobs.decide?.instances[0]?.steps.find((s) => s.id === 'decide');
        expect(decide?.action?.summary).toMatch(
          /^> \*\*Not trained:\*\* `forest-conservative` \(its training job failed; see the run\)/,
        );
      },
    );

    chapter(
      'a dispatch on another branch trains, gates and reports, registers nothing, and says so',
      async () => {
        const main = await sandbox.tip();
        const pulls = sandbox.fake.pulls.length;
        const { after } = await sandbox.push(
          { 'data/iris.csv': withoutRows(await irisCsv(), [7, 8, 9]) },
          'Try three rows fewer',
          'experiment',
        );
        const event: WorkflowEvent = {
          name: 'workflow_dispatch',
          sha: after,
          ref: 'refs/heads/experiment',
          inputs: {},
        };
        const result = await run(TRAIN, event);
        expectSucceeded(result);
        expect(stepOutputs(result, 'decide', 'decide')).toMatchObject({
          gate: 'passed',
          registers: 'false',
        });
        const steps = result.jobs.decide?.instances[0]?.steps ?? [];
        expect(steps.find((s) => s.id === 'register')?.result).toBe('skipped');
        expect(steps.find((s) => s.id === 'promote')?.result).toBe('skipped');
        expect(steps.find((s) => s.id === 'decide')?.action?.summary).toMatch(
          /^> \*\*Not registered:\*\* this run is on `experiment`; pinml registers and proposes only from `main`, the default branch\./,
        );
        expect(await sandbox.tip()).toBe(main);
        expect(sandbox.fake.pulls).toHaveLength(pulls);
      },
    );

    chapter(
      'a rollback waiting behind a registration is not cancelled by the next push: it has its own concurrency group',
      async () => {
        // Production moves on (the lost-runner chapter's proposal), so there is a rollback to make.
        const proposal = openPulls().find((p) => p.title.startsWith('Promote iris@'));
        await merge(proposal?.number ?? 0);
        const groups = concurrencyOf(sandbox);
        // A registration of an earlier run holds the model's group.
        const release = await groups.hold('pinml-iris', 'train.yml (an earlier push) decide');
        const rollback = loop.run(
          ROLLBACK,
          {
            name: 'workflow_dispatch',
            sha: await sandbox.tip(),
            inputs: { model: 'iris', reason: 'live accuracy fell' },
          },
          { allowFailure: true },
        );
        const event = await push(
          { 'data/iris.csv': withoutRows(await irisCsv(), [10, 11]) },
          'Two rows fewer',
        );
        const training = loop.run(TRAIN, event);
        // The push's decide arrives while the group is held: GitHub keeps one waiting job per
        // group, so a rollback waiting in it would be cancelled now.
        const waiting = () =>
          groups.pending('pinml-iris').some((label) => label.startsWith('train.yml'));
        await waitFor(
          'the push to wait for the model group',
          () => Promise.resolve(waiting() || undefined),
          120_000,
        );
        release();
        const [rolled, trained] = await Promise.all([rollback, training]);
        expect(rolled.jobs.rollback?.result, rolled.log.join('\n')).toBe('success');
        expect(stepOutputs(rolled, 'rollback', 'rollback').operation).toMatch(
          /^(created|updated)$/,
        );
        expect(stepOutputs(trained, 'decide', 'register')).toMatchObject({ status: 'created' });
      },
    );

    chapter(
      'a run for an older commit that finishes last registers as evidence and leaves the newer proposal alone',
      async () => {
        const older = await push(
          { 'data/iris.csv': withoutRows(await irisCsv(), [20, 21]) },
          'Two other rows fewer',
        );
        const newer = await push(
          { 'data/iris.csv': withoutRows(await irisCsv(), [20, 21, 22]) },
          'And one more',
        );
        // The newer push's run is quicker and finishes first.
        const first = await run(TRAIN, newer);
        const proposed = stepOutputs(first, 'decide', 'register').ref;
        expect(stepOutputs(first, 'decide', 'promote').operation).toMatch(/^(created|updated)$/);
        const version = Number(proposed?.split('@')[1]);
        expect(await pinned('pinml/promote-iris')).toBe(version);
        // The older push's run finishes after it: a higher version number, older data.
        const late = await run(TRAIN, older);
        expect(stepOutputs(late, 'decide', 'register')).toMatchObject({
          status: 'created',
          ref: `iris@${version + 1}`,
        });
        expect(stepOutputs(late, 'decide', 'decide').decision).toBe('promote');
        expect(stepOutputs(late, 'decide', 'promote')).toMatchObject({ operation: 'unchanged' });
        expect(await pinned('pinml/promote-iris')).toBe(version);
      },
    );

    chapter(
      "with a GitHub App configured and on main's bypass list, the app registers and proposes, and what it does starts CI",
      async () => {
        // The app's token is not Actions' own: the Actions pull-request setting does not bind it.
        sandbox.fake.settings.actionsCanCreatePullRequests = false;
        try {
          const seen = (await sandbox.causedEvents()).length;
          const event = await push(
            { 'data/iris.csv': withoutRows(await irisCsv(), [30, 31]) },
            'Rows 30 and 31 out',
          );
          // main is protected, with the app on the bypass list: the app's registration lands.
          await protectBranch(path.dirname(sandbox.bare), sandbox.repo, 'main', ['app']);
          const result = await loop.run(TRAIN, event, {
            vars: { PINML_APP_CLIENT_ID: 'Iv23liPinmlTestApp' },
            secrets: { PINML_APP_PRIVATE_KEY: TEST_APP_KEY },
          });
          expect(stepOutputs(result, 'decide', 'app')['app-slug']).toBe('pinml-test-app');
          // Anyone else is refused (the developer's direct push here).
          await expect(push({ 'notes.md': 'x\n' }, 'Straight to main')).rejects.toThrow(/GH006/);
          expect(stepOutputs(result, 'decide', 'register')).toMatchObject({ status: 'created' });
          expect(stepOutputs(result, 'decide', 'promote').operation).toMatch(/^(created|updated)$/);
          const caused = (await sandbox.causedEvents())
            .slice(seen)
            .filter((e) => e.by !== 'developer');
          expect(caused.length).toBeGreaterThan(0);
          expect(caused.every((e) => e.by === 'app')).toBe(true);
          const onBranch = caused.find(
            (e) =>
              e.name === 'pull_request' ||
              (e.name === 'push' && e.ref === 'refs/heads/pinml/promote-iris'),
          );
          const proposal = caused.find((e) => e.name === 'pull_request');
          expect(proposal, JSON.stringify(caused)).toBeDefined();
          expect(onBranch).toBeDefined();
          expect(await workflowsStarted(sandbox, proposal as CausedEvent)).toEqual([
            '.github/workflows/ci.yml',
          ]);
        } finally {
          sandbox.fake.settings.actionsCanCreatePullRequests = true;
          await rm(path.join(sandbox.bare, 'hooks', 'pre-receive'), { force: true });
        }
      },
    );

    chapter(
      'a reject on later data closes the standing promotion pull request, saying why',
      async () => {
        const open = openPulls().find((p) => p.head.ref === 'pinml/promote-iris');
        expect(open).toBeDefined();
        const proposed = await pinned('pinml/promote-iris');
        const config = (await sandbox.show('main', 'pinml.yaml')) ?? '';
        expect(config).toContain('minAccuracy: 0.9\n');
        const event = await push(
          { 'pinml.yaml': config.replace('minAccuracy: 0.9\n', 'minAccuracy: 0.999\n') },
          'Demand 99.9 % accuracy',
        );
        const result = await run(TRAIN, event);
        expectSucceeded(result);
        expect(stepOutputs(result, 'decide', 'decide')).toMatchObject({
          gate: 'failed',
          decision: 'reject',
        });
        expect(stepOutputs(result, 'decide', 'withdraw')).toMatchObject({
          operation: 'closed',
          'pr-number': String(open?.number),
        });
        const closed = sandbox.fake.pulls.find((p) => p.number === open?.number);
        expect(closed?.state).toBe('closed');
        expect(closed?.comments.at(-1)).toMatch(
          new RegExp(
            `^pinml closed this proposal: a run on later data \\(commit ${event.sha.slice(0, 12)}\\) decided "reject".*iris@${proposed} is no longer the recommendation`,
          ),
        );
        // Run again: nothing is open any more, and nothing else is touched.
        const again = await run(TRAIN, { ...event });
        expect(stepOutputs(again, 'decide', 'withdraw')).toMatchObject({ operation: 'unchanged' });
        expect(openPulls().filter((p) => p.head.ref === 'pinml/promote-iris')).toEqual([]);
      },
    );

    chapter(
      'never lets a token out of a step',
      () => {
        const leaks = runs.flatMap((r) =>
          r.actions.flatMap((a) => [
            ...leakedSecret(a, sandbox.token),
            ...leakedSecret(a, sandbox.readToken),
          ]),
        );
        expect(leaks).toEqual([]);
      },
      { standalone: true },
    );
  },
);
