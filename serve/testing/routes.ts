/**
 * What the route tests share: iris@1 (the registered forest, commit A), iris-lr@2 (a logistic
 * regression, commit B), the Iris rows, and apps serving one or both. Test helper only.
 */
import { createApp } from '../app.ts';
import type { ServedModel } from '../follow/load-registry.ts';
import { predictProba } from '../../pipeline/models/predictor.ts';
import {
  COMMIT_A,
  COMMIT_B,
  depsOf,
  irisForest,
  irisLogistic,
  irisRows,
  stateOf,
} from './fixtures.ts';

export const forest = await irisForest(COMMIT_A);
export const logistic = await irisLogistic('iris-lr', 2, COMMIT_B);
export const rows = await irisRows();
export const FEATURES = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];
export const rowObject = (r: readonly number[]): Record<string, number> =>
  Object.fromEntries(FEATURES.map((f, j) => [f, r[j] as number]));

/** An app serving iris@1 alone, and one serving iris@1 and iris-lr@2. */
export const one = createApp(depsOf(stateOf([forest])));
export const two = createApp(depsOf(stateOf([forest, logistic])));

export function post(path: string, body: unknown, headers: Record<string, string> = {}): Request {
  return new Request(`http://pinml.test${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

export async function json(res: Response): Promise<Record<string, unknown>> {
  return (await res.json()) as Record<string, unknown>;
}

/** What the compiled model predicts for a row, keyed by class. */
export function probabilitiesOf(
  model: ServedModel,
  row: readonly number[],
): Record<string, number> {
  const p = predictProba(model.predictor, [row])[0] as number[];
  return Object.fromEntries(model.classKeys.map((k, j) => [k, p[j] as number]));
}
