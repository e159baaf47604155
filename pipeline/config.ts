/**
 * `pinml.yaml`: the pipeline's definition. Parsed with `yaml` (which keeps source positions)
 * and checked with a zod schema; every mistake is reported with its line, column and path.
 */
import { LineCounter, isMap, isPair, isScalar, isSeq, parseDocument } from 'yaml';
import type { Document, Node as YamlNode } from 'yaml';
import { z } from 'zod';
import { didYouMean } from './closest-name.ts';
import { driftConfigSchema } from './drift/options.ts';
import { canaryConfigSchema, rollbackConfigSchema } from './live/policy.ts';
import { ConfigError, type Problem } from './errors.ts';
import { families } from './models/index.ts';
import type { ModelFamily } from './models/types.ts';

/** Names of models and candidates: they become folder and branch names, so keep them plain. */
export const NAME = /^[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?$/;
const nameSchema = z
  .string()
  .regex(
    NAME,
    'must be 1–64 lower-case letters, digits, ".", "_" or "-", starting and ending with a letter or digit',
  )
  .refine((s) => !s.includes('..'), 'must not contain ".."');

const relativePath = z
  .string()
  .min(1)
  .refine(
    (p) => !p.startsWith('/') && !/^[a-zA-Z]:/.test(p) && !p.split(/[\\/]/).includes('..'),
    'must be a path inside the repository (relative, without "..")',
  );

const labelSchema = z.union([z.string().min(1), z.number()]);

const candidateBase = {
  name: nameSchema,
  /** Seed for the candidate's random choices; defaults to `split.seed`. */
  seed: z
    .int()
    .min(0)
    .max(2 ** 31 - 1)
    .optional(),
};

/** A candidate of one family: its `algorithm` and its `params`, defaulted by the family. */
type CandidateOf<F extends ModelFamily> = z.ZodObject<
  typeof candidateBase & {
    algorithm: z.ZodLiteral<F['algorithm']>;
    params: z.ZodDefault<F['params']>;
  },
  z.core.$strict
>;

function candidateOf<F extends ModelFamily>(family: F): CandidateOf<F> {
  return z.strictObject({
    ...candidateBase,
    algorithm: z.literal(family.algorithm),
    params: family.params.default(family.params.parse({})),
  });
}

/** One candidate schema per family, in the families' order (a tuple, as zod's union wants). */
type CandidatesOf<T extends readonly ModelFamily[]> = {
  -readonly [I in keyof T]: T[I] extends ModelFamily ? CandidateOf<T[I]> : never;
};

/** A candidate is one of the families', told apart by `algorithm`. */
const candidateSchema = z.discriminatedUnion(
  'algorithm',
  families.map(candidateOf) as CandidatesOf<typeof families>,
);

const splitSchema = z.strictObject({
  /** Fraction of each class held out for the final score, decided per row by a seeded hash. */
  holdout: z.number().gt(0).lt(1).default(0.3),
  /** Stratified cross-validation folds on the training part. */
  folds: z.int().min(2).max(20).default(5),
  /** Seed of the hold-out hash, the fold assignment and (by default) every candidate. */
  seed: z
    .int()
    .min(0)
    .max(2 ** 31 - 1)
    .default(42),
});

const gateSchema = z.strictObject({
  /** Minimum hold-out accuracy (inclusive). */
  minAccuracy: z.number().min(0).max(1).default(0),
  /** Minimum hold-out macro-averaged F1 (inclusive). */
  minMacroF1: z.number().min(0).max(1).default(0),
});

const compareSchema = z.strictObject({
  /**
   * `non-inferiority` promotes a candidate that is not worse than production by more than
   * `tolerance`; `strict` promotes only a significant improvement.
   */
  policy: z.enum(['non-inferiority', 'strict']).default('non-inferiority'),
  /** Accuracy loss still accepted under `non-inferiority`. */
  tolerance: z.number().min(0).max(1).default(0.02),
  /** Significance level of the paired test. */
  alpha: z.number().gt(0).lt(1).default(0.05),
  /** Bootstrap resamples for the confidence intervals. */
  resamples: z.int().min(100).max(100_000).default(2000),
  /** Seed of the bootstrap. */
  seed: z
    .int()
    .min(0)
    .max(2 ** 31 - 1)
    .default(7),
});

/** The compare policy a model gets without a `compare` block. */
export const DEFAULT_COMPARE = compareSchema.parse({});

/** `monitor`: how the live model is watched. */
const monitorSchema = z.strictObject({
  drift: driftConfigSchema.optional(),
  /**
   * What the drift workflow does with the labelled rows that came back: `on-drift` proposes
   * them as training data by pull request (`pinml data from-feedback`) when dataset drift
   * holds; `never` (the default) leaves that to people.
   */
  feedback: z.strictObject({ propose: z.enum(['on-drift', 'never']).default('never') }).optional(),
  /** When the monitor opens the rollback pull request (live/policy.ts). */
  rollback: rollbackConfigSchema.optional(),
  /** How the monitor judges a canary against production (live/policy.ts). */
  canary: canaryConfigSchema.optional(),
});

const modelSchema = z
  .strictObject({
    description: z.string().optional(),
    /** Path of the CSV dataset, relative to the repository root. */
    dataset: relativePath,
    /**
     * Feature columns, in the order the model takes them; or `all`: every column of the
     * dataset's header but the label and `exclude`, in header order (expanded when the
     * configuration is read with its data, so runs and cards record the list).
     */
    features: z.union([z.array(z.string().min(1)).min(1), z.literal('all')]),
    /** With `features: all`, the columns that are not features (ids, timestamps). */
    exclude: z.array(z.string().min(1)).optional(),
    /** The label column. */
    label: z.string().min(1),
    /** Expected classes; a label outside them is refused. Derived from the data when absent. */
    classes: z.array(labelSchema).min(2).optional(),
    split: splitSchema.default(splitSchema.parse({})),
    candidates: z.array(candidateSchema).min(1),
    gate: gateSchema.default(gateSchema.parse({})),
    compare: compareSchema.default(DEFAULT_COMPARE),
    /** Live monitoring: drift's thresholds (absent: the defaults). */
    monitor: monitorSchema.optional(),
  })
  .superRefine((m, ctx) => {
    if (m.exclude !== undefined && m.features !== 'all') {
      ctx.addIssue({
        code: 'custom',
        path: ['exclude'],
        message: 'is only used with `features: all`: list the features, or write `features: all`',
      });
    }
    // A listed set of features is checked here; `all` is listed from the header without the
    // label (features.ts).
    if (m.features !== 'all') {
      const seen = new Map<string, number>();
      m.features.forEach((f, i) => {
        if (seen.has(f)) {
          ctx.addIssue({
            code: 'custom',
            path: ['features', i],
            message: `"${f}" is listed twice`,
          });
        }
        seen.set(f, i);
      });
      if (seen.has(m.label)) {
        ctx.addIssue({
          code: 'custom',
          path: ['label'],
          message: `"${m.label}" is also a feature: the label must not be one of the features`,
        });
      }
    }
    const names = new Set<string>();
    m.candidates.forEach((c, i) => {
      if (names.has(c.name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['candidates', i, 'name'],
          message: `candidate name "${c.name}" is used twice; names must be unique`,
        });
      }
      names.add(c.name);
    });
    if (m.classes) {
      const keys = m.classes.map(String);
      keys.forEach((k, i) => {
        if (keys.indexOf(k) !== i) {
          ctx.addIssue({
            code: 'custom',
            path: ['classes', i],
            message: `class "${k}" is listed twice`,
          });
        }
      });
    }
  });

