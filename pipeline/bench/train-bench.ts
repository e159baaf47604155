/**
 * `npm run bench:train`: this project's learners and scikit-learn side by side, in one run, on
 * the same rows.
 *
 * 1. synth_10k and synth_100k (../shared/bench/peer/data/*.{train,test}.csv, fixed 70/30
 *    splits): scikit-learn first (the peer's `train_bench_split.py`, single-threaded, with
 *    Debian's python3-sklearn), then pinml's `random-forest` (100 trees, its defaults) and
 *    `logistic-regression` in a child process each: fit seconds (median of `--reps`), test
 *    accuracy, artifact bytes (canonical JSON, against scikit-learn's pickle), batch prediction
 *    rows/s over `--predict-rows` rows tiled from the test file, and the child's peak resident
 *    memory (for scikit-learn, measured by /usr/bin/time when it is there).
 * 2. Iris: mean hold-out accuracy over 20 seeded stratified 70/30 splits of pinml's
 *    `random-forest` and of `ml-random-forest`, both with 100 trees and their defaults.
 * 3. The issue's targets, each PASS or FAIL.
 *
 * pinml trains and predicts on every core (`PINML_TRAIN_THREADS` caps it); scikit-learn on one,
 * as the targets are stated. Ends with one JSON line of the figures; `--json` prints only that
 * line on stdout. No scikit-learn (`apt-get update && apt-get install -y python3-sklearn`):
 * its side is reported missing and the targets that need it fail.
 *
 *   npm run bench:train -- [--reps 3] [--predict-rows 1000000] [--iris-seeds 20] [--json]
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { availableParallelism, cpus } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';

import { parseDataset, type Dataset } from '../dataset.ts';
import { canonicalJson } from '../json.ts';
import {
  DEFAULT_ML_RANDOM_FOREST_PARAMS,
  mlRandomForestFamily,
} from '../models/ml-random-forest.ts';
import type { BatchClassifier } from '../models/family.ts';
import type { ModelArtifact } from '../models/types.ts';
import { stopForestThreads } from '../models/random-forest/threads.ts';
import { DEFAULT_RANDOM_FOREST_PARAMS, fitRandomForest } from '../models/random-forest/index.ts';
import {
  DEFAULT_LOGISTIC_REGRESSION_PARAMS,
  fitLogisticRegression,
} from '../models/logistic-regression.ts';
import { peer, peerDir, type Figures, type Learner, type Peer } from './scikit-learn.ts';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const DATASETS = ['synth_10k', 'synth_100k'] as const;
const FEATURES = ['f0', 'f1', 'f2', 'f3', 'f4', 'f5', 'f6', 'f7', 'f8', 'f9'];

const { values: args } = parseArgs({
  options: {
    reps: { type: 'string', default: '3' },
    'predict-rows': { type: 'string', default: '1000000' },
    'iris-seeds': { type: 'string', default: '20' },
    json: { type: 'boolean', default: false },
    child: { type: 'string' },
    dataset: { type: 'string' },
  },
});
const reps = Number(args.reps);
const predictRows = Number(args['predict-rows']);

async function readSplit(name: string, part: 'train' | 'test'): Promise<Dataset> {
  const file = path.join(peerDir, 'data', `${name}.${part}.csv`);
  return parseDataset(await readFile(file), {
    path: file,
    features: FEATURES,
    label: 'label',
    classes: [0, 1, 2],
  });
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

function accuracyOf(predicted: ArrayLike<number>, actual: readonly number[]): number {
  let right = 0;
  for (let i = 0; i < actual.length; i++) if (predicted[i] === actual[i]) right++;
  return right / actual.length;
}

/** `rows` rows tiled from `data`, row-major. */
function tiled(data: Dataset, rows: number): Float64Array {
  const d = data.features.length;
  const x = new Float64Array(rows * d);
  for (let i = 0; i < rows; i++) x.set(data.X[i % data.X.length] as number[], i * d);
  return x;
}

/** Child process: one learner on one data set; prints its figures as JSON. */
async function child(learner: Learner, name: string): Promise<void> {
  const train = await readSplit(name, 'train');
  const test = await readSplit(name, 'test');
  const spec = { features: train.features, classes: train.classes, seed: 42 };
  const fit = (): BatchClassifier<ModelArtifact> =>
    learner === 'random-forest'
      ? fitRandomForest(train.X, train.y, { ...spec, params: DEFAULT_RANDOM_FOREST_PARAMS })
      : fitLogisticRegression(train.X, train.y, {
          ...spec,
          params: DEFAULT_LOGISTIC_REGRESSION_PARAMS,
        });
  const fits: number[] = [];
  let model: BatchClassifier<ModelArtifact> | undefined;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    model = fit();
    fits.push((performance.now() - t0) / 1000);
  }
  if (model === undefined) throw new Error('--reps must be at least 1');
  const x = tiled(test, predictRows);
  const t0 = performance.now();
  // A forest's batch predictor splits large batches over the cores (predictForest).
  model.predictBatch(x, predictRows);
  const seconds = (performance.now() - t0) / 1000;
  const figures: Figures = {
    fitSeconds: median(fits),
    accuracy: accuracyOf(model.predictIndex(test.X), test.y),
    artifactBytes: Buffer.byteLength(canonicalJson(model.toJSON())),
    predictRowsPerSecond: predictRows / seconds,
    peakMemoryMiB: process.resourceUsage().maxRSS / 1024,
  };
  await stopForestThreads();
  console.log(JSON.stringify(figures));
}

