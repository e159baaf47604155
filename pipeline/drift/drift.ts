/**
 * Drift: the current window against the reference, feature by feature, with the test each
 * feature's plan chose (`reference.ts`), PSI over the reference's quantile bins, a severity
 * per feature, and dataset drift when at least `datasetShare` of the tested features drift.
 * Pure: plans and a filled window in, a {@link DriftReport} out.
 */
import { binCounts, toShares } from './bins.ts';
import { countCategories, type CurrentWindow } from './current.ts';
import type { DriftOptions } from './options.ts';
import type { CategoricalPlan, FeaturePlan, NumericalPlan } from './reference.ts';
import {
  PREDICTION_FEATURE,
  type DriftReport,
  type DriftWindow,
  type FeatureDrift,
  type Severity,
} from './report.ts';
import { OTHER_CATEGORY } from './sketch.ts';
import {
  chiSquare,
  jensenShannon,
  ksOfStatistic,
  ksTwoSample,
  psi,
  twoProportionZ,
  wasserstein,
} from './stats.ts';

/** What the report says about where its two sides came from. */
export interface DriftFacts {
  model: string;
  version: number;
  commit: string;
  reference: DriftReport['reference'];
  window: Omit<DriftWindow, 'rows'>;
  createdAt: Date;
}

const SEVERITY_ORDER: readonly Severity[] = ['none', 'low', 'medium', 'high'];

/** A drifted feature's severity from its PSI; `none` when it did not drift. */
export function severityOf(
  drifted: boolean | null,
  psiValue: number | null,
  o: DriftOptions,
): Severity {
  if (drifted !== true) return 'none';
  if (psiValue === null || psiValue < o.psiMedium) return 'low';
  return psiValue < o.psiHigh ? 'medium' : 'high';
}

/** Compares the filled window with the reference plans. */
export function detectDrift(
  plans: readonly FeaturePlan[],
  prediction: CategoricalPlan | null,
  window: CurrentWindow,
  facts: DriftFacts,
  options: DriftOptions,
): DriftReport {
  const tooFew = window.rows < options.minRows;
  const features = plans.map((plan, i) =>
    plan.kind === 'numerical'
      ? numericalDrift(plan, window, i, tooFew, options)
      : categoricalDrift(plan, categoryCountsOf(plan, window, i), window.rows, tooFew, options),
  );
  let predictionDrift: FeatureDrift | null = null;
  if (prediction !== null && window.predicted.size > 0) {
    const rows = [...window.predicted.values()].reduce((a, b) => a + b, 0);
    predictionDrift = categoricalDrift(
      { ...prediction, name: PREDICTION_FEATURE },
      window.predicted,
      rows,
      rows < options.minRows,
      options,
    );
  }
  const tested = features.filter((f) => f.drifted !== null);
  const drifted = tested.filter((f) => f.drifted === true);
  const datasetDrift = tested.length > 0 && drifted.length >= options.datasetShare * tested.length;
  let severity: Severity = 'none';
  for (const f of [...features, ...(predictionDrift ? [predictionDrift] : [])]) {
    if (SEVERITY_ORDER.indexOf(f.severity) > SEVERITY_ORDER.indexOf(severity))
      severity = f.severity;
  }
  if (!datasetDrift && SEVERITY_ORDER.indexOf(severity) > 1) severity = 'low';
  return {
    formatVersion: 1,
    model: facts.model,
    version: facts.version,
    commit: facts.commit,
    reference: facts.reference,
    window: { ...facts.window, rows: window.rows },
    features,
    prediction: predictionDrift,
    driftedFeatures: drifted.length,
    testedFeatures: tested.length,
    datasetDrift,
    severity,
    method: window.method,
    memoryBytes: window.memoryBytes,
    options,
    createdAt: facts.createdAt.toISOString(),
  };
}

function tooFewNote(rows: number, options: DriftOptions): string {
  return `too few rows for a verdict: ${rows} in the window, ${options.minRows} needed (monitor.drift.minRows)`;
}

/** The verdict of a score: p-values drift below their threshold, distances above it. */
function verdictOf(
  test: FeatureDrift['test'],
  score: number | null,
  psiValue: number | null,
  options: DriftOptions,
): Pick<
  FeatureDrift,
  'test' | 'scoreKind' | 'score' | 'threshold' | 'drifted' | 'psi' | 'severity'
> {
  const isPValue = test === 'ks' || test === 'chisquare' || test === 'z';
  const threshold = isPValue ? options.pValue : options.distance;
  const drifted = score === null ? null : isPValue ? score < threshold : score > threshold;
  return {
    test,
    scoreKind: isPValue ? 'p-value' : 'distance',
    score,
    threshold,
    drifted,
    psi: psiValue,
    severity: severityOf(drifted, psiValue, options),
  };
}

