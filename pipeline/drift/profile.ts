/**
 * The reference profile a card records (`profile`, registry/README.md): what the rows the model
 * was fit on looked like, so drift can be measured against them without the dataset. Per
 * feature the count, mean, population standard deviation, range, distinct values, ten quantile
 * bins (PSI's) and a 20-bin histogram (the report's plots); the training part's class shares;
 * the chosen model's predicted-class shares on the hold-out.
 *
 * Pure and deterministic: figures are computed over sorted values, so the same rows in any order
 * give the same bytes. Bin edges are not rounded (they are numpy's `quantile` and `linspace`, so
 * PSI and histograms over them agree with numpy's), and every count is taken against the edges
 * as stored; means, standard deviations and shares are rounded to 12 significant digits, as the
 * card's metrics are.
 */
import { z } from 'zod';
import type { Dataset } from '../dataset.ts';
import type { Label } from '../label.ts';
import { round } from '../metrics.ts';
import { binCounts, quantileEdges, toShares } from './bins.ts';
import { countDistinct, moments } from './moments.ts';

/** Quantile bins per feature: the bins PSI is computed over. */
export const PROFILE_QUANTILE_BINS = 10;
/** Equal-width histogram bins per feature, for plots (one for a constant feature). */
export const PROFILE_HISTOGRAM_BINS = 20;

const share = z.number().min(0).max(1);
/** Shares keyed by `String(class)`, every class of the model present. */
const classShares = z.record(z.string(), share);

/** One feature of a {@link ReferenceProfile}. */
export const featureProfileSchema = z.strictObject({
  name: z.string(),
  /** Training rows. */
  count: z.int().min(1),
  mean: z.number(),
  /** Population standard deviation (ddof 0). */
  std: z.number().min(0),
  min: z.number(),
  max: z.number(),
  /** Distinct values; drift treats a feature with at most 5 as categorical. */
  distinct: z.int().min(1),
  /** Edges at the k/10 linear quantiles (k = 0…10) and the share of rows in each bin. */
  quantiles: z.strictObject({
    edges: z.array(z.number()).length(PROFILE_QUANTILE_BINS + 1),
    shares: z.array(share).length(PROFILE_QUANTILE_BINS),
  }),
  /** Equal-width bins over [min, max] (numpy's `histogram`: the last bin is closed). */
  histogram: z
    .strictObject({
      edges: z
        .array(z.number())
        .min(2)
        .max(PROFILE_HISTOGRAM_BINS + 1),
      counts: z.array(z.int().min(0)).min(1).max(PROFILE_HISTOGRAM_BINS),
    })
    .refine((h) => h.edges.length === h.counts.length + 1, {
      message: 'histogram.edges must have one more entry than histogram.counts',
    }),
});

/** The card's `profile`: the reference drift is measured against. */
export const profileSchema = z.strictObject({
  /** In signature order. */
  features: z.array(featureProfileSchema).min(1),
  /** The class shares of the training part. */
  label: z.strictObject({ rows: z.int().min(1), shares: classShares }),
  /** The chosen model's predicted-class shares on the hold-out. */
  predicted: z.strictObject({
    part: z.literal('holdout'),
    rows: z.int().min(0),
    shares: classShares,
  }),
});

export type FeatureProfile = z.infer<typeof featureProfileSchema>;
export type ReferenceProfile = z.infer<typeof profileSchema>;

/** What {@link profileReference} reads. */
export interface ProfileInput {
  /** The parsed dataset: feature names (signature order), classes, rows and labels. */
  dataset: Pick<Dataset, 'features' | 'classes' | 'X' | 'y'>;
  /** The rows the model was fit on: the split's `train` indices. */
  train: readonly number[];
  /** The chosen model's hold-out confusion matrix, `confusion[t][p]` in `classes` order. */
  holdoutConfusion: readonly (readonly number[])[];
}

/**
 * Equal-width edges over [min, max], as numpy's `linspace` computes them (`min + k · step`, the
 * last edge `max` itself); a single bin [v, v] when the feature is constant.
 */
