/**
 * registry.yml, run on the push a merged promotion or rollback makes, as GitHub runs it: a
 * standing promotion pull request compared with the production a rollback replaced is closed,
 * saying why. And GTO's tags, with the variable PINML_GTO_TAGS = true:
 * train.yml's register step tags each registration (`iris@v1.0.0`) on the commit that made it;
 * registry.yml, on the push a merged promotion or rollback makes, tags the production change
 * (`iris#prod#<n>`, n counting up) on the version's registration commit, which is how GTO finds
 * a stage's version. Read back with the git CLI and parsed with GTO's published tag pattern.
 */
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { GTO_TAG, parseGtoTag } from '../pipeline/registry/gto.ts';
import { chapters } from './testing/chapters.ts';
import { workflowsStarted } from './testing/events.ts';
import { irisCsv, withoutRows, workflowRepositoryFiles } from './testing/fixture-repo.ts';
import { workflowLoop } from './testing/loop.ts';
import { node24, node24Available } from './testing/run-action.ts';
import { startSandbox, type Sandbox } from './testing/sandbox.ts';
import type { WorkflowEvent, WorkflowRun } from './testing/workflow-runner.ts';

const TRAIN = '.github/workflows/train.yml';
const REGISTRY = '.github/workflows/registry.yml';
const ROLLBACK = '.github/workflows/rollback.yml';

let sandbox: Sandbox;
const loop = workflowLoop(() => sandbox, { vars: () => ({ PINML_GTO_TAGS: 'true' }) });
const { run, push, merge } = loop;

beforeAll(async () => {
  sandbox = await startSandbox();
});

afterAll(async () => {
  console.log(loop.timing('registry loop'));
  await sandbox?.close();
});

/** The bare repository's tags as git lists them: name, object type, the commit it names. */
async function gitTags(): Promise<{ name: string; type: string; commit: string }[]> {
  const out = await sandbox.cli.git(
    sandbox.bare,
    'for-each-ref',
    '--format=%(refname:short) %(objecttype) %(*objectname)',
    'refs/tags',
  );
  return out
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [name = '', type = '', commit = ''] = line.split(' ');
      return { name, type, commit };
    });
}

/** The commit that added version `v`'s card (its registration), by the git CLI. */
async function registrationOf(v: number): Promise<string> {
  const out = await sandbox.cli.git(
    sandbox.bare,
    'log',
    '--format=%H',
    '--diff-filter=A',
    'main',
    '--',
    `registry/iris/versions/${v}/card.json`,
  );
  return out.trim();
}

const tagOutputs = (result: WorkflowRun, job: string, step: string): string | undefined =>
  result.jobs[job]?.instances[0]?.steps.find((s) => s.id === step)?.outputs.tags;

/** Merges `pull` as a reviewer and runs what GitHub starts from the merge's push. */
async function mergeAndTag(pull: number): Promise<WorkflowRun> {
  const event = await merge(pull);
  const pushes = (await sandbox.causedEvents()).filter(
    (e) => e.name === 'push' && e.ref === 'refs/heads/main',
  );
  const last = pushes.at(-1);
  expect(last && (await workflowsStarted(sandbox, last))).toEqual([
    '.github/workflows/ci.yml',
    REGISTRY,
  ]);
  return run(REGISTRY, event);
}

