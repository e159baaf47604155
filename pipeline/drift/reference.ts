/**
 * The reference side of drift: the version's rows (its training part, or its hold-out) as
 * columns, and the plan of how each feature is tested — Evidently's default choice of test:
 * a feature with more than `numericalMinUnique` distinct reference values is numerical
 * (Kolmogorov–Smirnov with at most `maxRowsForTests` reference rows, else the normed
 * Wasserstein distance), any other is categorical (χ² goodness of fit, or the two-proportion
 * Z-test for two categories, with at most `maxRowsForTests` rows, else the Jensen–Shannon
 * distance). Pure.
 */
import { PinmlError } from '../errors.ts';
import { binCounts, quantileEdges, toShares } from './bins.ts';
import { countDistinct, moments } from './moments.ts';
import type { DriftOptions } from './options.ts';
import type { DriftTest } from './report.ts';

/** The reference rows, column by column, and the version's predicted classes on its hold-out. */
export interface ReferenceSample {
  features: readonly string[];
  /** One column per feature, `rows` values each. */
  columns: readonly Float64Array[];
  rows: number;
  /** The version's classes and how many hold-out rows it predicted as each; null when unknown. */
  predicted: { classes: readonly string[]; counts: readonly number[] } | null;
}

/** How one numerical feature is tested. */
export interface NumericalPlan {
  kind: 'numerical';
  name: string;
  /** Its column in the rows. */
  index: number;
  test: Extract<DriftTest, 'ks' | 'wasserstein'>;
  /** The reference values, ascending. */
  sorted: Float64Array;
  /** Population standard deviation (ddof 0): Wasserstein's norm. */
  std: number;
  /** PSI's quantile bins of the reference and its shares in them. */
  edges: number[];
  shares: number[];
}

/** How one categorical feature (or the predicted-class mix) is tested. */
export interface CategoricalPlan {
  kind: 'categorical';
  name: string;
  index: number;
  test: Extract<DriftTest, 'chisquare' | 'z' | 'jensenshannon'>;
  /** The reference's categories (as JSON keys) and their counts. */
  categories: string[];
  counts: number[];
}

export type FeaturePlan = NumericalPlan | CategoricalPlan;

/** A number as the category key it is counted under (`String`, so 1 and 1.0 are one). */
export function categoryKey(value: number): string {
  return String(value);
}

/** The test of a categorical sample with `categories` categories and `rows` reference rows. */
export function categoricalTest(
  categories: number,
  rows: number,
  options: DriftOptions,
): CategoricalPlan['test'] {
  if (rows > options.maxRowsForTests) return 'jensenshannon';
  return categories <= 2 ? 'z' : 'chisquare';
}

/** Plans every feature's test from the reference rows. */
export function planFeatures(reference: ReferenceSample, options: DriftOptions): FeaturePlan[] {
  if (reference.rows === 0) {
    throw new PinmlError(
      'E_DRIFT',
      'the reference has no rows: drift needs the rows the version trained on',
      {},
    );
  }
  return reference.features.map((name, index) => {
    const column = reference.columns[index] as Float64Array;
    const sorted = Float64Array.from(column).sort();
    const distinct = countDistinct(sorted);
    if (distinct > options.numericalMinUnique) {
      const edges = quantileEdges(sorted, options.psiBins);
      return {
        kind: 'numerical',
        name,
        index,
        test: reference.rows <= options.maxRowsForTests ? 'ks' : 'wasserstein',
        sorted,
        std: moments(sorted).std,
        edges,
        shares: toShares(binCounts(sorted, edges)),
      };
    }
    const counts = new Map<string, number>();
    for (const v of sorted) counts.set(categoryKey(v), (counts.get(categoryKey(v)) ?? 0) + 1);
    return {
      kind: 'categorical',
      name,
      index,
      test: categoricalTest(counts.size, reference.rows, options),
      categories: [...counts.keys()],
      counts: [...counts.values()],
    };
  });
}

/** The plan of the predicted-class mix, or null when the reference has none. */
export function planPrediction(
  reference: ReferenceSample,
  name: string,
  options: DriftOptions,
): CategoricalPlan | null {
  const p = reference.predicted;
  if (p === null) return null;
  const rows = p.counts.reduce((a, b) => a + b, 0);
  if (rows === 0) return null;
  return {
    kind: 'categorical',
    name,
    index: -1,
    test: categoricalTest(p.classes.length, rows, options),
    categories: [...p.classes],
    counts: [...p.counts],
  };
}