const configSchema = z.strictObject({
  /** Version of the pinml.yaml format. */
  version: z.literal(1),
  models: z
    .record(nameSchema, modelSchema)
    .refine((m) => Object.keys(m).length > 0, 'define at least one model'),
});

export type CandidateConfig = z.infer<typeof candidateSchema>;
export type SplitConfig = z.infer<typeof splitSchema>;
export type GateConfig = z.infer<typeof gateSchema>;
export type CompareConfig = z.infer<typeof compareSchema>;
/** A model as `pinml.yaml` writes it: `features` may still be `all`. */
export type ModelConfigInput = z.infer<typeof modelSchema> & { name: string };
/** A model with its features listed (`features: all` expanded from the dataset's header). */
export type ModelConfig = Omit<ModelConfigInput, 'features' | 'exclude'> & { features: string[] };
export interface PinmlConfig {
  version: 1;
  models: Record<string, ModelConfig>;
}
/** A configuration as parsed, before `features: all` is expanded (`expandFeatures`). */
export interface PinmlConfigInput {
  version: 1;
  models: Record<string, ModelConfigInput>;
}

/** The JSON Schema of `pinml.yaml`, for editors and the documentation. */
export function configJsonSchema(): unknown {
  return z.toJSONSchema(configSchema, { io: 'input' });
}

