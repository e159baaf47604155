/**
 * The actions from another repository: a repository scaffolded by `pinml init` has only its data,
 * its pinml.yaml and workflows that use `<owner>/pinml/actions/<name>@<commit SHA> # <tag>` (the
 * tag looked up on a published pinml repository behind `git http-backend`); the scaffold passes
 * pinml's own workflow validation, and a push runs its train.yml with pinml's published bundles
 * and opens the promotion pull request.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planInit, resolveActions } from '../pipeline/init.ts';
import { validateWorkflow } from './scripts/validate.ts';
import { modelRepositoryFiles } from './testing/fixture-repo.ts';
import { node24, repoRoot } from './testing/run-action.ts';
import { publishPinml, type Published } from './testing/published.ts';
import { startSandbox, type Sandbox } from './testing/sandbox.ts';
import { runWorkflow } from './testing/workflow-runner.ts';

let sandbox: Sandbox;
/** Where pinml is published: a public repository (no token) with a release tag. */
let published: Published;

beforeAll(async () => {
  // A default branch other than main: nothing may assume main.
  sandbox = await startSandbox({ defaultBranch: 'trunk' });
  published = await publishPinml('v1.2.0');
});

afterAll(async () => {
  await published?.close();
  await sandbox?.close();
});

describe('a repository scaffolded by pinml init', () => {
  it('trains, registers and opens the promotion pull request with the published actions, on a default branch named trunk', async () => {
    node24.binary();
    // `pinml init --actions pinml-org/pinml@v1.2.0`: the annotated tag, peeled to its commit.
    const pin = await resolveActions('pinml-org/pinml', 'v1.2.0', { serverUrl: published.base });
    expect(pin).toEqual({ commit: published.commit, version: 'v1.2.0' });
    await expect(
      resolveActions('pinml-org/pinml', 'v9.9.9', { serverUrl: published.base }),
    ).rejects.toThrow(/has no tag or branch "v9\.9\.9"/);
    const scaffold = await planInit({
      actionsRepo: 'pinml-org/pinml',
      actionsCommit: pin.commit,
      actionsVersion: pin.version,
      branch: 'trunk',
      model: 'iris',
      dataset: 'data/iris.csv',
      features: ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'],
      label: 'species',
    });
    const files: Record<string, string> = {};
    for (const f of scaffold) files[f.path] = f.content;
    Object.assign(files, await modelRepositoryFiles());
    expect(files['.github/workflows/train.yml']).toContain(
      `uses: pinml-org/pinml/actions/train@${published.commit} # v1.2.0`,
    );
    // pinml's own rules hold for the scaffold: GitHub's parser, SHA pins, least privilege.
    for (const f of scaffold.filter((f) => f.path.startsWith('.github/workflows/'))) {
      expect(await validateWorkflow(f.path, f.content, repoRoot), f.path).toEqual([]);
    }
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
    const open = sandbox.fake.pulls.filter((p) => p.state === 'open');
    expect(open).toMatchObject([{ base: { ref: 'trunk' }, head: { ref: 'pinml/promote-iris' } }]);
    // The registration landed on trunk, and no branch named main was ever made.
    const log = await sandbox.cli.git(sandbox.bare, 'log', '--format=%s', '-1', 'trunk');
    expect(log).toMatch(/^pinml: register iris@1 /);
    expect(await sandbox.cli.git(sandbox.bare, 'branch', '--list', 'main')).toBe('');
    expect(sandbox.fake.violations).toEqual([]);
  });
});
