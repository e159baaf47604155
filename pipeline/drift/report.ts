/**
 * A drift report as values: what `pinml drift` computes ({@link DriftReport}) and what the
 * renderers (markdown for an issue, JSON, a self-contained HTML page) read. The tests are
 * Evidently's defaults (see `options.ts` and the README's "Drift"); the reference is the
 * version's training rows read from git at its card's commit.
 */
import type { DriftOptions } from './options.ts';

/** How a feature is tested: more than `numericalMinUnique` distinct reference values is numerical. */
export type FeatureKind = 'numerical' | 'categorical';

/**
 * The statistic behind a verdict: `ks` (two-sample Kolmogorov–Smirnov, p-value), `wasserstein`
 * (Wasserstein distance over the reference's standard deviation), `chisquare` (goodness of fit
 * of the current counts to the reference shares, p-value), `z` (two-proportion Z-test, for two
 * categories, p-value), `jensenshannon` (Jensen–Shannon distance of the shares, natural log).
 */
export type DriftTest = 'ks' | 'wasserstein' | 'chisquare' | 'z' | 'jensenshannon';

/** none: not drifted; low: drifted, PSI < 0.1; medium: PSI in [0.1, 0.25); high: PSI ≥ 0.25. */
export type Severity = 'none' | 'low' | 'medium' | 'high';

/** Shares of reference and current rows per bin, for the plots (numerical features). */
export interface BinnedShares {
  /** `edges.length` = bins + 1; the first and last bins also take values beyond them. */
  edges: number[];
  reference: number[];
  current: number[];
}

/** Shares of reference and current rows per category (categorical features, the class mix). */
export interface CategoryShares {
  categories: string[];
  reference: number[];
  current: number[];
}

/** One feature's (or the predicted-class mix's) verdict. */
export interface FeatureDrift {
  /** The feature, or {@link PREDICTION_FEATURE} for the predicted-class mix. */
  name: string;
  kind: FeatureKind;
  test: DriftTest;
  /** `p-value`: drift when below the threshold; `distance`: drift when above it. */
  scoreKind: 'p-value' | 'distance';
  /** The p-value or the distance; null when the window is too small for the test. */
  score: number | null;
  /** The test's statistic (KS D, χ², z), when it has one besides the score. */
  statistic: number | null;
  threshold: number;
  /** Null when the window is too small for the test (see `note`). */
  drifted: boolean | null;
  /** Population stability index over the reference's quantile bins (numerical features). */
  psi: number | null;
  severity: Severity;
  referenceRows: number;
  currentRows: number;
  /** For the plots: quantile bins (numerical, PSI's bins) or categories. */
  shares: BinnedShares | CategoryShares;
  /** Set when the score comes from the fixed-size sketch: the largest error it can have. */
  errorBound?: number;
  /** Why there is no verdict (too few rows), or what the figure rests on. */
  note?: string;
}

/** The name the predicted-class mix is reported under. */
export const PREDICTION_FEATURE = 'prediction';

/** What the current window is and where it came from. */
export interface DriftWindow {
  /** Milliseconds since the epoch; null for a CSV of inputs, which has no times. */
  from: number | null;
  until: number | null;
  rows: number;
  /** The store file, server URL or CSV, as the user named it. */
  source: string;
}

export interface DriftReport {
  formatVersion: 1;
  model: string;
  version: number;
  /** The commit the version was trained at (its card's `code.commit`): the reference's. */
  commit: string;
  /** Which of the version's rows the current window is compared with. */
  reference: { part: 'train' | 'holdout'; dataset: string; sha256: string; rows: number };
  window: DriftWindow;
  /** In the signature's order. */
  features: FeatureDrift[];
  /** The predicted-class mix against the version's predictions on its hold-out; null without one. */
  prediction: FeatureDrift | null;
  /** Features with a verdict of drift, and the share of those tested. */
  driftedFeatures: number;
  testedFeatures: number;
  /** Dataset drift: at least `datasetShare` of the tested features drifted. */
  datasetDrift: boolean;
  /** The highest severity among drifted features under dataset drift, else at most low. */
  severity: Severity;
  /** `exact`: every value held (rows × features × 8 bytes); `sketch`: fixed-size, see errorBound. */
  method: 'exact' | 'sketch';
  /** Bytes held for the current window's values. */
  memoryBytes: number;
  /** The thresholds used (defaults merged with `monitor.drift`). */
  options: DriftOptions;
  /** When it was computed (ISO 8601). */
  createdAt: string;
}