/** Runs this script as a child for one learner and data set (so memory is its own). */
async function ours(learner: Learner, name: string): Promise<Figures> {
  const { stdout } = await run(
    process.execPath,
    [
      '--import',
      'tsx',
      fileURLToPath(import.meta.url),
      '--child',
      learner,
      '--dataset',
      name,
      '--reps',
      String(reps),
      '--predict-rows',
      String(predictRows),
    ],
    { cwd: root, maxBuffer: 1 << 20, env: process.env },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1) as string) as Figures;
}

/** A stratified 70/30 split of Iris, shuffled by `seed` within each class. */
function irisSplit(iris: Dataset, seed: number): { train: number[]; test: number[] } {
  let s = seed >>> 0;
  const random = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const train: number[] = [];
  const test: number[] = [];
  for (let c = 0; c < iris.classes.length; c++) {
    const rows = iris.y.flatMap((y, i) => (y === c ? [i] : []));
    for (let i = rows.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [rows[i], rows[j]] = [rows[j] as number, rows[i] as number];
    }
    const cut = Math.round(rows.length * 0.7);
    train.push(...rows.slice(0, cut));
    test.push(...rows.slice(cut));
  }
  return { train, test };
}

async function irisComparison(seeds: number): Promise<{ pinml: number; mlRandomForest: number }> {
  const iris = parseDataset(await readFile(path.join(root, 'data', 'iris.csv')), {
    path: 'data/iris.csv',
    features: ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'],
    label: 'species',
    classes: ['setosa', 'versicolor', 'virginica'],
  });
  const pick = <T>(xs: readonly T[], at: readonly number[]): T[] => at.map((i) => xs[i] as T);
  let ours = 0;
  let library = 0;
  for (let seed = 1; seed <= seeds; seed++) {
    const { train, test } = irisSplit(iris, seed);
    const spec = { features: iris.features, classes: iris.classes, seed };
    const X = pick(iris.X, train);
    const y = pick(iris.y, train);
    const truth = pick(iris.y, test);
    const a = fitRandomForest(X, y, { ...spec, params: DEFAULT_RANDOM_FOREST_PARAMS });
    const b = mlRandomForestFamily.fit(X, y, {
      ...spec,
      params: { ...DEFAULT_ML_RANDOM_FOREST_PARAMS, trees: 100 },
    });
    ours += accuracyOf(a.predictIndex(pick(iris.X, test)), truth);
    library += accuracyOf(b.predictIndex(pick(iris.X, test)), truth);
  }
  return { pinml: ours / seeds, mlRandomForest: library / seeds };
}

interface Target {
  name: string;
  pass: boolean | null;
  detail: string;
}

function fmt(x: number | null | undefined, digits = 3): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '—';
  return x.toFixed(digits);
}

function bytes(x: number | undefined): string {
  if (x === undefined) return '—';
  return x >= 1 << 20 ? `${(x / (1 << 20)).toFixed(1)} MiB` : `${(x / 1024).toFixed(1)} KiB`;
}

function rate(x: number | undefined): string {
  if (x === undefined) return '—';
  return x >= 1e6 ? `${(x / 1e6).toFixed(2)} M` : `${Math.round(x / 1000)} k`;
}

