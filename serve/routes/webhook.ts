/**
 * GitHub webhooks: a `push` to the followed branch reconciles at once; `ping` answers. Every
 * delivery must carry `X-Hub-Signature-256`, the HMAC-SHA256 of the raw body with the shared
 * secret (GitHub's "Validating webhook deliveries"), compared in constant time; a missing or
 * wrong signature is refused before the body is even parsed, and changes nothing. A delivery id
 * (`X-GitHub-Delivery`) accepted once is not acted on again while it is remembered (a replayed
 * delivery is answered, and ignored).
 */
import { respond } from '../answer/respond.ts';
import { createHmac, timingSafeEqual } from 'node:crypto';

import { z } from '@hono/zod-openapi';

import { bodyBytes, limitBody } from '../http/body.ts';
import { RequestError } from '../http/errors.ts';
import { declare, errorResponses, jsonResponse, type Routes } from './declare.ts';

/** `sha256=<hex>` of a body, as GitHub sends it in `X-Hub-Signature-256`. */
export function signBody(secret: string, body: Uint8Array | string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** Whether `header` is the signature of `body` under `secret`, compared in constant time. */
export function isValidSignature(
  secret: string,
  body: Uint8Array,
  header: string | undefined,
): boolean {
  const expected = Buffer.from(signBody(secret, body), 'utf8');
  const given = Buffer.from(header ?? '', 'utf8');
  // timingSafeEqual needs equal lengths; a length mismatch says nothing about the secret.
  if (given.length !== expected.length) return false;
  return timingSafeEqual(given, expected);
}

/** What a verified delivery asks for. */
export type WebhookAction =
  | { kind: 'ping'; zen: string | undefined }
  | { kind: 'reconcile'; ref: string; after: string | undefined }
  | { kind: 'ignore'; reason: string };

/**
 * Reads a verified delivery (JSON, or GitHub's form encoding with a `payload` field) and decides
 * what to do for the branch `ref`. 400 for a body that is not a GitHub payload.
 */
export function readDelivery(
  event: string | undefined,
  body: Uint8Array,
  contentType: string | undefined,
  ref: string,
): WebhookAction {
  if (event === undefined || event === '') {
    throw new RequestError(
      'invalid_input',
      'the X-GitHub-Event header is missing',
      'X-GitHub-Event',
    );
  }
  let text = new TextDecoder().decode(body);
  if (/^application\/x-www-form-urlencoded/i.test(contentType ?? '')) {
    text = new URLSearchParams(text).get('payload') ?? '';
  }
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch (err) {
    throw new RequestError(
      'invalid_json',
      `the webhook payload is not JSON: ${(err as Error).message}`,
      '(body)',
    );
  }
  const p = (typeof payload === 'object' && payload !== null ? payload : {}) as Record<
    string,
    unknown
  >;
  if (event === 'ping') return { kind: 'ping', zen: typeof p.zen === 'string' ? p.zen : undefined };
  if (event !== 'push') return { kind: 'ignore', reason: `the ${event} event is not used` };
  if (typeof p.ref !== 'string') {
    throw new RequestError('invalid_input', 'ref: a push payload names the ref it moved', 'ref');
  }
  if (p.ref !== `refs/heads/${ref}`) {
    return { kind: 'ignore', reason: `a push to ${p.ref}; this server follows refs/heads/${ref}` };
  }
  return {
    kind: 'reconcile',
    ref: p.ref,
    after: typeof p.after === 'string' ? p.after : undefined,
  };
}

/**
 * Delivery ids seen recently: at most `size` of them, each for `ttlMs` (GitHub retries and
 * redeliveries reuse the id; a delivery that was refused is not remembered, so it may come again).
 */
export class RecentDeliveries {
  readonly #seen = new Map<string, number>();
  readonly #size: number;
  readonly #ttlMs: number;
  readonly #now: () => number;

  constructor(options: { size?: number; ttlMs?: number; now?: () => number } = {}) {
    this.#size = options.size ?? 10_000;
    this.#ttlMs = options.ttlMs ?? 24 * 3600 * 1000;
    this.#now = options.now ?? Date.now;
  }

  /** True when `id` was remembered already; otherwise remembers it and answers false. */
  seen(id: string): boolean {
    const now = this.#now();
    const at = this.#seen.get(id);
    if (at !== undefined && now - at < this.#ttlMs) return true;
    this.#seen.delete(id);
    this.#seen.set(id, now);
    // A Map iterates in insertion order: the first entries are the oldest.
    for (const [old, time] of this.#seen) {
      if (this.#seen.size <= this.#size && now - time < this.#ttlMs) break;
      this.#seen.delete(old);
    }
    return false;
  }
}

/** GitHub sends payloads of up to 25 MB; a push's is far smaller. Read at most this much. */
const WEBHOOK_BODY_BYTES = 5 * 1024 * 1024;

/** The route. */
export const webhookRoutes: Routes = (app, deps) => {
  const { log } = deps;
  const recent = new RecentDeliveries();
  declare(
    app,
    {
      method: 'post',
      path: '/webhooks/github',
      tags: ['pinml'],
      summary: 'GitHub push/ping webhook (X-Hub-Signature-256 required): reconcile now',
      request: {
        headers: z.object({
          'X-GitHub-Event': z.string(),
          'X-Hub-Signature-256': z.string(),
          'X-GitHub-Delivery': z.string().optional(),
        }),
        body: {
          required: true,
          content: { 'application/json': { schema: z.object({}).passthrough() } },
        },
      },
      responses: {
        200: jsonResponse('Ping answered'),
        202: jsonResponse('Push accepted (reconciling), ignored, or a delivery seen before'),
        ...errorResponses(400, 401, 404, 413),
      },
    },
    limitBody(() => WEBHOOK_BODY_BYTES),
    async (c) => {
      const secret = deps.webhookSecret;
      if (secret === undefined || secret === '' || deps.reconcile === undefined) {
        throw new RequestError(
          'webhook_disabled',
          'webhooks are off: start the server with a webhook secret (PINML_WEBHOOK_SECRET)',
        );
      }
      const raw = await bodyBytes(c);
      const delivery = c.req.header('x-github-delivery');
      if (!isValidSignature(secret, raw, c.req.header('x-hub-signature-256'))) {
        log.warn({ delivery }, 'webhook refused: bad signature');
        throw new RequestError(
          'invalid_signature',
          'X-Hub-Signature-256 is missing or does not match the body signed with the webhook secret',
          'X-Hub-Signature-256',
        );
      }
      const action = readDelivery(
        c.req.header('x-github-event'),
        raw,
        c.req.header('content-type'),
        c.get('state').ref,
      );
      if (action.kind === 'ping')
        return respond(c, { ok: true, event: 'ping', zen: action.zen ?? null });
      if (action.kind === 'ignore') {
        log.info({ delivery, reason: action.reason }, 'webhook ignored');
        return respond(c, { accepted: false, reason: action.reason }, 202);
      }
      if (delivery !== undefined && delivery !== '' && recent.seen(delivery)) {
        log.info({ delivery }, 'webhook ignored: a delivery seen before');
        return respond(
          c,
          { accepted: false, reason: `delivery ${delivery} was accepted before` },
          202,
        );
      }
      log.info({ delivery, ref: action.ref, after: action.after }, 'webhook: reconciling');
      // Answer at once (GitHub waits 10 s at most); the reconcile logs and reports its outcome.
      void deps
        .reconcile('webhook')
        .catch((err: unknown) => log.error({ err }, 'webhook reconcile failed'));
      return respond(c, { accepted: true, ref: action.ref, after: action.after ?? null }, 202);
    },
  );
};
