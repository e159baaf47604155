/**
 * Protected default branches without a bypass, as GitHub runs the workflows against them.
 * A ruleset that requires signed commits:
 * the registration's `git push` is refused with GitHub's words; with the variable
 * PINML_COMMIT_VIA = api, register writes the commit through the REST git database (blobs, tree,
 * commit, ref update, each request checked against GitHub's OpenAPI description), GitHub signs
 * it, and the version reaches production through its promotion pull request with no push to the
 * protected branch. Then one that also requires a pull request: with PINML_COMMIT_VIA =
 * pull-request, register opens the registration pull request (`pinml/register-iris`); merging it
 * registers the version, and registry.yml, on that merge's push, proposes its promotion.
 */
import path from 'node:path';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { protectBranch } from '../pipeline/git/testing/git-server.ts';
import { VERIFIED_FILE } from '../pipeline/github/testing/fake-git-database.ts';
import { chapters } from './testing/chapters.ts';
import { workflowsStarted, type CausedEvent } from './testing/events.ts';
import { irisCsv, withoutRows, workflowRepositoryFiles } from './testing/fixture-repo.ts';
import { workflowLoop } from './testing/loop.ts';
import { node24, node24Available } from './testing/run-action.ts';
import { startSandbox, type Sandbox } from './testing/sandbox.ts';
import type { WorkflowEvent } from './testing/workflow-runner.ts';

const TRAIN = '.github/workflows/train.yml';
const REGISTRY = '.github/workflows/registry.yml';

let sandbox: Sandbox;
const loop = workflowLoop(() => sandbox);
const { run, push, merge } = loop;

beforeAll(async () => {
  sandbox = await startSandbox();
  // "Require signed commits" on main; the developer signs their own commits (on the bypass
  // list here, as the harness's commits carry no signature).
  await protectBranch(path.dirname(sandbox.bare), sandbox.repo, 'main', ['developer'], {
    pullRequest: false,
    signedCommits: true,
  });
});

afterAll(async () => {
  console.log(loop.timing('signed-commits loop'));
  await sandbox?.close();
});

/** The pushes git received on main (the API's ref updates are not pushes). */
async function gitPushesToMain(): Promise<string[]> {
  return (await sandbox.causedEvents())
    .filter((e) => e.name === 'push' && e.ref === 'refs/heads/main')
    .filter((e) => !sandbox.fake.events.some((f) => f.name === 'push' && f.at === e.at))
    .map((e) => e.by);
}

