/**
 * The admin routes (`/logs`, `/feedback`) take `Authorization: Bearer <PINML_ADMIN_TOKEN>`,
 * compared in constant time; without a configured token they are off (404, saying how to turn
 * them on). The token never appears in a log line or an answer.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

import type { MiddlewareHandler } from 'hono';

import type { AppEnv } from '../deps.ts';
import { RequestError } from './errors.ts';

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

/** A middleware that lets a request through only with the admin token. */
export function requireAdmin(token: string | undefined, what: string): MiddlewareHandler<AppEnv> {
  const expected = token === undefined || token === '' ? undefined : digest(token);
  return async (c, next) => {
    if (expected === undefined) {
      throw new RequestError(
        'admin_disabled',
        `${what} is off: start the server with PINML_ADMIN_TOKEN set, and send it as Authorization: Bearer <token>`,
      );
    }
    const header = c.req.header('authorization') ?? '';
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    // Equal-length digests, so the comparison says nothing about the token's length.
    if (m === null || !timingSafeEqual(digest(m[1] as string), expected)) {
      throw new RequestError(
        'unauthorized',
        `${what} needs Authorization: Bearer <PINML_ADMIN_TOKEN>${m === null ? '' : ': that token is not it'}`,
        'Authorization',
      );
    }
    await next();
  };
}