describe.skipIf(!node24Available('the GTO workflow tests (their actions run on node24) are'))(
  "registry.yml: stale proposals after a rollback, and GTO's tags from train.yml and registry.yml",
  () => {
    const { chapter } = chapters();

    chapter('a registration is tagged iris@v1.0.0 on the commit that registered it', async () => {
      node24.binary();
      const result = await run(
        TRAIN,
        await push(await workflowRepositoryFiles(), 'A model repository using pinml'),
      );
      expect(tagOutputs(result, 'decide', 'register')).toBe('["iris@v1.0.0"]');
      expect(await gitTags()).toEqual([
        { name: 'iris@v1.0.0', type: 'tag', commit: await registrationOf(1) },
      ]);
      const message = await sandbox.cli.git(sandbox.bare, 'cat-file', '-p', 'iris@v1.0.0');
      expect(message).toMatch(/^tagger github-actions\[bot\] /m);
      expect(message).toContain('Registering artifact iris version v1.0.0');
    });

    chapter(
      'merging the promotion tags iris#prod#1 on v1; without the variable nothing runs',
      async () => {
        const event = await merge(1);
        const off = await run(REGISTRY, event, { vars: { PINML_GTO_TAGS: '' } });
        expect(off.jobs.tags?.result).toBe('skipped');
        expect((await gitTags()).map((t) => t.name)).toEqual(['iris@v1.0.0']);
        const on = await run(REGISTRY, event);
        expect(tagOutputs(on, 'tags', 'tag')).toBe('["iris#prod#1"]');
        expect((await gitTags()).find((t) => t.name === 'iris#prod#1')?.commit).toBe(
          await registrationOf(1),
        );
      },
    );

    chapter('v2 registered and promoted: iris@v2.0.0, then iris#prod#2 on v2', async () => {
      const trained = await run(
        TRAIN,
        await push(
          { 'data/iris.csv': withoutRows(await irisCsv(), [2, 52, 102]) },
          'Drop three rows',
        ),
      );
      expect(tagOutputs(trained, 'decide', 'register')).toBe('["iris@v2.0.0"]');
      const tagged = await mergeAndTag(2);
      expect(tagOutputs(tagged, 'tags', 'tag')).toBe('["iris#prod#2"]');
      expect((await gitTags()).find((t) => t.name === 'iris#prod#2')?.commit).toBe(
        await registrationOf(2),
      );
    });

    chapter(
      'a rollback merged closes the v3 proposal compared with v2, and tags iris#prod#3 on v1; running again writes nothing',
      async () => {
        // v3 is proposed against production v2 …
        const trained = await run(
          TRAIN,
          await push(
            { 'data/iris.csv': withoutRows(await irisCsv(), [3, 53, 103]) },
            'Drop three other rows',
          ),
        );
        expect(tagOutputs(trained, 'decide', 'register')).toBe('["iris@v3.0.0"]');
        const proposal = loop.openPulls().find((p) => p.head.ref === 'pinml/promote-iris');
        expect(proposal?.title).toBe('Promote iris@3 to production');
        // … then v2 is rolled back to v1.
        const dispatch: WorkflowEvent = {
          name: 'workflow_dispatch',
          sha: await sandbox.tip(),
          inputs: { model: 'iris', reason: 'v2 is worse live' },
        };
        await run(ROLLBACK, dispatch);
        const rollbackPull = loop.openPulls().find((p) => p.head.ref === 'pinml/rollback-iris');
        expect(rollbackPull).toBeDefined();
        const tagged = await mergeAndTag(rollbackPull?.number ?? 0);
        expect(tagOutputs(tagged, 'tags', 'tag')).toBe('["iris#prod#3"]');
        const withdrawn = tagged.jobs.proposals?.instances[0]?.steps.find(
          (s) => s.id === 'withdraw',
        );
        expect(withdrawn?.outputs).toMatchObject({
          operation: 'closed',
          'pr-number': String(proposal?.number),
        });
        const closed = sandbox.fake.pulls.find((p) => p.number === proposal?.number);
        expect(closed?.state).toBe('closed');
        expect(closed?.comments.at(-1)).toMatch(
          /production changed from iris@2 to iris@1 since iris@3 was compared with it/,
        );
        expect(await sandbox.tip('pinml/promote-iris')).toBeDefined(); // the branch is kept
        const again = await run(REGISTRY, { name: 'workflow_dispatch', sha: await sandbox.tip() });
        expect(tagOutputs(again, 'tags', 'tag')).toBe('[]');
        expect(
          again.jobs.proposals?.instances[0]?.steps.find((s) => s.id === 'withdraw')?.outputs,
        ).toMatchObject({ operation: 'unchanged' });

        // As GTO reads them: every tag parses with its pattern, every stage tag sits on a version
        // tag's commit, and the latest prod assignment is v1.
        const tags = await gitTags();
        expect(tags.map((t) => t.name).sort()).toEqual([
          'iris#prod#1',
          'iris#prod#2',
          'iris#prod#3',
          'iris@v1.0.0',
          'iris@v2.0.0',
          'iris@v3.0.0',
        ]);
        for (const t of tags) {
          expect(GTO_TAG.test(t.name), t.name).toBe(true);
          expect(t.type, t.name).toBe('tag');
        }
        const versionAt = new Map(
          tags.filter((t) => parseGtoTag(t.name)?.version).map((t) => [t.commit, t.name]),
        );
        for (const t of tags.filter((x) => parseGtoTag(x.name)?.stage))
          expect(versionAt.get(t.commit), t.name).toBeDefined();
        const latest = tags
          .filter((t) => parseGtoTag(t.name)?.stage === 'prod')
          .sort((a, b) => (parseGtoTag(a.name)?.counter ?? 0) - (parseGtoTag(b.name)?.counter ?? 0))
          .at(-1);
        expect(versionAt.get(latest?.commit ?? '')).toBe('iris@v1.0.0');
      },
    );
  },
);
