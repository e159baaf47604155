/**
 * The one Iris fixture of the tests: the fast test configuration (small candidates, few folds),
 * the shipped `pinml.yaml` reduced to some of its candidates, and project folders holding a
 * configuration and the bundled Iris data. Registry, CLI, server and action tests build their
 * projects from here.
 *
 * Test helper only: product code never imports it.
 */
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { repoRoot } from './runtimes.ts';

/** The bundled Iris dataset. */
export const IRIS_CSV = path.join(repoRoot, 'data', 'iris.csv');

/** One candidate of a test configuration, written as one flow-style YAML line. */
export interface IrisCandidate {
  name: string;
  algorithm: string;
  seed?: number;
  params: Record<string, number | string>;
}

/** Forests of 10 trees and a logistic regression: each trains in a tenth of a second. */
export const FAST_IRIS_CANDIDATES = {
  'forest-a': { name: 'forest-a', algorithm: 'random-forest', params: { trees: 10, maxDepth: 3 } },
  'forest-b': {
    name: 'forest-b',
    algorithm: 'random-forest',
    seed: 7,
    params: { trees: 10, maxDepth: 3 },
  },
  'forest-c': {
    name: 'forest-c',
    algorithm: 'random-forest',
    seed: 8,
    params: { trees: 10, maxDepth: 3 },
  },
  logistic: {
    name: 'logistic',
    algorithm: 'ml-logistic-regression',
    params: { steps: 100, learningRate: 4 },
  },
  'forest-small': {
    name: 'forest-small',
    algorithm: 'ml-random-forest',
    params: { trees: 25, maxDepth: 3, minSamplesSplit: 10, maxFeatures: 0.5 },
  },
  'logistic-fast': {
    name: 'logistic-fast',
    algorithm: 'ml-logistic-regression',
    params: { steps: 200, learningRate: 4 },
  },
} as const satisfies Record<string, IrisCandidate>;

/** A name of {@link FAST_IRIS_CANDIDATES}. */
export type FastIrisCandidate = keyof typeof FAST_IRIS_CANDIDATES;

/** What {@link irisTestConfig} varies; the rest (features, label, hold-out, seed, gate) is fixed. */
export interface IrisTestConfigOptions {
  /** The dataset's path in the project (default `data/iris.csv`). */
  dataset?: string;
  /** Cross-validation folds (default 3). */
  folds?: number;
  /** The candidates, by name (default forest-a, forest-b, forest-c, logistic). */
  candidates?: readonly FastIrisCandidate[];
}

const flow = (value: Record<string, unknown>): string =>
  `{ ${Object.entries(value)
    .map(
      ([k, v]) =>
        `${k}: ${typeof v === 'object' && v !== null ? flow(v as Record<string, unknown>) : String(v)}`,
    )
    .join(', ')} }`;

/**
 * The fast test configuration of the Iris model: `pinml.yaml` text whose candidates train in
 * well under a second, gated at 0.85 accuracy and macro F1. Candidates that differ only in their
 * seed still get distinct training keys.
 */
export function irisTestConfig(options: IrisTestConfigOptions = {}): string {
  const names = options.candidates ?? ['forest-a', 'forest-b', 'forest-c', 'logistic'];
  const candidates = names.map((n) => `      - ${flow(FAST_IRIS_CANDIDATES[n])}\n`).join('');
  return `version: 1
models:
  iris:
    dataset: ${options.dataset ?? 'data/iris.csv'}
    features: [sepal_length, sepal_width, petal_length, petal_width]
    label: species
    classes: [setosa, versicolor, virginica]
    split: { holdout: 0.3, folds: ${options.folds ?? 3}, seed: 42 }
    candidates:
${candidates}    gate: { minAccuracy: 0.85, minMacroF1: 0.85 }
`;
}

/** The shipped `pinml.yaml`'s candidates that train in well under a second each on Iris. */
export const FAST_SHIPPED_CANDIDATES = ['forest-conservative', 'logistic-fast'] as const;

/**
 * This repository's `pinml.yaml`: as shipped, or with only `candidates` kept in every model
 * (and `resamples` bootstrap resamples in the comparison, when given).
 */
export async function shippedIrisConfig(
  options: { candidates?: readonly string[]; resamples?: number } = {},
): Promise<string> {
  const text = await readFile(path.join(repoRoot, 'pinml.yaml'), 'utf8');
  const { candidates, resamples } = options;
  if (candidates === undefined && resamples === undefined) return text;
  const doc = parseDocument(text);
  const models = doc.toJS() as {
    models: Record<string, { candidates: { name: string }[]; compare?: { resamples?: number } }>;
  };
  for (const [name, model] of Object.entries(models.models)) {
    if (candidates !== undefined) {
      const kept = model.candidates.filter((c) => candidates.includes(c.name));
      if (kept.length === 0)
        throw new Error(`pinml.yaml: model ${name} has none of ${candidates.join(', ')}`);
      doc.setIn(['models', name, 'candidates'], doc.createNode(kept));
    }
    if (resamples !== undefined && model.compare?.resamples !== undefined)
      doc.setIn(['models', name, 'compare', 'resamples'], resamples);
  }
  return doc.toString();
}

/**
 * Writes a project into `dir`: `pinml.yaml` (`config`, default the shipped one) and the bundled
 * `data/iris.csv`. Returns `dir`.
 */
export async function irisProject(dir: string, options: { config?: string } = {}): Promise<string> {
  await mkdir(path.join(dir, 'data'), { recursive: true });
  await copyFile(IRIS_CSV, path.join(dir, 'data', 'iris.csv'));
  await writeFile(path.join(dir, 'pinml.yaml'), options.config ?? (await shippedIrisConfig()));
  return dir;
}
