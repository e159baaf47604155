import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseDataset } from '../dataset.ts';
import { seededRandom } from '../stats.ts';
import { splitRows } from '../split.ts';
import { CurrentWindow } from './current.ts';
import { detectDrift, type DriftFacts } from './drift.ts';
import { DEFAULT_DRIFT_OPTIONS, type DriftOptions } from './options.ts';
import { planFeatures, planPrediction, type ReferenceSample } from './reference.ts';
import type { DriftReport } from './report.ts';

const iris = parseDataset(readFileSync(new URL('../../data/iris.csv', import.meta.url)), {
  path: 'data/iris.csv',
  features: ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'],
  label: 'species',
});
const train = splitRows(iris, { holdout: 0.3, folds: 5, seed: 42 }).train;
const classes = iris.classes.map(String);

/** The training part of iris as a reference, with its labels as the predicted-class mix. */
function irisReference(): ReferenceSample {
  const counts = classes.map((_, c) => train.filter((i) => iris.y[i] === c).length);
  return {
    features: iris.features,
    columns: iris.features.map((_, j) => Float64Array.from(train, (i) => iris.X[i]![j]!)),
    rows: train.length,
    predicted: { classes, counts },
  };
}

const facts: DriftFacts = {
  model: 'iris',
  version: 1,
  commit: 'c'.repeat(40),
  reference: { part: 'train', dataset: 'data/iris.csv', sha256: 's', rows: train.length },
  window: { from: 0, until: 1, source: 'test' },
  createdAt: new Date(0),
};

/** Drift of `rows` (inputs and a class each) against `reference`. */
function drift(
  reference: ReferenceSample,
  rows: { x: number[]; label: string | null }[],
  options: DriftOptions = DEFAULT_DRIFT_OPTIONS,
  maxRows = 1_000_000,
): DriftReport {
  const plans = planFeatures(reference, options);
  const window = new CurrentWindow(plans, maxRows);
  for (const r of rows) window.add(r.x, r.label);
  return detectDrift(
    plans,
    planPrediction(reference, 'prediction', options),
    window,
    facts,
    options,
  );
}

/** `n` training rows drawn with replacement, a class drawn with `weights` when given. */
function resample(n: number, seed: number, weights?: number[]): { x: number[]; label: string }[] {
  const random = seededRandom(seed);
  const byClass = classes.map((_, c) => train.filter((i) => iris.y[i] === c));
  return Array.from({ length: n }, () => {
    let pool = train;
    if (weights) {
      let u = random();
      let c = 0;
      while (c < weights.length - 1 && u >= weights[c]!) u -= weights[c++]!;
      pool = byClass[c]!;
    }
    const i = pool[Math.floor(random() * pool.length)]!;
    return { x: [...iris.X[i]!], label: classes[iris.y[i]!]! };
  });
}

function feature(report: DriftReport, name: string) {
  const f =
    report.features.find((x) => x.name === name) ??
    (name === 'prediction' ? report.prediction : undefined);
  if (!f) throw new Error(`no ${name}`);
  return f;
}

const std = (values: number[]): number => {
  const m = values.reduce((a, b) => a + b, 0) / values.length;
  return Math.sqrt(values.reduce((a, b) => a + (b - m) ** 2, 0) / values.length);
};

describe('drift against the training rows', () => {
  it('reports dataset drift on at most one of 20 seeded resamples of the training rows', () => {
    const reports = Array.from({ length: 20 }, (_, seed) =>
      drift(irisReference(), resample(500, seed + 1)),
    );
    const drifted = reports.filter((r) => r.datasetDrift).length;
    expect(drifted).toBeLessThanOrEqual(1);
    expect(reports.every((r) => r.testedFeatures === 4)).toBe(true);
  });

  it('names a feature whose mean moved by one standard deviation, with severity at least medium', () => {
    const sd = std(train.map((i) => iris.X[i]![1]!));
    const rows = resample(500, 7).map((r) => ({
      ...r,
      x: r.x.map((v, j) => (j === 1 ? v + sd : v)),
    }));
    const report = drift(irisReference(), rows);
    const f = feature(report, 'sepal_width');
    expect(f.test).toBe('ks');
    expect(f.drifted).toBe(true);
    expect(['medium', 'high']).toContain(f.severity);
    expect(feature(report, 'petal_length').drifted).toBe(false);
    // One feature of four drifted: no dataset drift, so the overall severity stays low.
    expect(report.datasetDrift).toBe(false);
    expect(report.severity).toBe('low');
  });

  it('names a feature whose spread doubled, with severity at least medium', () => {
    const values = train.map((i) => iris.X[i]![0]!);
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const rows = resample(500, 8).map((r) => ({
      ...r,
      x: r.x.map((v, j) => (j === 0 ? mean + 2 * (v - mean) : v)),
    }));
    const f = feature(drift(irisReference(), rows), 'sepal_length');
    expect(f.drifted).toBe(true);
    expect(['medium', 'high']).toContain(f.severity);
  });

  it('names the class mix when the class balance changed, and dataset drift follows the features', () => {
    const report = drift(irisReference(), resample(500, 9, [0.8, 0.1, 0.1]));
    const mix = feature(report, 'prediction');
    expect(mix.test).toBe('chisquare');
    expect(mix.drifted).toBe(true);
    expect(['medium', 'high']).toContain(mix.severity);
    expect(report.datasetDrift).toBe(true);
    expect(['medium', 'high']).toContain(report.severity);
  });

  it('gives no verdict, and says why, on a window smaller than minRows', () => {
    const report = drift(irisReference(), resample(10, 3));
    expect(report.testedFeatures).toBe(0);
    expect(report.datasetDrift).toBe(false);
    for (const f of report.features) {
      expect(f.score).toBeNull();
      expect(f.drifted).toBeNull();
      expect(f.note).toMatch(/too few rows for a verdict: 10 in the window, 30 needed/);
    }
  });

  it('reads thresholds from the options: a stricter p-value drifts nothing on the same rows', () => {
    const sd = std(train.map((i) => iris.X[i]![1]!));
    const rows = resample(300, 7).map((r) => ({
      ...r,
      x: r.x.map((v, j) => (j === 1 ? v + sd / 2 : v)),
    }));
    const loose = feature(drift(irisReference(), rows), 'sepal_width');
    const strict = feature(
      drift(irisReference(), rows, { ...DEFAULT_DRIFT_OPTIONS, pValue: 1e-300 }),
      'sepal_width',
    );
    expect(loose.drifted).toBe(true);
    expect(strict.drifted).toBe(false);
    expect(strict.score).toBe(loose.score);
  });
});

