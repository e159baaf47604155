/**
 * Canonical JSON: sorted keys, 2-space indent, a final newline. Everything the pipeline
 * writes goes through here so files are byte-identical for the same content and diff well.
 */
import { createHash } from 'node:crypto';

/** Returns `value` with object keys sorted recursively (arrays keep their order). */
export function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = sortKeys(v);
    }
    return out;
  }
  if (typeof value === 'number' && !Number.isFinite(value)) {
    throw new TypeError(`cannot write ${value} as JSON`);
  }
  return value;
}

/** Serialises `value` canonically: sorted keys, 2-space indent, final newline. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value), null, 2) + '\n';
}

/** Serialises `value` canonically on one line (for hashing). */
export function compactJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

/** Lower-case hex SHA-256 of bytes or a UTF-8 string. */
export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}
