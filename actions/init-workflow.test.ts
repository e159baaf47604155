/**
 * The actions from another repository: a repository scaffolded by `pinml init` has only its data,
 * its pinml.yaml and workflows that use `<owner>/pinml/actions/<name>@v1`; a push runs its
 * train.yml with pinml's published bundles and opens the promotion pull request.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planInit } from '../pipeline/init.ts';
import { modelRepositoryFiles } from './testing/fixture-repo.ts';
import { node24, repoRoot } from './testing/run-action.ts';
import { startSandbox, type Sandbox } from './testing/sandbox.ts';
import { runWorkflow } from './testing/workflow-runner.ts';

let sandbox: Sandbox;

beforeAll(async () => {
  sandbox = await startSandbox();
});

afterAll(async () => {
  await sandbox?.close();
});

describe('a repository scaffolded by pinml init', () => {
  it('trains, registers and opens the promotion pull request with the published actions', async () => {
    node24.binary();
    const scaffold = await planInit({
      actionsRepo: 'pinml-org/pinml',
      actionsRef: 'v1',
      model: 'iris',
      dataset: 'data/iris.csv',
      features: ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'],
      label: 'species',
    });
    const files: Record<string, string> = {};
    for (const f of scaffold) files[f.path] = f.content;
    Object.assign(files, await modelRepositoryFiles());
    expect(files['.github/workflows/train.yml']).toContain(
      'uses: pinml-org/pinml/actions/train@v1',
    );
    expect(Object.keys(files).some((f) => f.startsWith('actions/'))).toBe(false);

    const { before, after, changed } = await sandbox.push(files, 'Scaffolded by pinml init');
    const result = await runWorkflow(sandbox, {
      workflow: '.github/workflows/train.yml',
      event: { name: 'push', sha: after, before, changed },
      remoteActions: { 'pinml-org/pinml': repoRoot },
    });
    const failed = Object.entries(result.jobs).filter(([, j]) => j.result === 'failure');
    expect(
      failed.map(([id]) => id),
      result.log.join('\n'),
    ).toEqual([]);
    const decide = result.jobs.decide?.instances[0]?.steps ?? [];
    expect(decide.find((s) => s.id === 'register')?.outputs).toMatchObject({
      status: 'created',
      ref: 'iris@1',
    });
    expect(decide.find((s) => s.id === 'promote')?.outputs).toMatchObject({ operation: 'created' });
    expect(sandbox.fake.pulls.filter((p) => p.state === 'open')).toHaveLength(1);
    expect(sandbox.fake.violations).toEqual([]);
  });
});
