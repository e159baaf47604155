import { describe, expect, it } from 'vitest';

import {
  DEFAULT_RANDOM_FOREST_PARAMS,
  fitRandomForest,
} from '../pipeline/models/random-forest/index.ts';
import {
  DEFAULT_LOGISTIC_REGRESSION_PARAMS,
  fitLogisticRegression,
} from '../pipeline/models/logistic-regression.ts';
import type { ServedModel } from './models.ts';
import { answerPredict, predictRows, type Picked } from './predict.ts';
import { compilePredictor } from '../pipeline/models/predictor.ts';
import { depsOf, irisForest, irisRows, stateOf } from './testing/fixtures.ts';

const row = { sepal_length: 6.3, sepal_width: 2.9, petal_length: 4.9, petal_width: 1.5 };
const other = { sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 };
const features = Object.keys(row) as (keyof typeof row)[];

/** The answer as an object, the way `JSON.stringify` is the reference for its bytes. */
function answerObject(model: ServedModel, rows: (typeof row)[], batch: boolean, id?: string) {
  const p = predictRows(
    model,
    rows.map((r) => Float64Array.from(features.map((f) => r[f]))),
  );
  const k = model.classKeys.length;
  const answers = rows.map((_, i) => {
    const probabilities: Record<string, number> = {};
    for (let j = 0; j < k; j++) {
      probabilities[model.classKeys[j] as string] = p.probabilities[i * k + j] as number;
    }
    return { class: model.predictor.classes[p.classes[i] as number], probabilities };
  });
  return {
    model: model.name,
    version: model.version,
    commit: model.commit,
    ...(id === undefined ? {} : { id }),
    ...(batch ? { predictions: answers } : { prediction: answers[0] }),
  };
}

function answer(model: ServedModel, body: unknown): string {
  const picked: Picked = { model: undefined };
  return answerPredict(stateOf([model]), body, undefined, 5, depsOf(stateOf([])).metrics, picked);
}

describe('answerPredict', () => {
  it('writes the bytes JSON.stringify writes for the answer object', async () => {
    const iris = await irisForest();
    expect(answer(iris, { inputs: row })).toBe(JSON.stringify(answerObject(iris, [row], false)));
    const id = 'req "42" \u2028 é';
    expect(answer(iris, { id, inputs: [row, other] })).toBe(
      JSON.stringify(answerObject(iris, [row, other], true, id)),
    );
  });

  it('keeps the order an object gives to classes whose keys look like integers', async () => {
    const iris = await irisForest();
    const numbered: ServedModel = {
      ...iris,
      classKeys: ['2', '0', '1'],
      predictor: { ...iris.predictor, classes: [2, 0, 1] },
    };
    const text = answer(numbered, { inputs: [row, other] });
    expect(text).toBe(JSON.stringify(answerObject(numbered, [row, other], true)));
    expect(text).toContain('"probabilities":{"0":');
  });
});

describe('predictRows', () => {
  // 300 rows: past the forest's WebAssembly threshold (256).
  it.each([
    ['random-forest', 'its batch walk'],
    ['softmax-regression', 'its batch predictor'],
  ] as const)(
    'answers a large batch of a %s through %s with the bits of row-by-row',
    async (kind, _path) => {
      const iris = await irisForest();
      const rows = await irisRows();
      const y = rows.map((_, i) => (i < 50 ? 0 : i < 100 ? 1 : 2));
      const spec = {
        features: iris.predictor.features,
        classes: ['setosa', 'versicolor', 'virginica'],
        seed: 3,
      };
      const fitted =
        kind === 'random-forest'
          ? fitRandomForest(rows, y, {
              ...spec,
              params: { ...DEFAULT_RANDOM_FOREST_PARAMS, trees: 30 },
            })
          : fitLogisticRegression(rows, y, { ...spec, params: DEFAULT_LOGISTIC_REGRESSION_PARAMS });
      const predictor = compilePredictor(fitted.toJSON());
      expect(predictor.kind).toBe(kind);
      expect(predictor.predictBatch).toBeDefined();
      const model: ServedModel = { ...iris, predictor };
      const batch = Array.from({ length: 300 }, (_, i) => {
        const r = rows[i % rows.length] as number[];
        return Float64Array.from(r, (v, j) => v + ((i * 7 + j) % 5) * 0.1);
      });
      const together = predictRows(model, batch);
      const alone = batch.map((r) => predictRows(model, [r]));
      expect(Array.from(together.classes)).toEqual(alone.map((p) => p.classes[0]));
      expect(Array.from(together.probabilities)).toEqual(
        alone.flatMap((p) => Array.from(p.probabilities)),
      );
      expect(Array.from(together.counts).reduce((a, b) => a + b, 0)).toBe(300);
      expect(new Set(together.classes).size).toBe(3);
    },
  );
});
