/**
 * `monitor.rollback` and `monitor.canary` of `pinml.yaml`: when the monitor calls production
 * degraded (and opens its rollback pull request), and how it judges a canary (promote it,
 * keep watching, remove it). A canary is judged by the model's `compare` policy — the same
 * `policy`, `tolerance` and `alpha` as the offline A/B step — on live labelled rows.
 */
import { z } from 'zod';

const DURATION = /^\d+(?:\.\d+)?[smhd]$/;
const duration = z
  .string()
  .regex(DURATION, 'must be a duration such as 90m, 24h or 7d')
  .refine((s) => Number.parseFloat(s) > 0, 'must be longer than 0');
const share = z.number().gt(0).lt(1);

/**
 * `monitor.rollback`: production is degraded when, over the last `window`, with at least
 * `minLabelled` labelled rows,
 * - `when: gate` (the default): the upper end of the one-sided 1 − alpha interval of live
 *   accuracy, or of live macro-F1, lies below the gate the served version passed (its card);
 * - `when: accuracy-below`: the same for accuracy against `minAccuracy`;
 * - `when: worse-than-previous`: a one-sided two-proportion test at `alpha` finds live accuracy
 *   below the previous production version's over `previousWindow` (rows it answered as
 *   production, at least `minLabelled` of them).
 */
export const rollbackConfigSchema = z
  .strictObject({
    when: z.enum(['gate', 'accuracy-below', 'worse-than-previous']).default('gate'),
    minAccuracy: z.number().min(0).max(1).optional(),
    minLabelled: z.int().min(1).default(100),
    window: duration.default('24h'),
    previousWindow: duration.default('7d'),
    alpha: share.default(0.05),
  })
  .superRefine((r, ctx) => {
    if (r.when === 'accuracy-below' && r.minAccuracy === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['minAccuracy'],
        message: 'is required with `when: accuracy-below` (e.g. minAccuracy: 0.9)',
      });
    }
    if (r.when !== 'accuracy-below' && r.minAccuracy !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['minAccuracy'],
        message: 'is only used with `when: accuracy-below`',
      });
    }
  });

/**
 * `monitor.canary`: a canary is judged once both arms have `minLabelled` labelled rows in the
 * last `window`; until the decision is clear, the report says how many rows per arm a test
 * with `power` needs to detect the compare policy's `tolerance`.
 */
export const canaryConfigSchema = z.strictObject({
  minLabelled: z.int().min(1).default(100),
  window: duration.default('24h'),
  power: share.default(0.8),
});

export type RollbackConfig = z.output<typeof rollbackConfigSchema>;
export type CanaryConfig = z.output<typeof canaryConfigSchema>;

export const DEFAULT_ROLLBACK: RollbackConfig = rollbackConfigSchema.parse({});
export const DEFAULT_CANARY: CanaryConfig = canaryConfigSchema.parse({});