function histogramEdges(min: number, max: number): number[] {
  if (min === max) return [min, max];
  const step = (max - min) / PROFILE_HISTOGRAM_BINS;
  const edges: number[] = [];
  for (let k = 0; k < PROFILE_HISTOGRAM_BINS; k++) edges.push(min + k * step);
  edges.push(max);
  return edges;
}

function profileFeature(name: string, sorted: Float64Array): FeatureProfile {
  const n = sorted.length;
  const { mean, std } = moments(sorted);
  const min = sorted[0] as number;
  const max = sorted[n - 1] as number;
  const edges = quantileEdges(sorted, PROFILE_QUANTILE_BINS);
  const histogram = histogramEdges(min, max);
  return {
    name,
    count: n,
    mean: round(mean),
    std: round(std),
    min,
    max,
    distinct: countDistinct(sorted),
    quantiles: { edges, shares: toShares(binCounts(sorted, edges)).map(round) },
    histogram: { edges: histogram, counts: binCounts(sorted, histogram) },
  };
}

function sharesByClass(
  classes: readonly Label[],
  counts: readonly number[],
): Record<string, number> {
  const shares = toShares(counts);
  return Object.fromEntries(classes.map((c, i) => [String(c), round(shares[i] ?? 0)]));
}

/** The reference profile of the training part and of the chosen model's hold-out predictions. */
export function profileReference(input: ProfileInput): ReferenceProfile {
  const { dataset, train, holdoutConfusion } = input;
  if (train.length === 0) throw new RangeError('there are no training rows to profile');
  const features = dataset.features.map((name, j) => {
    const column = Float64Array.from(train, (i) => dataset.X[i]?.[j] as number);
    return profileFeature(name, column.sort());
  });
  const labels = new Array<number>(dataset.classes.length).fill(0);
  for (const i of train) {
    const c = dataset.y[i] as number;
    labels[c] = (labels[c] as number) + 1;
  }
  const predicted = dataset.classes.map((_, p) =>
    holdoutConfusion.reduce((sum, row) => sum + (row[p] ?? 0), 0),
  );
  return {
    features,
    label: { rows: train.length, shares: sharesByClass(dataset.classes, labels) },
    predicted: {
      part: 'holdout',
      rows: predicted.reduce((a, b) => a + b, 0),
      shares: sharesByClass(dataset.classes, predicted),
    },
  };
}

/** One step into a JSON value: an array index or an object key. */
type Step = number | string;

/** `a` and `b` as JSON values: the steps to the first place they differ, or undefined. */
function firstDifference(a: unknown, b: unknown): Step[] | undefined {
  if (Object.is(a, b) || (a === 0 && b === 0)) return undefined;
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return ['length'];
    for (let i = 0; i < a.length; i++) {
      const found = firstDifference(a[i], b[i]);
      if (found !== undefined) return [i, ...found];
    }
    return undefined;
  }
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    for (const key of keys) {
      const found = firstDifference(
        (a as Record<string, unknown>)[key],
        (b as Record<string, unknown>)[key],
      );
      if (found !== undefined) return [key, ...found];
    }
    return undefined;
  }
  return [];
}

function valueAt(value: unknown, steps: readonly Step[]): unknown {
  let v = value;
  for (const step of steps) v = (v as Record<Step, unknown> | undefined)?.[step];
  return v;
}

/** Where a recorded profile and a recomputed one first differ. */
export interface ProfileDifference {
  /** The field, e.g. `profile.features[2].quantiles.edges[3]` (`….length` when sizes differ). */
  field: string;
  recorded: unknown;
  rebuilt: unknown;
}

/** The first field where `recorded` and `rebuilt` differ (keys in sorted order), or undefined. */
export function profileDifference(
  recorded: ReferenceProfile,
  rebuilt: ReferenceProfile,
): ProfileDifference | undefined {
  const steps = firstDifference(recorded, rebuilt);
  if (steps === undefined) return undefined;
  const field = steps.map((s) => (typeof s === 'number' ? `[${s}]` : `.${s}`)).join('');
  return {
    field: `profile${field}`,
    recorded: valueAt(recorded, steps),
    rebuilt: valueAt(rebuilt, steps),
  };
}