/**
 * Parses and validates the text of a `pinml.yaml`. Throws a ConfigError listing every mistake
 * with its line, column and path; returns the configuration with every default filled in.
 */
export function parseConfig(text: string, file = 'pinml.yaml'): PinmlConfigInput {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number): { line: number; col: number } => lineCounter.linePos(offset);
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => ({
        file,
        ...at(e.pos[0]),
        message: `${e.message.split('\n')[0] ?? e.message} (YAML syntax)`,
      })),
    );
  }
  const data: unknown = doc.toJS();
  if (data === null || data === undefined) {
    throw new ConfigError([
      { file, line: 1, col: 1, message: 'the file is empty: define `version: 1` and `models:`' },
    ]);
  }
  const result = configSchema.safeParse(data);
  if (!result.success) {
    const problems = result.error.issues
      .flatMap((issue) => locateIssue(issue, doc, data, file, at))
      .sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0));
    throw new ConfigError(problems);
  }
  const models: Record<string, ModelConfigInput> = {};
  for (const [name, model] of Object.entries(result.data.models)) models[name] = { ...model, name };
  return { version: 1, models };
}

/** Picks one model: by name, or the only one. */
export function selectModels<M extends { name: string }>(
  config: { models: Record<string, M> },
  name?: string,
): M[] {
  const all = Object.values(config.models);
  if (name === undefined) return all;
  const model = config.models[name];
  if (!model) {
    throw new ConfigError([
      {
        file: 'pinml.yaml',
        field: 'models',
        message: `there is no model "${name}"; defined: ${all.map((m) => m.name).join(', ')}`,
      },
    ]);
  }
  return [model];
}

type PathKey = string | number;

function nodeAt(doc: Document, path: readonly PathKey[]): YamlNode | undefined {
  if (path.length === 0) return doc.contents ?? undefined;
  const node = doc.getIn(path, true);
  return node !== undefined && node !== null && typeof node === 'object' && 'range' in node
    ? (node as YamlNode)
    : undefined;
}

/** Finds the key node of `key` in the map at `path` (for unknown keys). */
function keyNodeAt(doc: Document, path: readonly PathKey[], key: string): YamlNode | undefined {
  const map = nodeAt(doc, path);
  if (!isMap(map)) return undefined;
  for (const item of map.items) {
    if (isPair(item) && isScalar(item.key) && String(item.key.value) === key) return item.key;
  }
  return undefined;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string')
    return `the string "${value.length > 40 ? value.slice(0, 40) + '…' : value}"`;
  return `${typeof value} ${JSON.stringify(value)}`;
}

function valueAt(data: unknown, path: readonly PathKey[]): unknown {
  let v: unknown = data;
  for (const k of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PathKey, unknown>)[k];
  }
  return v;
}

const TYPE_NAMES: Record<string, string> = {
  number: 'a number',
  int: 'an integer',
  string: 'a string',
  boolean: 'true or false',
  object: 'a mapping',
  array: 'a list',
  record: 'a mapping',
};

