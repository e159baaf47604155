/**
 * Served models and app dependencies for route tests: the registered iris@1 forest read from
 * this repository's registry, and a logistic regression trained on Iris with a card of its own.
 * Test helper only: product code never imports it.
 */
import { readFile } from 'node:fs/promises';

import { pino } from 'pino';

import { readDataset } from '../../pipeline/dataset.ts';
import { canonicalJson, sha256 } from '../../pipeline/json.ts';
import { mlLogisticRegressionFamily } from '../../pipeline/models/ml-logistic-regression.ts';
import type { Card } from '../../pipeline/registry/schema.ts';
import type { AppDeps } from '../deps.ts';
import { createMetrics } from '../metrics.ts';
import type { ServingState } from '../follow/reconcile.ts';
import { serveModel, type ServedModel } from '../follow/load-registry.ts';

export const ROOT = new URL('../../', import.meta.url).pathname;
export const COMMIT_A = 'a'.repeat(40);
export const COMMIT_B = 'b'.repeat(40);

/** The card and artifact text of iris@1 as registered in this repository. */
export async function irisFiles(): Promise<{ card: Card; artifact: string }> {
  const dir = `${ROOT}registry/iris/versions/1`;
  const card = JSON.parse(await readFile(`${dir}/card.json`, 'utf8')) as Card;
  return { card, artifact: await readFile(`${dir}/model.json`, 'utf8') };
}

/** iris@1 (the registered forest), served as of `commit`. */
export async function irisForest(commit = COMMIT_A): Promise<ServedModel> {
  const { card, artifact } = await irisFiles();
  return serveModel({ card, artifact, commit });
}

/** The Iris rows, in file order. */
export async function irisRows(): Promise<number[][]> {
  const data = await readDataset(ROOT, {
    path: 'data/iris.csv',
    features: ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'],
    label: 'species',
    classes: ['setosa', 'versicolor', 'virginica'],
  });
  return data.X;
}

/** A logistic regression on Iris as `<name>@<version>`, with a card derived from iris@1's. */
export async function irisLogistic(
  name = 'iris-lr',
  version = 2,
  commit = COMMIT_A,
): Promise<ServedModel> {
  const { card } = await irisFiles();
  const data = await readDataset(ROOT, {
    path: 'data/iris.csv',
    features: card.signature.inputs.map((i) => i.name),
    label: 'species',
    classes: card.signature.output.classes,
  });
  const model = mlLogisticRegressionFamily.fit(data.X, data.y, {
    features: data.features,
    classes: data.classes,
    params: { steps: 200, learningRate: 4 },
    seed: 42,
  });
  const artifact = canonicalJson(model.toJSON());
  const derived: Card = {
    ...card,
    model: name,
    version,
    candidate: {
      name: 'logistic-fast',
      algorithm: 'logistic-regression',
      params: { steps: 200, learningRate: 4 },
      seed: 42,
    },
    artifact: {
      file: 'model.json',
      kind: 'logistic-regression',
      formatVersion: 1,
      sha256: sha256(artifact),
      bytes: Buffer.byteLength(artifact),
    },
  };
  return serveModel({ card: derived, artifact, commit });
}

/** A reconciled state serving `models`. */
export function stateOf(
  models: readonly ServedModel[],
  extra: Partial<ServingState> = {},
): ServingState {
  return {
    ref: 'main',
    commit: COMMIT_A,
    models: new Map(models.map((m) => [m.name, m])),
    roles: new Map(),
    pinned: models.map((m) => m.name),
    problems: [],
    reconciledAt: '2026-11-22T00:00:00.000Z',
    ...extra,
  };
}

/** Dependencies with a silent logger, fresh metrics and small limits. */
export function depsOf(
  state: ServingState | (() => ServingState),
  overrides: Partial<AppDeps> = {},
): AppDeps {
  return {
    state: typeof state === 'function' ? state : () => state,
    metrics: createMetrics({ defaults: false }),
    log: pino({ level: 'silent' }),
    limits: { bodyBytes: 4096, batchRows: 5 },
    server: { name: 'pinml', version: '0.0.0-test' },
    ...overrides,
  };
}
