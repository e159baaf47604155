/**
 * GitHub webhooks: a `push` to the followed branch reconciles at once; `ping` answers. Every
 * delivery must carry `X-Hub-Signature-256`, the HMAC-SHA256 of the raw body with the shared
 * secret (GitHub's "Validating webhook deliveries"), compared in constant time; a missing or
 * wrong signature is refused before the body is even parsed, and changes nothing.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

import { RequestError } from './errors.ts';

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
