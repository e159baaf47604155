/**
 * The registry's file formats, `card.json` and `pins.json` (format version 1), as zod schemas.
 * Every entry is checked against them when it is read and before it is written; their JSON
 * Schemas are committed in `registry/` and documented in `registry/README.md`.
 */
import { z } from 'zod';
import { profileSchema } from '../drift/profile.ts';

export const CARD_FORMAT_VERSION = 1;
/** The pins format written when only production is pinned (every release reads it). */
export const PINS_FORMAT_VERSION = 1;
/** The pins format with roles besides production: a canary with a traffic weight, a shadow. */
export const PINS_ROLES_FORMAT_VERSION = 2;

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'must be a lower-case hex SHA-256');
const commitOid = z.string().regex(/^[0-9a-f]{40}$/, 'must be a 40-hex-digit commit id');
const label = z.union([z.string(), z.number()]);
/** Model names: folder names in the registry, so no separators, no `..`. */
export const modelName = z
  .string()
  .regex(
    /^[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?$/,
    'must be lower-case letters, digits, ".", "_" or "-"',
  )
  .refine((s) => !s.includes('..'), 'must not contain ".."');
const version = z.int().min(1);
const metric = z.number().min(0).max(1);

const metricsSchema = z.strictObject({
  rows: z.int().min(0),
  accuracy: metric,
  macroPrecision: metric,
  macroRecall: metric,
  macroF1: metric,
  perClass: z.array(
    z.strictObject({
      class: label,
      precision: metric,
      recall: metric,
      f1: metric,
      support: z.int().min(0),
    }),
  ),
  confusion: z.array(z.array(z.int().min(0))),
});

const cvSchema = z.strictObject({
  folds: z.array(z.strictObject({ accuracy: metric, macroF1: metric })),
  mean: z.strictObject({
    accuracy: metric,
    macroPrecision: metric,
    macroRecall: metric,
    macroF1: metric,
  }),
  std: z.strictObject({ accuracy: z.number().min(0), macroF1: z.number().min(0) }),
});

/** `registry/<model>/versions/<v>/card.json`: everything needed to trust and rebuild a version. */
export const cardSchema = z.strictObject({
  formatVersion: z.literal(CARD_FORMAT_VERSION),
  model: modelName,
  version,
  /** ISO 8601 time of registration (UTC). */
  createdAt: z.iso.datetime(),
  /** SHA-256 of (dataset SHA-256, candidate configuration, code version): the identity of a training. */
  trainingKey: sha256Hex,
  code: z.strictObject({
    package: z.string(),
    source: z.string(),
    id: z.string(),
    /** The commit the training ran at: its dataset and configuration rebuild this version. */
    commit: commitOid,
  }),
  dataset: z.strictObject({
    path: z.string().min(1),
    sha256: sha256Hex,
    bytes: z.int().min(0),
    rows: z.int().min(1),
    classCounts: z.record(z.string(), z.int().min(0)),
  }),
  /** The model's configuration as trained (pinml.yaml with defaults filled in). */
  config: z.record(z.string(), z.unknown()),
  candidate: z.strictObject({
    name: z.string(),
    algorithm: z.string(),
    params: z.record(z.string(), z.unknown()),
    seed: z.int(),
  }),
  split: z.strictObject({
    seed: z.int(),
    holdoutFraction: z.number().gt(0).lt(1),
    folds: z.int().min(2),
    trainRows: z.int().min(1),
    holdoutRows: z.int().min(1),
    holdoutClassCounts: z.record(z.string(), z.int().min(0)),
  }),
  metrics: z.strictObject({
    cv: cvSchema,
    holdout: metricsSchema,
    /** The model's mean decrease in impurity per feature, summing to 1 (forests; optional). */
    featureImportances: z
      .array(z.strictObject({ feature: z.string(), importance: z.number().min(0).max(1) }))
      .optional(),
    /** Accuracy on each training row's out-of-bag vote (forests with bootstrap; optional). */
    outOfBag: z.strictObject({ accuracy: metric, rows: z.int().min(0) }).optional(),
  }),
  /** Every candidate tried, with its cross-validation means. */
  candidates: z.array(
    z.strictObject({
      name: z.string(),
      algorithm: z.string(),
      trainingKey: sha256Hex,
      cv: z.strictObject({ macroF1: metric, accuracy: metric, macroF1Std: z.number().min(0) }),
    }),
  ),
  gate: z.strictObject({
    thresholds: z.strictObject({ minAccuracy: metric, minMacroF1: metric }),
    passed: z.boolean(),
    reasons: z.array(z.string()),
  }),
  /** The comparison with the production version it was measured against; null without one. */
  comparison: z.record(z.string(), z.unknown()).nullable(),
  decision: z.strictObject({
    action: z.enum(['promote', 'hold', 'reject']),
    reasons: z.array(z.string()),
  }),
  signature: z.strictObject({
    inputs: z.array(
      z.strictObject({
        name: z.string(),
        type: z.literal('number'),
        min: z.number(),
        max: z.number(),
      }),
    ),
    output: z.strictObject({ name: z.string(), classes: z.array(label).min(2) }),
  }),
  artifact: z.strictObject({
    file: z.literal('model.json'),
    sha256: sha256Hex,
    bytes: z.int().min(1),
    kind: z.string(),
    formatVersion: z.int().min(1),
  }),
  /**
   * The reference profile of the training part and of the hold-out predictions, for drift
   * (cards registered before pinml recorded it have none).
   */
  profile: profileSchema.optional(),
});

/** A canary: a version answering a share of the traffic, `0 < weight < 1`. */
const canarySchema = z.strictObject({
  version,
  /** The share of requests it answers (by a hash of the request key). */
  weight: z.number().gt(0).lt(1),
});

/** A shadow: a version that predicts every request after the answer, never answering. */
const shadowSchema = z.strictObject({ version });

/**
 * `registry/<model>/pins.json`: the only file a promotion, a rollback, a canary or a shadow
 * changes. Format 1 pins production alone; format 2 may also name a canary and a shadow (a
 * file with neither is written as format 1, so production-only diffs stay as they were).
 */
export const pinsSchema = z.union([
  z.strictObject({
    formatVersion: z.literal(PINS_FORMAT_VERSION),
    model: modelName,
    /** The version serving production, or null before the first promotion. */
    production: version.nullable(),
  }),
  z.strictObject({
    formatVersion: z.literal(PINS_ROLES_FORMAT_VERSION),
    model: modelName,
    production: version.nullable(),
    canary: canarySchema.optional(),
    shadow: shadowSchema.optional(),
  }),
]);

export type Card = z.infer<typeof cardSchema>;
export type Pins = z.infer<typeof pinsSchema>;
/** Pins in either format, with the roles a format-1 file cannot have as absent. */
export type PinRoles = Pins & { canary?: z.infer<typeof canarySchema>; shadow?: z.infer<typeof shadowSchema> };

/** JSON Schemas of the registry files, as committed in `registry/`. */
export function registryJsonSchemas(): Record<'card.schema.json' | 'pins.schema.json', unknown> {
  const withId = (schema: z.ZodType, id: string, title: string): unknown => ({
    $id: id,
    title,
    ...(z.toJSONSchema(schema) as Record<string, unknown>),
  });
  return {
    'card.schema.json': withId(
      cardSchema,
      'https://pinml.dev/schema/card-1.json',
      'pinml registry card, format 1',
    ),
    'pins.schema.json': withId(
      pinsSchema,
      'https://pinml.dev/schema/pins-2.json',
      'pinml registry pins, formats 1 and 2',
    ),
  };
}
