import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from './config.ts';
import { applyInit, planInit } from './init.ts';
import { pinml, pinmlOk } from './testing/run-cli.ts';

const dirs: string[] = [];
afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

const SHA = 'a'.repeat(40);
const options = {
  actionsRepo: 'acme/pinml',
  actionsCommit: SHA,
  actionsVersion: 'v1.2.0',
  branch: 'main',
  model: 'churn',
  dataset: 'data/churn.csv',
  features: ['tenure', 'spend'],
  label: 'churned',
};

describe('pinml init', () => {
  it('scaffolds a valid pinml.yaml, workflows that use the published actions, and the registry docs', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'pinml-init-'));
    dirs.push(root);
    const results = await applyInit(root, await planInit(options));
    expect(results.every((r) => r.outcome === 'created')).toBe(true);
    const config = parseConfig(await readFile(path.join(root, 'pinml.yaml'), 'utf8'));
    expect(config.models.churn?.features).toEqual(['tenure', 'spend']);
    const train = await readFile(path.join(root, '.github/workflows/train.yml'), 'utf8');
    expect(train).not.toContain('./actions/');
    // pinml's actions are pinned as third-party actions are: full SHA, version in a comment.
    expect(train).toContain(`uses: acme/pinml/actions/train@${SHA} # v1.2.0`);
    expect(train).toContain(`uses: acme/pinml/actions/promote@${SHA} # v1.2.0`);
    expect(train).not.toMatch(/uses: acme\/pinml\/actions\/[\w-]+@v/);
    expect(await readFile(path.join(root, 'pinml.yaml'), 'utf8')).toContain(
      'https://github.com/acme/pinml#configuration-pinmlyaml',
    );
    expect(await readFile(path.join(root, 'registry/README.md'), 'utf8')).toContain('pins.json');
  });

  it('trains on the branch it is told, and refuses an action pin that is not a full SHA', async () => {
    const files = await planInit({ ...options, branch: 'trunk' });
    const train = files.find((f) => f.path === '.github/workflows/train.yml')?.content ?? '';
    expect(train).toMatch(/^ {4}branches: \[trunk\]$/m);
    expect(train).not.toMatch(/branches: \[main\]/);
    await expect(planInit({ ...options, actionsCommit: 'v1' })).rejects.toThrow(
      'the actions must be pinned to a full commit SHA (40 hex digits), not "v1"',
    );
    await expect(planInit({ ...options, branch: 'bad..name' })).rejects.toThrow();
  });

  it('puts a dataset outside data/ in the paths: filter; init --update adds one named later', async () => {
    const files = await planInit({ ...options, dataset: 'datasets/churn.csv' });
    const train = files.find((f) => f.path === '.github/workflows/train.yml')?.content ?? '';
    expect(train).toMatch(/^ {6}- 'pinml\.yaml'\n {6}- 'datasets\/churn\.csv'\n/m);
    expect(train).toContain('# The pinml loop'); // the comments stay
    // The report workflow's pull_request filter too: a pull request changing it gets a report.
    const report = files.find((f) => f.path === '.github/workflows/report.yml')?.content ?? '';
    expect(report).toMatch(/^ {6}- 'pinml\.yaml'\n {6}- 'datasets\/churn\.csv'\n/m);
    const root = await mkdtemp(path.join(tmpdir(), 'pinml-init-update-'));
    dirs.push(root);
    await applyInit(root, await planInit(options));
    // A second model whose dataset lives elsewhere: train.yml does not cover it yet.
    const config = await readFile(path.join(root, 'pinml.yaml'), 'utf8');
    const second = config
      .split('\n')
      .slice(config.split('\n').indexOf('  churn:'))
      .join('\n')
      .replace('  churn:', '  wine:')
      .replace('data/churn.csv', 'warehouse/wine.csv');
    await writeFile(path.join(root, 'pinml.yaml'), `${config.trimEnd()}\n${second}`);
    const updated = await pinmlOk(root, 'init', '--update');
    expect(updated.stdout).toMatch(
      /^updated {5}\.github\/workflows\/train\.yml: paths: now also warehouse\/wine\.csv$/m,
    );
    const workflow = await readFile(path.join(root, '.github/workflows/train.yml'), 'utf8');
    expect(workflow).toContain("      - 'warehouse/wine.csv'\n");
    expect(updated.stdout).toMatch(
      /^updated {5}\.github\/workflows\/report\.yml: paths: now also warehouse\/wine\.csv$/m,
    );
    expect(await readFile(path.join(root, '.github/workflows/report.yml'), 'utf8')).toContain(
      "      - 'warehouse/wine.csv'\n",
    );
    expect((await pinmlOk(root, 'init', '--update')).stdout).toMatch(/^unchanged /);
    const bare = await pinml(root, 'init');
    expect(bare.code).toBe(2);
    expect(bare.stderr).toMatch(/--actions.*or pass --update/);
  });

  it('links to README headings that exist', async () => {
    const readme = await readFile(path.join(import.meta.dirname, '..', 'README.md'), 'utf8');
    // GitHub's anchors: lower case, punctuation dropped, spaces to hyphens.
    const anchors = new Set(
      [...readme.matchAll(/^#+ (.+)$/gm)].map((m) =>
        (m[1] ?? '')
          .toLowerCase()
          .replace(/[^\w\- ]/g, '')
          .replace(/ /g, '-'),
      ),
    );
    expect(anchors).toContain('configuration-pinmlyaml');
    expect(anchors).toContain('setting-up-github');
  });

  it('is re-runnable: unchanged files stay, an edited file is kept unless forced', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'pinml-init-'));
    dirs.push(root);
    const files = await planInit(options);
    await applyInit(root, files);
    await writeFile(path.join(root, 'pinml.yaml'), '# mine\n');
    const again = await applyInit(root, files);
    expect(again.find((r) => r.path === 'pinml.yaml')?.outcome).toBe('kept');
    expect(
      again.filter((r) => r.path !== 'pinml.yaml').every((r) => r.outcome === 'unchanged'),
    ).toBe(true);
    expect(await readFile(path.join(root, 'pinml.yaml'), 'utf8')).toBe('# mine\n');
    const forced = await applyInit(root, files, true);
    expect(forced.find((r) => r.path === 'pinml.yaml')?.outcome).toBe('overwritten');
  });
});
