import { describe, expect, it } from 'vitest';
import { addPaths, pathsCover, uncoveredFiles } from './workflow-paths.ts';

const TRAIN = `# The pinml loop
name: train
on:
  push:
    branches: [main]
    paths:
      - 'data/**'
      - 'pinml.yaml' # the pipeline definition
  workflow_dispatch:
jobs: {}
`;

describe("the training workflow's paths filter against pinml.yaml", () => {
  it('matches as GitHub filter patterns do', () => {
    expect(pathsCover(['data/**'], 'data/a/b.csv')).toBe(true);
    expect(pathsCover(['data/*'], 'data/a/b.csv')).toBe(false);
    expect(pathsCover(['data/**', '!data/scratch/**'], 'data/scratch/x.csv')).toBe(false);
    expect(
      pathsCover(['data/**', '!data/scratch/**', 'data/scratch/keep.csv'], 'data/scratch/keep.csv'),
    ).toBe(true);
    expect(pathsCover(['**.csv'], 'elsewhere/x.csv')).toBe(true);
  });

  it('finds a dataset outside the filter, with the line of paths:', () => {
    const check = uncoveredFiles(TRAIN, ['pinml.yaml', 'data/iris.csv', 'datasets/wine.csv']);
    expect(check).toEqual({
      patterns: ['data/**', 'pinml.yaml'],
      uncovered: ['datasets/wine.csv'],
      line: 6,
    });
    expect(uncoveredFiles('on: [push]\njobs: {}\n', ['x.csv']).uncovered).toEqual([]);
  });

  it('adds what is missing, keeping the comments and the patterns there; then nothing is missing', () => {
    const updated = addPaths(TRAIN, ['datasets/wine.csv']);
    expect(updated).toContain(
      "      - 'pinml.yaml' # the pipeline definition\n      - 'datasets/wine.csv'\n",
    );
    expect(updated.startsWith('# The pinml loop\n')).toBe(true);
    expect(uncoveredFiles(updated, ['pinml.yaml', 'datasets/wine.csv']).uncovered).toEqual([]);
    expect(addPaths(updated, [])).toBe(updated);
    expect(() => addPaths('on: [push]\n', ['x'])).toThrow(/no on.push.paths/);
  });
});
