import { describe, expect, it } from 'vitest';
import { addPaths, pathsCover, uncoveredByAny, uncoveredFiles } from './workflow-paths.ts';

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
    expect(() => addPaths('on: [push]\n', ['x'])).toThrow(
      /no on.push.paths or on.pull_request.paths/,
    );
  });

  it("checks and extends the report workflow's pull_request filter the same way", () => {
    const report = `on:\n  pull_request:\n    branches: [main]\n    paths:\n      - 'data/**'\n  workflow_dispatch:\n`;
    const both = TRAIN.replace(
      '  workflow_dispatch:\n',
      "  pull_request:\n    paths: ['data/**', 'extra/*.csv']\n",
    );
    expect(uncoveredFiles(report, ['pinml.yaml'], 'pull_request')).toMatchObject({
      uncovered: ['pinml.yaml'],
      line: 4,
    });
    // A push filter does not speak for the pull request's, nor the other way round.
    expect(uncoveredFiles(report, ['pinml.yaml']).uncovered).toEqual([]);
    expect(uncoveredByAny(both, ['pinml.yaml', 'extra/a.csv', 'data/x.csv'])).toEqual([
      'extra/a.csv',
      'pinml.yaml',
    ]);
    // Each list gains only what it lacks.
    const updated = addPaths(both, ['pinml.yaml', 'extra/a.csv']);
    expect(uncoveredByAny(updated, ['pinml.yaml', 'extra/a.csv'])).toEqual([]);
    expect(updated.match(/'extra\/a\.csv'/g)).toHaveLength(1);
    expect(updated.match(/pinml\.yaml/g)).toHaveLength(2);
  });
});
