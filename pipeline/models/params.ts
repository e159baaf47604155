/**
 * A family's hyper-parameters are defined once, as a zod object in the family's file: each field
 * with its rule and its default. `pinml.yaml` is checked with it (`config.ts` builds the
 * candidate schema from the families), and so are the params a fit receives and those an
 * artifact records, with the messages of {@link paramsProblem}.
 */
import { z } from 'zod';

import { isRecord, show } from './checks.ts';
import type { ParamsSchema } from './types.ts';

/**
 * What is wrong with `params` under `schema`, or undefined when nothing is: the first field
 * (in the schema's order) that is missing or breaks its rule, e.g. `trees must be an integer
 * from 1 to 2000, got 0`, then a field the schema does not define. Defaults are not applied:
 * params given to a fit or kept in an artifact list every field.
 */
export function paramsProblem(schema: ParamsSchema, params: unknown): string | undefined {
  if (!isRecord(params)) return 'must be an object';
  const fields = Object.entries(schema.shape);
  for (const [name, field] of fields) {
    const rule = field instanceof z.ZodDefault ? field.unwrap() : field;
    const value = params[name];
    if (value === undefined || !z.safeParse(rule, value).success) {
      return `${name} must be ${describeRule(rule)}, got ${show(value)}`;
    }
  }
  const names = fields.map(([name]) => name);
  const unknown = Object.keys(params).find((key) => !names.includes(key));
  if (unknown !== undefined) {
    return `${unknown} is not one of its parameters (${names.join(', ')})`;
  }
  return undefined;
}

interface JsonSchema {
  type?: string;
  enum?: unknown[];
  anyOf?: JsonSchema[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
}

/**
 * A field's rule in words, from its JSON Schema: `an integer from 2 to 256`, `a number in
 * (0, 1]`, `"gini" or "entropy"`, `"sqrt", "log2" or a number in (0, 1]`, `true or false`.
 */
export function describeRule(rule: z.core.$ZodType): string {
  const words = alternatives(z.toJSONSchema(rule) as JsonSchema);
  const last = words.pop() ?? 'valid';
  return words.length === 0 ? last : `${words.join(', ')} or ${last}`;
}

function alternatives(s: JsonSchema): string[] {
  if (s.anyOf) return s.anyOf.flatMap(alternatives);
  if (s.enum) return s.enum.map((v) => JSON.stringify(v));
  if (s.type === 'boolean') return ['true or false'];
  if (s.type === 'integer' || s.type === 'number') return [describeNumber(s)];
  return [s.type === undefined ? 'valid' : `a ${s.type}`];
}

function describeNumber(s: JsonSchema): string {
  const integer = s.type === 'integer';
  // z.int() bounds every integer by the safe range: that is no bound worth naming.
  const bound = (v: number | undefined): number | undefined =>
    v !== undefined && Math.abs(v) < Number.MAX_SAFE_INTEGER ? v : undefined;
  const low = bound(s.exclusiveMinimum) ?? bound(s.minimum);
  const high = bound(s.exclusiveMaximum) ?? bound(s.maximum);
  const openLow = s.exclusiveMinimum !== undefined;
  const openHigh = s.exclusiveMaximum !== undefined;
  const noun = integer ? 'an integer' : 'a number';
  if (low !== undefined && high !== undefined) {
    if (integer && !openLow && !openHigh) return `${noun} from ${shown(low)} to ${shown(high)}`;
    return `${noun} in ${openLow ? '(' : '['}${shown(low)}, ${shown(high)}${openHigh ? ')' : ']'}`;
  }
  if (low !== undefined) return `${noun} ${openLow ? '>' : '>='} ${shown(low)}`;
  if (high !== undefined) return `${noun} ${openHigh ? '<' : '<='} ${shown(high)}`;
  return noun;
}

/** 1e12 rather than 1000000000000. */
function shown(v: number): string {
  return Number.isInteger(v) && Math.abs(v) >= 1e6 ? v.toExponential().replace('e+', 'e') : `${v}`;
}
