/**
 * Reading the errors isomorphic-git and Node throw: a `code` (isomorphic-git's error class
 * name, or a Node/undici code such as `ECONNREFUSED`), a `data` object, a message. Every
 * other module of the adapter looks at a foreign error only through these.
 */

/** The string `code` of an error, if it has one. */
export function errorCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    return typeof err.code === 'string' ? err.code : undefined;
  }
  return undefined;
}

/** The `data` object of an error (isomorphic-git puts its details there), or `{}`. */
export function errorData(err: unknown): Record<string, unknown> {
  if (typeof err === 'object' && err !== null && 'data' in err) {
    const { data } = err;
    if (typeof data === 'object' && data !== null) return data as Record<string, unknown>;
  }
  return {};
}

/** The message of an error, or the thrown value as text. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