async function main(): Promise<void> {
  const log = args.json ? (): void => {} : (line = ''): void => console.log(line);
  const threads = process.env.PINML_TRAIN_THREADS ?? String(availableParallelism());
  log(
    `pinml bench:train — ${cpus()[0]?.model ?? 'cpu'}, ${availableParallelism()} cores, Node ${process.version}; ` +
      `pinml threads ${threads}, scikit-learn 1 thread; fit = median of ${reps}; prediction over ${predictRows.toLocaleString('en')} rows`,
  );
  const figures: Record<string, { pinml: Partial<Record<Learner, Figures>>; sklearn: Peer }> = {};
  for (const name of DATASETS) {
    log(`${name}: scikit-learn …`);
    const sklearn = await peer(name, { reps, predictRows });
    log(`${name}: pinml …`);
    const pinml = {
      'random-forest': await ours('random-forest', name),
      'logistic-regression': await ours('logistic-regression', name),
    };
    figures[name] = { pinml, sklearn };
  }
  log('iris: 20 seeds …');
  const iris = await irisComparison(Number(args['iris-seeds']));

  const rows: string[][] = [];
  for (const name of DATASETS) {
    const f = figures[name];
    if (!f) continue;
    for (const learner of ['random-forest', 'logistic-regression'] as const) {
      for (const [who, r] of [
        ['pinml', f.pinml[learner]],
        ['scikit-learn', f.sklearn.results[learner]],
      ] as const) {
        rows.push([
          name,
          learner,
          who,
          fmt(r?.fitSeconds),
          fmt(r?.accuracy, 4),
          bytes(r?.artifactBytes),
          rate(r?.predictRowsPerSecond),
          fmt(r?.peakMemoryMiB, 0),
        ]);
      }
    }
  }
  const header = [
    'data',
    'learner',
    'by',
    'fit s',
    'test acc',
    'artifact',
    'predict rows/s',
    'peak MiB',
  ];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    `| ${cells.map((c, i) => (i < 3 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join(' | ')} |`;
  log('');
  log(line(header));
  log(`|${widths.map((w, i) => (i < 3 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
  for (const r of rows) log(line(r));
  log('');
  log(
    `iris, mean hold-out accuracy over ${args['iris-seeds']} seeds (100 trees): pinml random-forest ${fmt(iris.pinml, 4)}, ml-random-forest ${fmt(iris.mlRandomForest, 4)}`,
  );

  const targets: Target[] = [];
  const ratio = (a?: number, b?: number): number | null =>
    a === undefined || b === undefined ? null : a / b;
  const check = (
    name: string,
    value: number | null,
    ok: (v: number) => boolean,
    detail: (v: number) => string,
  ): void => {
    targets.push(
      value === null
        ? { name, pass: false, detail: 'no scikit-learn figure to compare with' }
        : { name, pass: ok(value), detail: detail(value) },
    );
  };
  for (const [name, accTolerance] of [
    ['synth_100k', 0.01],
    ['synth_10k', 0.015],
  ] as const) {
    const ours = figures[name]?.pinml['random-forest'];
    const theirs = figures[name]?.sklearn.results['random-forest'];
    check(
      `${name} forest fit <= 0.5x scikit-learn`,
      ratio(ours?.fitSeconds, theirs?.fitSeconds),
      (v) => v <= 0.5,
      (v) => `${fmt(v, 2)}x`,
    );
    check(
      `${name} forest accuracy >= scikit-learn - ${accTolerance}`,
      ours && theirs ? ours.accuracy - theirs.accuracy : null,
      (v) => v >= -accTolerance - 1e-12,
      (v) => `${v >= 0 ? '+' : ''}${fmt(v, 4)}`,
    );
    if (name === 'synth_100k') {
      check(
        `${name} forest artifact <= 0.5x pickle`,
        ratio(ours?.artifactBytes, theirs?.artifactBytes),
        (v) => v <= 0.5,
        (v) => `${fmt(v, 3)}x`,
      );
      targets.push({
        name: `${name} forest peak memory < 1 GiB`,
        pass: (ours?.peakMemoryMiB ?? Infinity) < 1024,
        detail: `${fmt(ours?.peakMemoryMiB, 0)} MiB`,
      });
    }
  }
  for (const name of DATASETS) {
    const ours = figures[name]?.pinml['random-forest'];
    const theirs = figures[name]?.sklearn.results['random-forest'];
    check(
      `${name} forest batch prediction >= 2x scikit-learn`,
      ratio(ours?.predictRowsPerSecond, theirs?.predictRowsPerSecond),
      (v) => v >= 2,
      (v) => `${fmt(v, 2)}x`,
    );
  }
  check(
    'iris mean accuracy >= ml-random-forest - 0.01',
    iris.pinml - iris.mlRandomForest,
    (v) => v >= -0.01,
    (v) => `${v >= 0 ? '+' : ''}${fmt(v, 4)}`,
  );
  {
    const ours = figures.synth_100k?.pinml['logistic-regression'];
    const theirs = figures.synth_100k?.sklearn.results['logistic-regression'];
    check(
      'synth_100k logistic fit <= 5x scikit-learn',
      ratio(ours?.fitSeconds, theirs?.fitSeconds),
      (v) => v <= 5,
      (v) => `${fmt(v, 2)}x`,
    );
    check(
      'synth_100k logistic accuracy within 0.01 of scikit-learn',
      ours && theirs ? ours.accuracy - theirs.accuracy : null,
      (v) => Math.abs(v) <= 0.01 + 1e-12,
      (v) => `${v >= 0 ? '+' : ''}${fmt(v, 4)}`,
    );
  }
  log('');
  log('targets:');
  for (const t of targets) log(`  ${t.pass ? 'PASS' : 'FAIL'}  ${t.name}: ${t.detail}`);
  const missing = DATASETS.flatMap((n) =>
    figures[n]?.sklearn.available ? [] : [figures[n]?.sklearn.reason],
  );
  if (missing.length > 0) log(`scikit-learn missing: ${missing[0]}`);
  console.log(
    JSON.stringify({
      bench: 'train',
      cores: availableParallelism(),
      threads: Number(threads),
      reps,
      predictRows,
      figures: Object.fromEntries(
        Object.entries(figures).map(([n, f]) => [
          n,
          { pinml: f.pinml, sklearn: f.sklearn.results },
        ]),
      ),
      iris,
      targets: targets.map((t) => ({ name: t.name, pass: t.pass, detail: t.detail })),
    }),
  );
}

if (args.child !== undefined) {
  await child(args.child as Learner, args.dataset ?? 'synth_10k');
} else {
  await main();
}
