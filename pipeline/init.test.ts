import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from './config.ts';
import { applyInit, planInit } from './init.ts';

const dirs: string[] = [];
afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

const options = {
  actionsRepo: 'acme/pinml',
  actionsRef: 'v1',
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
    expect(train).toContain('uses: acme/pinml/actions/train@v1');
    expect(train).toContain('uses: acme/pinml/actions/promote@v1');
    expect(await readFile(path.join(root, 'registry/README.md'), 'utf8')).toContain('pins.json');
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
