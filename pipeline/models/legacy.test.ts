import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

import { ModelFormatError } from '../errors.ts';
import { loadModel } from './index.ts';

/**
 * Artifacts written before pinml had its own forest and logistic regression (the registered
 * iris@1, and the logistic regression of the report fixture), with the labels and
 * probabilities that release predicted for 210 rows: Iris and rows between and beside them.
 */
const dir = new URL('./fixtures/legacy/', import.meta.url);
const read = (name: string): unknown => JSON.parse(readFileSync(new URL(name, dir), 'utf8'));
const expected = read('predictions.json') as Record<string, unknown> & { rows: number[][] };

describe('artifacts of earlier releases', () => {
  it.each([
    ['ml-random-forest-v1', 'ml-random-forest'],
    ['logistic-regression-v1', 'logistic-regression'],
  ])('loads %s and predicts exactly what it predicted when it was written', (name, kind) => {
    const model = loadModel(read(`${name}.json`));
    const then = expected[name] as { kind: string; labels: unknown[]; proba: number[][] };
    expect(model.kind).toBe(kind);
    expect(then.kind).toBe(kind);
    expect(model.predict(expected.rows)).toEqual(then.labels);
    // Bit-identical: toEqual compares numbers with Object.is.
    expect(model.predictProba(expected.rows)).toEqual(then.proba);
  });

  it('refuses an earlier artifact relabelled as one of the new kinds', () => {
    const forest = read('ml-random-forest-v1.json') as Record<string, unknown>;
    expect(() => loadModel({ ...forest, kind: 'random-forest' })).toThrow(ModelFormatError);
    const logistic = read('logistic-regression-v1.json') as Record<string, unknown>;
    expect(() => loadModel({ ...logistic, kind: 'softmax-regression' })).toThrow(
      /softmax-regression artifact: params is not valid/,
    );
  });
});