function numericalDrift(
  plan: NumericalPlan,
  window: CurrentWindow,
  i: number,
  tooFew: boolean,
  options: DriftOptions,
): FeatureDrift {
  const column = window.column(i);
  const sketch = window.sketch(i);
  let psiCounts: number[];
  let score: number | null = null;
  let statistic: number | null = null;
  let errorBound: number | undefined;
  if (column !== null) {
    // The window's own values, sorted in place: nothing reads them in arrival order after this.
    const sorted = column.sort();
    psiCounts = binCounts(sorted, plan.edges);
    if (!tooFew && sorted.length > 0) {
      if (plan.test === 'ks') {
        const r = ksTwoSample(plan.sorted, sorted);
        score = r.pValue;
        statistic = r.statistic;
      } else score = wasserstein(plan.sorted, sorted) / Math.max(plan.std, 0.001);
    }
  } else {
    if (sketch === null || sketch.kind !== 'numerical') throw new Error('unreachable: no sketch');
    psiCounts = sketch.psi;
    if (!tooFew) {
      if (sketch.ks !== null) {
        const r = ksOfStatistic(sketch.ks.statistic(), plan.sorted.length, window.rows);
        statistic = r.statistic;
        score = r.pValue;
      } else if (sketch.wasserstein !== null) {
        const e = sketch.wasserstein.estimate();
        score = e.distance;
        errorBound = e.errorBound;
      }
    }
  }
  const current = toShares(psiCounts);
  const psiValue = window.rows === 0 ? null : psi(plan.shares, current, options.psiEpsilon);
  return {
    name: plan.name,
    kind: 'numerical',
    ...verdictOf(plan.test, score, psiValue, options),
    statistic,
    referenceRows: plan.sorted.length,
    currentRows: window.rows,
    shares: { edges: plan.edges, reference: plan.shares, current },
    ...(errorBound === undefined ? {} : { errorBound }),
    ...(tooFew ? { note: tooFewNote(window.rows, options) } : {}),
  };
}

function categoryCountsOf(
  plan: CategoricalPlan,
  window: CurrentWindow,
  i: number,
): Map<string, number> {
  const column = window.column(i);
  if (column !== null) return countCategories(column, plan).counts;
  const sketch = window.sketch(i);
  if (sketch === null || sketch.kind !== 'categorical') throw new Error('unreachable: no counts');
  return sketch.counts.counts;
}

/** A categorical feature (or the class mix): counts in, the plan's test over every category seen. */
function categoricalDrift(
  plan: CategoricalPlan,
  counts: ReadonlyMap<string, number>,
  rows: number,
  tooFew: boolean,
  options: DriftOptions,
): FeatureDrift {
  const categories = [...plan.categories];
  for (const k of counts.keys()) if (!categories.includes(k)) categories.push(k);
  if (categories.includes(OTHER_CATEGORY)) {
    categories.splice(categories.indexOf(OTHER_CATEGORY), 1);
    categories.push(OTHER_CATEGORY);
  }
  const refRows = plan.counts.reduce((a, b) => a + b, 0);
  const refCounts = categories.map((c) => plan.counts[plan.categories.indexOf(c)] ?? 0);
  const curCounts = categories.map((c) => counts.get(c) ?? 0);
  const reference = toShares(refCounts);
  const current = toShares(curCounts);
  let score: number | null = null;
  let statistic: number | null = null;
  // A test picked for two categories meets a third in the window: χ² takes over.
  const test = plan.test === 'z' && categories.length > 2 ? 'chisquare' : plan.test;
  if (!tooFew && rows > 0) {
    if (test === 'jensenshannon') score = jensenShannon(reference, current);
    else if (test === 'z') {
      const r = twoProportionZ(refCounts[0] as number, refRows, curCounts[0] as number, rows);
      score = r.pValue;
      statistic = r.statistic;
    } else {
      const r = chiSquare(curCounts, reference);
      score = r.pValue;
      statistic = r.statistic;
    }
  }
  const psiValue = rows === 0 ? null : psi(reference, current, options.psiEpsilon);
  return {
    name: plan.name,
    kind: 'categorical',
    ...verdictOf(test, score, psiValue, options),
    statistic,
    referenceRows: refRows,
    currentRows: rows,
    shares: { categories, reference, current },
    ...(tooFew ? { note: tooFewNote(rows, options) } : {}),
  };
}
