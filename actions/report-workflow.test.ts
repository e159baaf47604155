/**
 * The report before merge, driven by `.github/workflows/report.yml` (`pull_request`) and
 * `report-comment.yml` (`workflow_run`) as GitHub runs them: a data pull request trains, gates
 * and compares against production on its merge with main and gets one comment with the report,
 * edited in place on a new commit; nothing is registered. A fork's pull request gets its report
 * too, while its own (edited) report.yml, which tries to register with a secret, gets no secret
 * and a read-only token; the comment is written by main's workflow. A pull request with a
 * broken dataset gets a comment that points at the run.
 */
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { createGitHubClient } from '../pipeline/github/client.ts';
import { REPORT_MARKER } from '../pipeline/pr-report.ts';
import { chapters } from './testing/chapters.ts';
import { workflowsStarted } from './testing/events.ts';
import { irisCsv, withoutRows, workflowRepositoryFiles } from './testing/fixture-repo.ts';
import { workflowLoop } from './testing/loop.ts';
import { node24, node24Available } from './testing/run-action.ts';
import { startSandbox, type Sandbox } from './testing/sandbox.ts';
import { workflowRunEvent, type WorkflowRun } from './testing/workflow-runner.ts';

const TRAIN = '.github/workflows/train.yml';
const REPORT = '.github/workflows/report.yml';
const COMMENT = '.github/workflows/report-comment.yml';

let sandbox: Sandbox;
const loop = workflowLoop(() => sandbox);
const { run, push, merge } = loop;

beforeAll(async () => {
  sandbox = await startSandbox();
});

afterAll(async () => {
  console.log(loop.timing('report loop'));
  await sandbox?.close();
});

/** The pull request's comments that carry the report marker. */
const reportComments = (number: number): { body: string; by: string }[] => {
  const pull = sandbox.fake.pulls.find((p) => p.number === number);
  return (pull?.comments ?? [])
    .map((body, i) => ({ body, by: pull?.commenters[i]?.login ?? '' }))
    .filter((c) => c.body.startsWith(REPORT_MARKER));
};

/** Runs report-comment.yml for a finished report run, as GitHub does on its completion. */
async function comment(report: WorkflowRun): Promise<Record<string, string>> {
  const result = await run(COMMENT, workflowRunEvent(report, await sandbox.tip()));
  expect(result.triggered).toBe(true);
  return result.jobs.comment?.instances[0]?.steps.find((s) => s.id === 'comment')?.outputs ?? {};
}

/** Pushes `files` to a new branch as the developer and opens its pull request to main. */
async function openDataPull(
  branch: string,
  files: Record<string, string>,
  title: string,
): Promise<number> {
  await sandbox.push(files, title, branch);
  const client = createGitHubClient({ token: sandbox.token, baseUrl: sandbox.fake.url });
  const opened = await client.rest.pulls.create({
    owner: sandbox.owner,
    repo: sandbox.repo,
    head: branch,
    base: 'main',
    title,
  });
  return opened.data.number;
}

/** What must not change while pull requests are only reported on. */
async function registryState(): Promise<{ main: string; branches: string }> {
  return {
    main: await sandbox.tip(),
    // pinml's branches (registrations are pushed to main, proposals to pinml/*).
    branches: await sandbox.cli.git(
      sandbox.bare,
      'for-each-ref',
      '--format=%(refname) %(objectname)',
      'refs/heads/pinml/',
    ),
  };
}

