/**
 * `features: all`: every column but the label and `exclude`, listed from the dataset's header
 * when the configuration is read, so the run (and its training key) is the one an explicit list
 * gives.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { parseConfig } from './config.ts';
import { ConfigError } from './errors.ts';
import { expandFeatures } from './features.ts';
import { irisProject, pinml, tempDirs } from './testing/run-cli.ts';

const dirs = tempDirs();
afterAll(() => dirs.remove());

const yaml = (features: string): string => `version: 1
models:
  iris:
    dataset: data/with-id.csv
${features}
    label: species
    split: { holdout: 0.3, folds: 3, seed: 42 }
    candidates:
      - { name: logistic, algorithm: ml-logistic-regression, params: { steps: 100, learningRate: 4 } }
`;

describe('features: all', () => {
  it('trains exactly the run an explicit list of the same columns trains', async () => {
    const dir = await irisProject(await dirs.make());
    const iris = await readFile(path.join(dir, 'data', 'iris.csv'), 'utf8');
    const lines = iris.trim().split('\n');
    const withId = lines.map((l, i) => `${i === 0 ? 'row_id' : String(i)},${l}`).join('\n');
    await writeFile(path.join(dir, 'data', 'with-id.csv'), `${withId}\n`);
    await writeFile(path.join(dir, 'all.yaml'), yaml('    features: all\n    exclude: [row_id]'));
    await writeFile(
      path.join(dir, 'listed.yaml'),
      yaml('    features: [sepal_length, sepal_width, petal_length, petal_width]'),
    );
    const all = await pinml(dir, 'train', '--config', 'all.yaml', '--out', 'run-all');
    expect(all.code).toBe(0);
    const listed = await pinml(dir, 'train', '--config', 'listed.yaml', '--out', 'run-listed');
    expect(listed.code).toBe(0);
    const runAll = await readFile(path.join(dir, 'run-all', 'run.json'), 'utf8');
    expect(runAll).toBe(await readFile(path.join(dir, 'run-listed', 'run.json'), 'utf8'));
    expect(JSON.parse(runAll)).toMatchObject({
      config: { features: ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'] },
    });
    expect(runAll).not.toContain('row_id');
  });

  it('refuses an exclude the header lacks, with a did-you-mean, and exclude without all', async () => {
    const header = (): Promise<string[]> => Promise.resolve(['row_id', 'a', 'b', 'species']);
    const bad = parseConfig(yaml('    features: all\n    exclude: [rowid]'));
    const err = (await expandFeatures(bad, header).catch((e: unknown) => e)) as ConfigError;
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toContain('models.iris.exclude[0]');
    expect(err.message).toContain('has no column "rowid" (did you mean "row_id"?)');
    const nothingLeft = parseConfig(yaml('    features: all\n    exclude: [row_id, a, b]'));
    await expect(expandFeatures(nothingLeft, header)).rejects.toThrow(/leaves no feature/);
    expect(() => parseConfig(yaml('    features: [a, b]\n    exclude: [row_id]'))).toThrow(
      /exclude.*only used with `features: all`/,
    );
    const ok = await expandFeatures(parseConfig(yaml('    features: all')), header);
    expect(ok.models.iris?.features).toEqual(['row_id', 'a', 'b']);
  });
});
