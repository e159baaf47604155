import { readFile } from 'node:fs/promises';

import { describe, expect, it } from 'vitest';

import { ModelFormatError, RegistryError } from '../errors.ts';
import { GitRepo } from '../git/repo.ts';
import { loadModel } from '../models/index.ts';
import { compileVersion, loadVersion } from './load.ts';
import type { Card } from './schema.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const COMMIT = 'c'.repeat(40);

async function iris1(): Promise<{ card: Card; artifact: string }> {
  const dir = `${ROOT}registry/iris/versions/1`;
  return {
    card: JSON.parse(await readFile(`${dir}/card.json`, 'utf8')) as Card,
    artifact: await readFile(`${dir}/model.json`, 'utf8'),
  };
}

describe('loadVersion', () => {
  it('reads a version from git objects at a commit and compiles what its artifact predicts', async () => {
    const repo = GitRepo.open(ROOT);
    const head = await repo.resolve('HEAD');
    const loaded = await loadVersion(repo, head, 'iris', 1);
    expect(loaded).toMatchObject({ name: 'iris', version: 1, commit: head });
    expect(loaded.classKeys).toEqual(['setosa', 'versicolor', 'virginica']);
    const { artifact } = await iris1();
    const row = [5.9, 3.0, 5.1, 1.8];
    const out = new Float64Array(3);
    loaded.predictor.predictRow(row, out);
    expect(Array.from(out)).toEqual(loadModel(JSON.parse(artifact)).predictProba([row])[0]);
  });

  it('refuses a version that is not registered, naming the file', async () => {
    const repo = GitRepo.open(ROOT);
    const head = await repo.resolve('HEAD');
    await expect(loadVersion(repo, head, 'iris', 999)).rejects.toThrow(RegistryError);
    await expect(loadVersion(repo, head, 'iris', 999)).rejects.toThrow(
      /registry\/iris\/versions\/999\/card\.json is missing/,
    );
  });
});

describe('compileVersion', () => {
  it('refuses an artifact whose kind is not the one its card records', async () => {
    const { card, artifact } = await iris1();
    const other = { ...card, artifact: { ...card.artifact, kind: 'logistic-regression' } };
    expect(() => compileVersion({ card: other, artifact, commit: COMMIT })).toThrow(
      ModelFormatError,
    );
    expect(() => compileVersion({ card: other, artifact, commit: COMMIT })).toThrow(
      /but its card records logistic-regression/,
    );
  });

  it('refuses an artifact whose features are not the card signature’s', async () => {
    const { card, artifact } = await iris1();
    const inputs = card.signature.inputs.map((i, j) => (j === 0 ? { ...i, name: 'sepal' } : i));
    const other = { ...card, signature: { ...card.signature, inputs } };
    expect(() => compileVersion({ card: other, artifact, commit: COMMIT })).toThrow(
      /its card's signature lists sepal, /,
    );
  });

  it('refuses text that is not JSON, naming the file and commit', async () => {
    const { card } = await iris1();
    expect(() => compileVersion({ card, artifact: '{', commit: COMMIT })).toThrow(
      /registry\/iris\/versions\/1\/model\.json at cccccccccccc is not JSON/,
    );
  });
});
