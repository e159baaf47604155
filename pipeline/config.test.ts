import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configJsonSchema, parseConfig, selectModels } from './config.ts';
import { ConfigError } from './errors.ts';
import { DEFAULT_ML_RANDOM_FOREST_PARAMS } from './models/ml-random-forest.ts';
import { DEFAULT_ML_LOGISTIC_REGRESSION_PARAMS } from './models/ml-logistic-regression.ts';
import { DEFAULT_RANDOM_FOREST_PARAMS } from './models/random-forest/index.ts';
import { DEFAULT_LOGISTIC_REGRESSION_PARAMS } from './models/logistic-regression.ts';

const minimal = `version: 1
models:
  flowers:
    dataset: data/flowers.csv
    features: [a, b]
    label: kind
    candidates:
      - name: lr
        algorithm: logistic-regression
`;

function problemsOf(text: string): ConfigError['problems'] {
  try {
    parseConfig(text);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems;
  }
  throw new Error('expected the configuration to be refused');
}

describe('parseConfig', () => {
  it('reads the bundled pinml.yaml with at least six Iris candidates of both families', () => {
    const config = parseConfig(readFileSync(new URL('../pinml.yaml', import.meta.url), 'utf8'));
    const iris = config.models.iris;
    expect(iris?.name).toBe('iris');
    expect(iris?.candidates.length).toBeGreaterThanOrEqual(6);
    const algorithms = new Set(iris?.candidates.map((c) => c.algorithm));
    expect(algorithms).toEqual(new Set(['random-forest', 'logistic-regression']));
    expect(iris?.gate.minAccuracy).toBeGreaterThan(0);
  });

  it('fills in documented defaults for split, gate, compare and params', () => {
    const m = parseConfig(minimal).models.flowers;
    expect(m?.split).toEqual({ holdout: 0.3, folds: 5, seed: 42 });
    expect(m?.gate).toEqual({ minAccuracy: 0, minMacroF1: 0 });
    expect(m?.compare.policy).toBe('non-inferiority');
    expect(m?.compare.tolerance).toBe(0.02);
    expect(m?.candidates[0]?.params).toEqual({ C: 1, maxIterations: 100, tolerance: 1e-4 });
  });

  it("defaults every family's params to the family's own defaults", () => {
    const more = ['random-forest', 'ml-random-forest', 'ml-logistic-regression']
      .map((a, i) => `      - name: c${i}\n        algorithm: ${a}\n`)
      .join('');
    const m = parseConfig(minimal + more).models.flowers;
    expect(m?.candidates.map((c) => c.params)).toEqual([
      DEFAULT_LOGISTIC_REGRESSION_PARAMS,
      DEFAULT_RANDOM_FOREST_PARAMS,
      DEFAULT_ML_RANDOM_FOREST_PARAMS,
      DEFAULT_ML_LOGISTIC_REGRESSION_PARAMS,
    ]);
  });

  it('keeps reading forest params written for ml-random-forest under random-forest', () => {
    const old = minimal.replace(
      'algorithm: logistic-regression',
      'algorithm: random-forest\n        params: { trees: 30, maxDepth: 5, minSamplesSplit: 4, maxFeatures: 0.5, bootstrap: false }',
    );
    expect(parseConfig(old).models.flowers?.candidates[0]?.params).toEqual({
      ...DEFAULT_RANDOM_FOREST_PARAMS,
      trees: 30,
      maxDepth: 5,
      minSamplesSplit: 4,
      maxFeatures: 0.5,
      bootstrap: false,
    });
  });

  it('names the params logistic-regression takes when given those of ml-logistic-regression', () => {
    const problems = problemsOf(
      minimal.replace(
        'algorithm: logistic-regression',
        'algorithm: logistic-regression\n        params: { steps: 200 }',
      ),
    );
    expect(problems).toHaveLength(1);
    expect(problems[0]?.message).toBe(
      'unknown key "steps"; allowed here: C, maxIterations, tolerance',
    );
  });

  it("refuses a forest's maxFeatures that is neither sqrt, log2 nor a fraction", () => {
    const bad = minimal.replace(
      'algorithm: logistic-regression',
      'algorithm: random-forest\n        params: { maxFeatures: 3 }',
    );
    expect(problemsOf(bad)[0]).toMatchObject({
      field: 'models.flowers.candidates.0.params.maxFeatures',
    });
  });

  it('reports an unknown key with its line, column, path and a suggestion', () => {
    const problems = problemsOf(minimal.replace('label: kind', 'label: kind\n    gaet: {}'));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({
      file: 'pinml.yaml',
      line: 7,
      col: 5,
      field: 'models.flowers.gaet',
    });
    expect(problems[0]?.message).toContain('did you mean "gate"');
  });

  it('reports a wrong type at the value', () => {
    const problems = problemsOf(
      minimal.replace('label: kind', 'label: kind\n    split: { folds: five }'),
    );
    expect(problems[0]).toMatchObject({ line: 7, col: 21, field: 'models.flowers.split.folds' });
    expect(problems[0]?.message).toMatch(/expected .*number.*found the string "five"/);
  });

  it('reports a missing field at its parent mapping', () => {
    const problems = problemsOf(minimal.replace('    label: kind\n', ''));
    expect(problems[0]).toMatchObject({ line: 4, field: 'models.flowers.label' });
    expect(problems[0]?.message).toContain('missing field "label"');
  });

  it('reports every mistake at once, in file order', () => {
    const problems = problemsOf(
      minimal
        .replace('dataset: data/flowers.csv', 'dataset: ../outside.csv')
        .replace('algorithm: logistic-regression', 'algorithm: svm'),
    );
    expect(problems.map((p) => p.field)).toEqual([
      'models.flowers.dataset',
      'models.flowers.candidates.0.algorithm',
    ]);
    expect(problems[1]?.message).toContain('"logistic-regression"');
  });

  it('refuses duplicate candidates, a label among the features and unsafe model names', () => {
    const dup = minimal + '      - name: lr\n        algorithm: logistic-regression\n';
    expect(problemsOf(dup)[0]?.field).toBe('models.flowers.candidates.1.name');
    expect(problemsOf(minimal.replace('label: kind', 'label: a'))[0]?.field).toBe(
      'models.flowers.label',
    );
    expect(problemsOf(minimal.replace('  flowers:', '  ../evil:'))[0]?.message).toMatch(
      /lower-case|"\.\."/,
    );
  });

  it('reports YAML syntax errors with their position', () => {
    const problems = problemsOf('version: 1\nmodels:\n  a: [1,\n');
    expect(problems[0]?.line).toBeGreaterThanOrEqual(3);
    expect(problems[0]?.message).toContain('YAML syntax');
  });

  it('refuses an empty file and says what to write', () => {
    expect(problemsOf('')[0]?.message).toContain('version: 1');
  });

  it('selects a model by name and names the defined ones when it is missing', () => {
    const config = parseConfig(minimal);
    expect(selectModels(config, 'flowers')).toHaveLength(1);
    expect(() => selectModels(config, 'nope')).toThrow(/no model "nope"; defined: flowers/);
  });

  it('publishes a JSON Schema that lists the model keys', () => {
    const schema = JSON.stringify(configJsonSchema());
    for (const key of ['dataset', 'features', 'candidates', 'minMacroF1', 'tolerance'])
      expect(schema).toContain(key);
  });
});
