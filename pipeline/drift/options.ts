/**
 * Drift's thresholds: Evidently's defaults, overridable per model in `pinml.yaml` under
 * `monitor.drift` (validated by `config.ts`).
 */

export interface DriftOptions {
  /** A test's p-value below this is drift (0.05). */
  pValue: number;
  /** A distance (normed Wasserstein, Jensen–Shannon) above this is drift (0.1). */
  distance: number;
  /** With at most this many reference rows the tests are KS / χ² / Z, above it distances (1000). */
  maxRowsForTests: number;
  /** A numerical feature with at most this many distinct reference values is categorical (5). */
  numericalMinUnique: number;
  /** PSI's quantile bins (10) and the share given to an empty bin (1e-4). */
  psiBins: number;
  psiEpsilon: number;
  /** PSI from which a drifted feature's severity is medium (0.1) and high (0.25). */
  psiMedium: number;
  psiHigh: number;
  /** Dataset drift when at least this share of the tested features drift (0.5). */
  datasetShare: number;
  /** A window with fewer rows gets no verdict, and says so (30). */
  minRows: number;
}

export const DEFAULT_DRIFT_OPTIONS: DriftOptions = {
  pValue: 0.05,
  distance: 0.1,
  maxRowsForTests: 1000,
  numericalMinUnique: 5,
  psiBins: 10,
  psiEpsilon: 1e-4,
  psiMedium: 0.1,
  psiHigh: 0.25,
  datasetShare: 0.5,
  minRows: 30,
};