describe.skipIf(
  !node24Available('the signed-commits workflow tests (their actions run on node24) are'),
)(
  'train.yml and registry.yml against a main that requires signed commits, then pull requests',
  () => {
    const { chapter } = chapters();
    let first: WorkflowEvent;

    chapter(
      'a registration pushed with git is refused with GitHub’s words, and nothing lands',
      async () => {
        node24.binary();
        first = await push(await workflowRepositoryFiles(), 'A model repository using pinml');
        const before = await sandbox.tip();
        const result = await run(TRAIN, first, { allowFailure: true });
        const register = result.jobs.decide?.instances[0]?.steps.find((s) => s.id === 'register');
        expect(register?.result).toBe('failure');
        expect(register?.error).toMatch(/Commits must have verified signatures/);
        expect(await sandbox.tip()).toBe(before);
        expect(sandbox.fake.pulls).toEqual([]);
      },
    );

    chapter(
      'with commit-via api, GitHub writes and signs the registration, and it reaches production',
      async () => {
        const result = await run(TRAIN, first, { vars: { PINML_COMMIT_VIA: 'api' } });
        const register = result.jobs.decide?.instances[0]?.steps.find((s) => s.id === 'register');
        expect(register?.outputs).toMatchObject({ status: 'created', ref: 'iris@1' });
        const commit = register?.outputs.commit ?? '';
        expect(await sandbox.tip()).toBe(commit);
        const verified = await readFile(path.join(sandbox.bare, VERIFIED_FILE), 'utf8');
        expect(verified.split('\n')).toContain(commit);
        // Written by the job's token, as GitHub writes an API commit.
        expect(await sandbox.cli.git(sandbox.bare, 'log', '-1', '--format=%an|%cn', commit)).toBe(
          'github-actions[bot]|GitHub',
        );
        expect(
          sandbox.fake.requests
            .filter((r) => r.operationId?.startsWith('git/'))
            .map((r) => `${r.operationId} ${r.status}`),
        ).toEqual([
          'git/create-blob 201',
          'git/create-blob 201',
          'git/create-tree 201',
          'git/create-commit 201',
          'git/update-ref 200',
        ]);
        expect(loop.openPulls()).toMatchObject([{ title: 'Promote iris@1 to production' }]);
        await merge(loop.openPulls()[0]?.number ?? 0);
        expect(await sandbox.show('main', 'registry/iris/pins.json')).toContain('"production": 1');
        // Only the developer's own (signed) push went through git.
        expect(await gitPushesToMain()).toEqual(['developer']);
      },
    );

    chapter(
      'with pull requests required too, registration by pull request; its merge proposes the promotion',
      async () => {
        await protectBranch(path.dirname(sandbox.bare), sandbox.repo, 'main', ['developer'], {
          pullRequest: true,
          signedCommits: true,
        });
        const vars = { PINML_COMMIT_VIA: 'pull-request' };
        sandbox.fake.settings.allowAutoMerge = true; // Settings → General → "Allow auto-merge"
        const main = await sandbox.tip();
        // (The developer's push stands for a merged data pull request.)
        const result = await run(
          TRAIN,
          await push(
            { 'data/iris.csv': withoutRows(await irisCsv(), [2, 52, 102]) },
            'Drop three rows',
          ),
          { vars },
        );
        const steps = result.jobs.decide?.instances[0]?.steps ?? [];
        const register = steps.find((s) => s.id === 'register');
        expect(register?.outputs).toMatchObject({
          status: 'proposed',
          ref: 'iris@2',
          'auto-merge': 'requested',
        });
        expect(steps.find((s) => s.id === 'promote')?.result).toBe('skipped');
        expect(await sandbox.tip()).not.toBe(main); // the developer's push
        const registration = loop.openPulls().find((p) => p.head.ref === 'pinml/register-iris');
        expect(registration).toMatchObject({
          title: 'Register iris@2',
          labels: ['pinml', 'registration'],
        });
        expect(registration?.body).toContain('iris@2');
        // GitHub merges it once the ruleset's requirements pass (here: at once, as the reviewer).
        expect(registration?.auto_merge).toMatchObject({ merge_method: 'merge' });
        // Nothing registered on main until the pull request merges.
        expect(await sandbox.show('main', 'registry/iris/versions/2/card.json')).toBeUndefined();

        const merged = await merge(registration?.number ?? 0);
        expect(await sandbox.show('main', 'registry/iris/versions/2/card.json')).toBeDefined();
        const pushes = (await sandbox.causedEvents()).filter(
          (e) => e.name === 'push' && e.ref === 'refs/heads/main',
        );
        expect(await workflowsStarted(sandbox, pushes.at(-1) as CausedEvent)).toContain(REGISTRY);
        const proposed = await run(REGISTRY, merged, { vars });
        expect(
          proposed.jobs.registrations?.instances[0]?.steps.find((s) => s.id === 'promote')?.outputs,
        ).toMatchObject({ proposed: '["iris@2"]' });
        const promotion = loop.openPulls().find((p) => p.head.ref === 'pinml/promote-iris');
        expect(promotion?.title).toBe('Promote iris@2 to production');
        await merge(promotion?.number ?? 0);
        expect(await sandbox.show('main', 'registry/iris/pins.json')).toContain('"production": 2');
        // Still no push to main but the developer's own.
        expect(await gitPushesToMain()).toEqual(['developer', 'developer']);
      },
    );
  },
);
