/**
 * Request bodies: a JSON content type, a size limit, and JSON that parses, each refused with
 * its own 4xx (415, 413, 400) before a handler sees the body.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';

import { RequestError } from './errors.ts';

/** Refuses a body over `maxBytes` (413), by its Content-Length or while it streams in. */
export function limitBody(maxBytes: number): MiddlewareHandler {
  return bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw new RequestError(
        'payload_too_large',
        `the body is over this server's limit of ${maxBytes} bytes: send a smaller batch`,
      );
    },
  });
}

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

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
  const text = await bodyText(c);
  if (text.trim() === '') {
    throw new RequestError('invalid_json', 'the body is empty: send a JSON object', '(body)');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new RequestError(
      'invalid_json',
      `the body is not valid JSON: ${(err as Error).message}`,
      '(body)',
    );
  }
}