describe('categorical features', () => {
  const reference = (rows: number, values: number[]): ReferenceSample => ({
    features: ['level', 'x'],
    columns: [
      Float64Array.from({ length: rows }, (_, i) => values[i % values.length]!),
      Float64Array.from({ length: rows }, (_, i) => i),
    ],
    rows,
    predicted: null,
  });

  it('tests a feature with few distinct values by χ², and a new category drifts', () => {
    const ref = reference(300, [1, 2, 3]);
    const same = drift(
      ref,
      Array.from({ length: 300 }, (_, i) => ({ x: [(i % 3) + 1, i], label: null })),
    );
    expect(feature(same, 'level').kind).toBe('categorical');
    expect(feature(same, 'level').test).toBe('chisquare');
    expect(feature(same, 'level').drifted).toBe(false);
    expect(feature(same, 'x').kind).toBe('numerical');
    const unseen = drift(
      ref,
      Array.from({ length: 300 }, (_, i) => ({ x: [i % 4, i], label: null })),
    );
    const level = feature(unseen, 'level');
    expect(level.drifted).toBe(true);
    expect(level.shares).toMatchObject({ categories: ['1', '2', '3', '0'] });
    expect(same.prediction).toBeNull();
  });

  it('uses the two-proportion Z-test for two categories and Jensen–Shannon beyond 1,000 reference rows', () => {
    const small = drift(
      reference(300, [0, 1]),
      Array.from({ length: 300 }, (_, i) => ({ x: [i % 5 === 0 ? 1 : 0, i], label: null })),
    );
    expect(feature(small, 'level').test).toBe('z');
    expect(feature(small, 'level').drifted).toBe(true);
    const big = drift(
      reference(3000, [0, 1]),
      Array.from({ length: 300 }, (_, i) => ({ x: [i % 2, i], label: null })),
    );
    expect(feature(big, 'level').test).toBe('jensenshannon');
    expect(feature(big, 'level').scoreKind).toBe('distance');
    expect(feature(big, 'level').score).toBeCloseTo(0, 12);
    expect(feature(big, 'x').test).toBe('wasserstein');
  });
});

describe('beyond --max-rows', () => {
  it('gives the KS test the same statistic and p-value from the sketch as from the values', () => {
    const rows = resample(3000, 11).map((r) => ({
      ...r,
      x: r.x.map((v, j) => (j === 2 ? v * 1.05 : v)),
    }));
    const exact = drift(irisReference(), rows);
    const sketched = drift(irisReference(), rows, DEFAULT_DRIFT_OPTIONS, 100);
    expect(exact.method).toBe('exact');
    expect(sketched.method).toBe('sketch');
    expect(sketched.memoryBytes).toBeLessThan(exact.memoryBytes);
    exact.features.forEach((f, i) => {
      const s = sketched.features[i]!;
      expect(s.statistic).toBe(f.statistic);
      expect(s.score).toBe(f.score);
      expect(s.psi).toBeCloseTo(f.psi!, 12);
    });
  });

  it('keeps the Wasserstein distance within the error bound it states', () => {
    const random = seededRandom(5);
    const gauss = (): number =>
      Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    const ref: ReferenceSample = {
      features: ['a'],
      columns: [Float64Array.from({ length: 5000 }, gauss)],
      rows: 5000,
      predicted: null,
    };
    const rows = Array.from({ length: 20_000 }, () => ({ x: [gauss() * 1.3 + 0.2], label: null }));
    const exact = feature(drift(ref, rows), 'a');
    const sketched = feature(drift(ref, rows, DEFAULT_DRIFT_OPTIONS, 1000), 'a');
    expect(exact.test).toBe('wasserstein');
    expect(sketched.errorBound).toBeGreaterThan(0);
    // About a hundredth of the distance's threshold (0.1), and the true error is far smaller.
    expect(sketched.errorBound).toBeLessThan(0.02);
    expect(Math.abs(sketched.score! - exact.score!)).toBeLessThan(sketched.errorBound! / 10);
    expect(Math.abs(sketched.score! - exact.score!)).toBeLessThanOrEqual(sketched.errorBound!);
  });
});
