/**
 * `pinml pipeline` with several models checks every model's data before it trains any: a bad
 * dataset of one model stops the run before another is registered and committed.
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
