import { describe, expect, it } from 'vitest';

import {
  DEFAULT_RANDOM_FOREST_PARAMS,
  fitRandomForest,
} from '../../pipeline/models/random-forest/index.ts';
import {
  DEFAULT_LOGISTIC_REGRESSION_PARAMS,
  fitLogisticRegression,
} from '../../pipeline/models/logistic-regression.ts';
import { compilePredictor } from '../../pipeline/models/predictor.ts';
import type { ServedModel } from '../follow/load-registry.ts';
import { irisForest, irisRows } from '../testing/fixtures.ts';
import { predictRows } from './answer.ts';

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
