/**
 * Drift's thresholds: Evidently's defaults, overridable per model in `pinml.yaml` under
 * `monitor.drift` (validated by `config.ts`).
 */
import { z } from 'zod';

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

/**
 * `monitor.drift` in `pinml.yaml`: any of the options; a missing one takes its default. Checked
 * with the rest of the file (located errors).
 */
export const driftConfigSchema = z
  .strictObject({
    /** A test's p-value below this is drift. */
    pValue: z.number().gt(0).lt(1),
    /** A distance (normed Wasserstein, Jensen–Shannon) above this is drift. */
    distance: z.number().gt(0),
    /** With at most this many reference rows the tests are KS, χ² and Z; above, distances. */
    maxRowsForTests: z.int().min(1),
    /** A feature with at most this many distinct reference values is categorical. */
    numericalMinUnique: z.int().min(1),
    /** PSI's quantile bins, and the share an empty bin counts as. */
    psiBins: z.int().min(2).max(100),
    psiEpsilon: z.number().gt(0).lt(0.1),
    /** PSI from which a drifted feature's severity is medium, and high. */
    psiMedium: z.number().gt(0),
    psiHigh: z.number().gt(0),
    /** Dataset drift when at least this share of the tested features drift. */
    datasetShare: z.number().gt(0).max(1),
    /** A window with fewer rows gets no verdict. */
    minRows: z.int().min(1),
  })
  .partial()
  .superRefine((d, ctx) => {
    const medium = d.psiMedium ?? DEFAULT_DRIFT_OPTIONS.psiMedium;
    const high = d.psiHigh ?? DEFAULT_DRIFT_OPTIONS.psiHigh;
    if (!(medium < high)) {
      ctx.addIssue({
        code: 'custom',
        path: [d.psiHigh === undefined ? 'psiMedium' : 'psiHigh'],
        message: `psiHigh (${high}) must be above psiMedium (${medium})`,
      });
    }
  });

export type DriftConfig = z.infer<typeof driftConfigSchema>;

/** The defaults with a model's `monitor.drift` over them. */
export function driftOptions(config: DriftConfig | undefined): DriftOptions {
  return { ...DEFAULT_DRIFT_OPTIONS, ...config };
}