describe.skipIf(!node24Available('the report workflow tests (their actions run on node24) are'))(
  'report.yml and report-comment.yml, run as GitHub Actions runs them',
  () => {
    const { chapter } = chapters();
    let before: { main: string; branches: string };
    let dataPull = 0;
    let firstReport: WorkflowRun;

    chapter('starts from iris@1 in production', async () => {
      node24.binary();
      await run(
        TRAIN,
        await push(await workflowRepositoryFiles(), 'A model repository using pinml'),
      );
      await merge(1);
      expect(await sandbox.show('main', 'registry/iris/pins.json')).toContain('"production": 1');
      before = await registryState();
    });

    chapter(
      'a data pull request is trained and compared, and gets one report comment',
      async () => {
        dataPull = await openDataPull(
          'clean-rows',
          { 'data/iris.csv': withoutRows(await irisCsv(), [3, 60, 120]) },
          'Drop three mislabelled rows',
        );
        const event = await sandbox.pullRequestEvent(dataPull);
        expect(event.changed).toEqual(['data/iris.csv']);
        // GitHub starts report.yml (and CI) for it; report-comment.yml starts from report.yml's run.
        const started = await workflowsStarted(sandbox, {
          name: 'pull_request',
          by: 'token',
          action: 'opened',
          number: dataPull,
          base: 'main',
          head: 'clean-rows',
          at: Date.now(),
        });
        expect(started).toEqual(['.github/workflows/ci.yml', REPORT]);

        firstReport = await run(REPORT, event);
        expect(Object.keys(firstReport.jobs).sort()).toEqual(['prepare', 'report', 'train']);
        const decide = firstReport.jobs.report?.instances[0]?.steps.find((s) => s.id === 'decide');
        expect(decide?.outputs).toMatchObject({ registers: 'false', gate: 'passed' });
        expect(decide?.action?.summary).toContain(`**Report only:** pull request #${dataPull}`);
        // Nothing registered, no branch pushed, no pull request opened.
        expect(await registryState()).toEqual(before);
        expect(sandbox.fake.pulls).toHaveLength(2);

        expect(await comment(firstReport)).toMatchObject({
          operation: 'created',
          'pr-number': String(dataPull),
        });
        const comments = reportComments(dataPull);
        expect(comments).toHaveLength(1);
        expect(comments[0]?.by).toBe('github-actions[bot]');
        expect(comments[0]?.body).toContain('## pinml: what merging this pull request would do');
        expect(comments[0]?.body).toContain(event.pull?.head.sha.slice(0, 7));
        expect(comments[0]?.body).toMatch(
          /## (PROMOTE|HOLD|REJECT): iris candidate .* vs production iris@1/,
        );
      },
    );

    chapter(
      'a new commit on the pull request edits the same comment; the old run comments nothing',
      async () => {
        await sandbox.push(
          { 'data/iris.csv': withoutRows(await irisCsv(), [3, 60, 120, 140]) },
          'And one more',
          'clean-rows',
        );
        const event = await sandbox.pullRequestEvent(dataPull, 'synchronize');
        const second = await run(REPORT, event);
        expect(await comment(second)).toMatchObject({ operation: 'updated' });
        const comments = reportComments(dataPull);
        expect(comments).toHaveLength(1);
        expect(comments[0]?.body).toContain(event.pull?.head.sha.slice(0, 7));
        // A late workflow_run of the first commit's report finds the pull request moved on.
        expect(await comment(firstReport)).toMatchObject({ operation: 'skipped' });
        expect(reportComments(dataPull)[0]?.body).toContain(event.pull?.head.sha.slice(0, 7));
        expect(await registryState()).toEqual(before);
      },
    );

    chapter(
      "a fork's pull request gets its report; its own workflow gets no secret and cannot write",
      async () => {
        // The fork edits report.yml to write with PINML_TOKEN (push a rollback branch, open its
        // pull request): a pull_request run uses the workflow of its merge commit, so this is
        // what an attacker's fork would try.
        const workflow = (await sandbox.show('main', REPORT)) ?? '';
        const hostile = workflow
          .replace('contents: read # production is read from main', 'contents: write')
          .replace(
            '      - if: ${{ !cancelled() && steps.decide.outputs.report-dir',
            [
              '      - id: register',
              '        uses: ./actions/rollback',
              '        with:',
              '          model: iris',
              '          github-token: ${{ secrets.PINML_TOKEN || github.token }}',
              '      - if: ${{ !cancelled() && steps.decide.outputs.report-dir',
            ].join('\n'),
          );
        expect(hostile).toContain('./actions/rollback');
        const { number } = await sandbox.openForkPull({
          fork: 'eve/models',
          branch: 'more-iris',
          files: {
            'data/iris.csv': withoutRows(await irisCsv(), [10, 20]),
            [REPORT]: hostile,
          },
          message: 'Better data',
          title: 'Better data',
        });
        const event = await sandbox.pullRequestEvent(number);
        expect(event.pull?.head.repo).toBe('eve/models');
        // PINML_TOKEN is a real write token here: were it given to the fork's run, it would push.
        const report = await run(REPORT, event, {
          allowFailure: true,
          secrets: { PINML_TOKEN: sandbox.token },
        });
        const steps = report.jobs.report?.instances[0]?.steps ?? [];
        expect(steps.find((s) => s.id === 'decide')?.result).toBe('success');
        const register = steps.find((s) => s.id === 'register');
        expect(register?.result).toBe('failure');
        expect(sandbox.fake.pulls.filter((p) => p.head.ref.startsWith('pinml/rollback'))).toEqual(
          [],
        );
        // GitHub's rule for a fork's pull request: no secret, and every job's token reads only,
        // whatever the (fork's) workflow asks for; so the step got the read-only token.
        for (const job of Object.values(report.jobs))
          for (const leg of job.instances) {
            const granted = sandbox.permissions(leg.token ?? '');
            expect(granted, leg.name).not.toBe('all');
            expect(Object.values(granted ?? {}), leg.name).not.toContain('write');
          }
        expect(register?.inputs?.['github-token']).toBe(report.jobs.report?.instances[0]?.token);
        for (const a of report.actions) {
          expect(a.stdout + a.stderr).not.toContain(sandbox.token);
        }
        expect(await registryState()).toEqual(before);

        // The comment comes from main's report-comment.yml, at main's tip.
        const outputs = await comment(report);
        expect(outputs).toMatchObject({ operation: 'created', 'pr-number': String(number) });
        const comments = reportComments(number);
        expect(comments).toHaveLength(1);
        expect(comments[0]?.by).toBe('github-actions[bot]');
        expect(comments[0]?.body).toContain('Part of the report run ended in failure');
        expect(comments[0]?.body).toMatch(/: iris candidate/);
      },
    );

    chapter(
      'a pull request with a broken dataset gets a comment that points at the run',
      async () => {
        const broken = (await irisCsv()).replace(
          /\n5\.1,3\.5,1\.4,0\.2,setosa\n/,
          '\n5.1,3.5,oops,0.2,setosa\n',
        );
        expect(broken).toContain('oops');
        const typo = await openDataPull('typo', { 'data/iris.csv': broken }, 'A typo');
        const report = await run(REPORT, await sandbox.pullRequestEvent(typo), {
          allowFailure: true,
        });
        expect(report.jobs.prepare?.result).toBe('failure');
        const annotations = report.actions.flatMap((a) => a.annotations);
        expect(
          annotations.some((a) => a.properties.file === 'data/iris.csv' && /oops/.test(a.message)),
        ).toBe(true);
        await comment(report);
        const comments = reportComments(typo);
        expect(comments).toHaveLength(1);
        expect(comments[0]?.body).toContain('ended in failure** before any model was compared');
        expect(await registryState()).toEqual(before);
      },
    );
  },
);
