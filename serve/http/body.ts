/**
 * Request bodies: a content type, a size limit, and JSON that parses without nesting absurdly,
 * each refused with its own 4xx (415, 413, 400) before a handler uses the body.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';

import type { AppContext, AppEnv, Limits } from '../deps.ts';
import type { ServingState } from '../follow/reconcile.ts';
import { RequestError } from './errors.ts';

/** Envelope allowance of a derived body limit: model name, id, version, OIP tensor names. */
const ENVELOPE_BYTES = 16 * 1024;
/** The widest finite number in JSON: `-1.2345678901234567e-308`. */
const NUMBER_BYTES = 24;
/** Whitespace a pretty-printed body may add per value and per row. */
const SPACE_BYTES = 8;

/**
 * The largest body a request to these models needs: `batchRows` rows of each model's features
 * as JSON objects (the widest of the protocols: names repeated on every row, the widest number,
 * some whitespace), plus an envelope. 1,000 Iris rows: 224 KiB, where a typical one is ~76 KB.
 */
export function bodyLimitOf(features: Iterable<readonly string[]>, batchRows: number): number {
  let widest = 1;
  for (const names of features) {
    let row = SPACE_BYTES + 2;
    for (const name of names) row += JSON.stringify(name).length + 2 + NUMBER_BYTES + SPACE_BYTES;
    widest = Math.max(widest, row);
  }
  return ENVELOPE_BYTES + widest * batchRows;
}

const derived = new WeakMap<ServingState, number>();

/**
 * The body limit of a request: the configured one, else {@link bodyLimitOf} the models its
 * serving state serves (at least what one row of the widest needs, before any is served).
 */
export function bodyLimitFor(limits: Limits): (c: AppContext) => number {
  return (c) => {
    if (limits.bodyBytes !== undefined) return limits.bodyBytes;
    const state = c.get('state');
    let limit = derived.get(state);
    if (limit === undefined) {
      const features = [...state.models.values()].map((m) => m.predictor.features);
      for (const r of state.roles.values()) {
        if (r.canary !== undefined) features.push(r.canary.model.predictor.features);
      }
      limit = bodyLimitOf(features, limits.batchRows);
      derived.set(state, limit);
    }
    return limit;
  };
}

function tooLarge(maxBytes: number): never {
  throw new RequestError(
    'payload_too_large',
    `the body is over this server's limit of ${maxBytes} bytes: send a smaller batch`,
  );
}

/**
 * Refuses a body over the limit `limitOf` gives for a request (413, and the connection closes:
 * see the app's `onError`), by its Content-Length before a byte of it is read or, for a chunked
 * body, while it streams in (Hono's `bodyLimit`).
 */
export function limitBody(limitOf: (c: AppContext) => number): MiddlewareHandler<AppEnv> {
  const streamed = new Map<number, MiddlewareHandler>();
  return async (c, next) => {
    const maxBytes = limitOf(c);
    const length = c.req.header('content-length');
    if (length !== undefined && c.req.header('transfer-encoding') === undefined) {
      if (!/^\d+$/.test(length) || Number(length) > maxBytes) tooLarge(maxBytes);
      await next();
      return;
    }
    let limit = streamed.get(maxBytes);
    if (limit === undefined) {
      limit = bodyLimit({ maxSize: maxBytes, onError: () => tooLarge(maxBytes) });
      if (streamed.size > 64) streamed.clear();
      streamed.set(maxBytes, limit);
    }
    await limit(c, next);
  };
}

/** A JSON media type: `application/json`, `application/vnd.x+json`, with parameters. */
export const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/** Refuses a body that is not declared as JSON (415). */
export const requireJson: MiddlewareHandler = async (c, next) => {
  const type = c.req.header('content-type');
  if (type === undefined || !JSON_TYPE.test(type)) {
    throw new RequestError(
      'unsupported_media_type',
      `the body must be JSON sent with Content-Type: application/json, not ${type === undefined ? 'no content type' : JSON.stringify(type)}`,
      '(content-type)',
    );
  }
  await next();
};

/** The body as text; a body the client cut off is the client's problem (400), not ours. */
export async function bodyText(c: Context): Promise<string> {
  try {
    return await c.req.text();
  } catch (err) {
    if (err instanceof RequestError) throw err;
    throw new RequestError('invalid_input', 'the request body could not be read', '(body)');
  }
}

/** The body's exact bytes (a signature is over these, not over decoded text). */
export async function bodyBytes(c: Context): Promise<Uint8Array> {
  try {
    return new Uint8Array(await c.req.arrayBuffer());
  } catch (err) {
    if (err instanceof RequestError) throw err;
    throw new RequestError('invalid_input', 'the request body could not be read', '(body)');
  }
}

/** The body parsed as JSON (400 with the parser's position when it is not JSON). */
export async function jsonBody(c: Context): Promise<unknown> {
  return parseJsonBody(await bodyText(c));
}

/** How deep arrays and objects may nest in a request (an OIP tensor of rows needs 4). */
export const MAX_JSON_DEPTH = 32;

/**
 * Parses a request body as JSON; 400 `invalid_json` for an empty or malformed one, and for one
 * nested deeper than {@link MAX_JSON_DEPTH}, refused by one pass over its characters before it
 * is parsed (a body of brackets would otherwise cost the parser, and every walk of the value).
 */
export function parseJsonBody(text: string): unknown {
  const depth = nestingDepth(text, MAX_JSON_DEPTH);
  if (depth > MAX_JSON_DEPTH) {
    throw new RequestError(
      'invalid_json',
      `the body nests arrays or objects more than ${MAX_JSON_DEPTH} deep: no request needs that`,
      '(body)',
    );
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    if (text.trim() === '') {
      throw new RequestError('invalid_json', 'the body is empty: send a JSON object', '(body)');
    }
    throw new RequestError(
      'invalid_json',
      `the body is not valid JSON: ${(err as Error).message}`,
      '(body)',
    );
  }
}

/** How deep `[` and `{` nest in JSON text, outside strings; stops counting past `max`. */
function nestingDepth(text: string, max: number): number {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 0x5c)
        i++; // a backslash escapes the next character
      else if (ch === 0x22) inString = false;
    } else if (ch === 0x22) inString = true;
    else if (ch === 0x5b || ch === 0x7b) {
      if (++depth > max) return depth;
    } else if (ch === 0x5d || ch === 0x7d) depth--;
  }
  return depth;
}
