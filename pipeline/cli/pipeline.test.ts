/**
 * `pinml pipeline` with several models checks every model's data before it trains any: a bad
 * dataset of one model stops the run before another is registered and committed. A promotion
 * the standing branch already proposes is reported in one line, not planned again.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { createWorkspace, irisConfigYaml, type Workspace } from '../registry/testing/project.ts';
import { pinml } from '../testing/run-cli.ts';

let ws: Workspace | undefined;
afterAll(() => ws?.remove());

describe('pinml pipeline with several models', () => {
  it('trains and registers nothing when one model has bad data', async () => {
    ws = await createWorkspace('pipeline-many');
    // iris, then a second model whose dataset lacks a feature column.
    const second = irisConfigYaml('data/short.csv')
      .split('\n')
      .slice(2)
      .join('\n')
      .replace('  iris:', '  iris-short:');
    const iris = await readFile(path.join(process.cwd(), 'data', 'iris.csv'), 'utf8');
    const short = iris
      .split('\n')
      .map((line) => line.split(',').slice(1).join(','))
      .join('\n');
    const dir = await ws.project({
      'pinml.yaml': `${irisConfigYaml()}${second}`,
      'data/short.csv': short,
    });
    const head = await ws.git(dir, 'rev-parse', 'HEAD');
    const result = await pinml(dir, 'pipeline');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/iris-short/);
    expect(result.stderr).toMatch(/sepal_length/);
    expect(result.stderr).toMatch(/nothing was trained or registered/);
    // Nothing committed, no run folder, no registry written.
    expect(await ws.git(dir, 'rev-parse', 'HEAD')).toBe(head);
    expect(await ws.git(dir, 'status', '--porcelain')).toBe('');
    expect(existsSync(path.join(dir, '.pinml', 'runs', 'iris'))).toBe(false);
    expect(existsSync(path.join(dir, 'registry'))).toBe(false);
  });
});

describe('pinml pipeline run again', () => {
  it('says in one line that the promotion is already proposed instead of printing its plan again', async () => {
    ws ??= await createWorkspace('pipeline-again');
    const dir = await ws.project();
    const first = await pinml(dir, 'pipeline');
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/registered iris@1 /);
    expect(first.stdout).toContain('promotion plan (not applied):');
    const promoted = await pinml(dir, 'promote', 'iris@1');
    expect(promoted.code, promoted.stderr).toBe(0);
    const branch = await ws.git(dir, 'rev-parse', 'pinml/promote-iris');

    const second = await pinml(dir, 'pipeline');
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toMatch(/unchanged: iris@1 has this training key already/);
    expect(second.stdout).not.toContain('promotion plan');
    const lines = second.stdout.split('\n').filter((l) => l.startsWith('promotion'));
    expect(lines).toEqual([
      'promotion: unchanged (iris@1 is already proposed on pinml/promote-iris)',
    ]);
    expect(await ws.git(dir, 'rev-parse', 'pinml/promote-iris')).toBe(branch);
  });

  it('prints the plan again once the proposal was merged and reverted', async () => {
    ws ??= await createWorkspace('pipeline-again');
    const dir = await ws.project();
    expect((await pinml(dir, 'pipeline')).code).toBe(0);
    expect((await pinml(dir, 'promote', 'iris@1')).code).toBe(0);
    await ws.git(dir, 'merge', '--quiet', '--no-ff', '--no-edit', 'pinml/promote-iris');
    await ws.git(dir, 'revert', '--no-edit', '-m', '1', 'HEAD');

    const again = await pinml(dir, 'pipeline');
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('promotion plan (not applied):');
    expect(again.stdout).not.toContain('already proposed');
  });
});