function locateIssue(
  issue: z.core.$ZodIssue,
  doc: Document,
  data: unknown,
  file: string,
  at: (offset: number) => { line: number; col: number },
): Problem[] {
  const path = issue.path.filter((k): k is PathKey => typeof k !== 'symbol');
  const field = path.length > 0 ? path.join('.') : '(top level)';
  const position = (node: YamlNode | undefined): { line?: number; col?: number } =>
    node?.range ? at(node.range[0]) : {};
  // The nearest node that exists: a missing field is reported at its parent mapping.
  const nearest = (): YamlNode | undefined => {
    for (let n = path.length; n >= 0; n--) {
      const node = nodeAt(doc, path.slice(0, n));
      if (node) return node;
    }
    return undefined;
  };

  if (issue.code === 'unrecognized_keys') {
    const allowed = allowedKeys(path, data);
    return issue.keys.map((key) => ({
      file,
      ...position(keyNodeAt(doc, path, key) ?? nearest()),
      field: [...path, key].join('.'),
      message:
        `unknown key "${key}"` +
        (allowed.length > 0 ? `; allowed here: ${allowed.join(', ')}` : '') +
        didYouMean(key, allowed),
    }));
  }
  if (issue.code === 'invalid_key') {
    const key = String(issue.input);
    return [
      {
        file,
        ...position(keyNodeAt(doc, path, key) ?? nearest()),
        field: [...path, key].join('.'),
        message: `"${key}" is not a valid name: ${issue.issues.map((i) => i.message).join('; ')}`,
      },
    ];
  }
  const value = valueAt(data, path);
  if (issue.code === 'invalid_type' && value === undefined) {
    return [
      {
        file,
        ...position(nearest()),
        field,
        message: `missing field "${String(path[path.length - 1])}" (${TYPE_NAMES[issue.expected] ?? issue.expected})`,
      },
    ];
  }
  let message: string;
  if (issue.code === 'invalid_type') {
    message = `expected ${TYPE_NAMES[issue.expected] ?? issue.expected}, found ${describe(value)}`;
  } else if (issue.code === 'invalid_union' && 'options' in issue && Array.isArray(issue.options)) {
    message = `expected one of ${issue.options.map((o) => JSON.stringify(o)).join(', ')}, found ${describe(value)}`;
  } else if (issue.code === 'invalid_value') {
    message = `expected ${issue.values.map((v) => JSON.stringify(v)).join(' or ')}, found ${describe(value)}`;
  } else {
    message = `${issue.message.replace(/^Invalid input: /, '')} (found ${describe(value)})`;
  }
  return [{ file, ...position(nodeAt(doc, path) ?? nearest()), field, message }];
}

/** The keys the schema allows in the mapping at `path` (to list them for an unknown key). */
function allowedKeys(path: readonly PathKey[], data: unknown): string[] {
  let schema: z.ZodType | undefined = configSchema;
  let value: unknown = data;
  const unwrap = (s: z.ZodType): z.ZodType => {
    let cur: z.ZodType = s;
    for (;;) {
      if (cur instanceof z.ZodDefault || cur instanceof z.ZodOptional)
        cur = cur.unwrap() as z.ZodType;
      else if (cur instanceof z.ZodPipe) cur = cur.in as z.ZodType;
      else return cur;
    }
  };
  const resolve = (s: z.ZodType, v: unknown): z.ZodType => {
    const u = unwrap(s);
    if (u instanceof z.ZodDiscriminatedUnion && v !== null && typeof v === 'object') {
      const disc = u.def.discriminator;
      const tag = (v as Record<string, unknown>)[disc];
      for (const option of u.options as z.ZodType[]) {
        const o = unwrap(option);
        if (o instanceof z.ZodObject) {
          const lit = unwrap(o.shape[disc] as z.ZodType);
          if (lit instanceof z.ZodLiteral && lit.values.has(tag as never)) return o;
        }
      }
    }
    return u;
  };
  for (const key of path) {
    if (!schema) return [];
    const s = resolve(schema, value);
    value =
      value !== null && typeof value === 'object'
        ? (value as Record<PathKey, unknown>)[key]
        : undefined;
    if (s instanceof z.ZodObject) schema = s.shape[String(key)] as z.ZodType | undefined;
    else if (s instanceof z.ZodRecord) schema = s.def.valueType as z.ZodType;
    else if (s instanceof z.ZodArray) schema = s.element as z.ZodType;
    else return [];
  }
  if (!schema) return [];
  const s = resolve(schema, value);
  return s instanceof z.ZodObject ? Object.keys(s.shape) : [];
}

/**
 * Where `pinml.yaml` names a column of a model (one of its `features`, or its `label`): line and
 * column, or undefined when the text does not name it there (a shorthand, another file).
 */
export function locateColumnName(
  text: string,
  model: string,
  name: string,
): { line: number; col: number } | undefined {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const nodes: unknown[] = [doc.getIn(['models', model, 'label'], true)];
  const features = doc.getIn(['models', model, 'features'], true);
  if (isSeq(features)) nodes.push(...features.items);
  for (const node of nodes) {
    if (isScalar(node) && node.value === name && node.range) {
      return lineCounter.linePos(node.range[0]);
    }
  }
  return undefined;
}
