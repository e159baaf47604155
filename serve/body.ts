/**
 * Request bodies: a JSON content type, a size limit, and JSON that parses, each refused with
 * its own 4xx (415, 413, 400) before a handler sees the body.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';

import { RequestError } from './errors.ts';

/**
 * Refuses a body over `maxBytes` (413), by its Content-Length or, for a chunked body, while it
 * streams in. The Content-Length check reads a header only: Hono's `bodyLimit` first asks for
 * `req.raw.body`, which makes @hono/node-server build a full fetch `Request` (streams, an
 * AbortSignal) and costs more than the whole prediction; it is kept for chunked bodies.
 */
export function limitBody(maxBytes: number): MiddlewareHandler {
  const tooLarge = (): never => {
    throw new RequestError(
      'payload_too_large',
      `the body is over this server's limit of ${maxBytes} bytes: send a smaller batch`,
    );
  };
  const streamed = bodyLimit({ maxSize: maxBytes, onError: tooLarge });
  return async (c, next) => {
    const length = c.req.header('content-length');
    if (length !== undefined && c.req.header('transfer-encoding') === undefined) {
      if (!/^\d+$/.test(length) || Number(length) > maxBytes) tooLarge();
      await next();
      return;
    }
    await streamed(c, next);
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

/** Parses a request body as JSON; 400 `invalid_json` for an empty or malformed one. */
export function parseJsonBody(text: string): unknown {
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
