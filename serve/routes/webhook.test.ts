import { describe, expect, it, vi } from 'vitest';

import { createApp } from '../app.ts';
import type { ReconcileResult } from '../follow/reconcile.ts';
import { COMMIT_B, depsOf, stateOf } from '../testing/fixtures.ts';
import { forest, one } from '../testing/routes.ts';
import { RecentDeliveries, signBody } from './webhook.ts';

describe('POST /webhooks/github', () => {
  const SECRET = "It's a Secret to Everybody";
  const push = JSON.stringify({ ref: 'refs/heads/main', after: COMMIT_B });
  function delivery(
    body: string,
    event: string,
    signature: string | null,
    type = 'application/json',
  ): Request {
    const headers: Record<string, string> = {
      'content-type': type,
      'x-github-event': event,
      'x-github-delivery': 'd1',
    };
    if (signature !== null) headers['x-hub-signature-256'] = signature;
    return new Request('http://pinml.test/webhooks/github', { method: 'POST', headers, body });
  }
  function appWithWebhook(): {
    app: ReturnType<typeof createApp>;
    reconcile: ReturnType<typeof vi.fn>;
  } {
    const reconcile = vi.fn(() => Promise.resolve({} as ReconcileResult));
    return {
      app: createApp(depsOf(stateOf([forest]), { webhookSecret: SECRET, reconcile })),
      reconcile,
    };
  }

  it('matches GitHub’s documented signature example', () => {
    // docs.github.com, "Validating webhook deliveries": secret and payload as given there.
    expect(signBody(SECRET, 'Hello, World!')).toBe(
      'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17',
    );
  });

  it('reconciles at once on a signed push to the followed branch', async () => {
    const { app, reconcile } = appWithWebhook();
    const res = await app.request(delivery(push, 'push', signBody(SECRET, push)));
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ accepted: true, ref: 'refs/heads/main', after: COMMIT_B });
    expect(reconcile).toHaveBeenCalledWith('webhook');
  });

  it('accepts the form-encoded payload GitHub can send', async () => {
    const { app, reconcile } = appWithWebhook();
    const body = `payload=${encodeURIComponent(push)}`;
    const res = await app.request(
      delivery(body, 'push', signBody(SECRET, body), 'application/x-www-form-urlencoded'),
    );
    expect(res.status).toBe(202);
    expect(reconcile).toHaveBeenCalledTimes(1);
  });

  it.each([
    ['a missing signature', null],
    ['a wrong signature', signBody('another secret', push)],
    ['a signature of another body', signBody(SECRET, `${push} `)],
    ['a truncated signature', signBody(SECRET, push).slice(0, 30)],
    ['a sha1 signature', 'sha1=0123456789abcdef0123456789abcdef01234567'],
  ])('refuses %s with 401 and changes nothing', async (_what, signature) => {
    const { app, reconcile } = appWithWebhook();
    const res = await app.request(delivery(push, 'push', signature));
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({
      code: 'invalid_signature',
      field: 'X-Hub-Signature-256',
    });
    expect(reconcile).not.toHaveBeenCalled();
  });

  it('answers a ping, and ignores pushes to other branches and other events', async () => {
    const { app, reconcile } = appWithWebhook();
    const ping = JSON.stringify({ zen: 'Keep it logically awesome.' });
    const pong = await app.request(delivery(ping, 'ping', signBody(SECRET, ping)));
    expect(pong.status).toBe(200);
    expect(await pong.json()).toMatchObject({ ok: true, zen: 'Keep it logically awesome.' });
    const other = JSON.stringify({ ref: 'refs/heads/pinml/promote-iris' });
    const ignored = await app.request(delivery(other, 'push', signBody(SECRET, other)));
    expect(ignored.status).toBe(202);
    expect(await ignored.json()).toMatchObject({ accepted: false });
    const issue = await app.request(delivery(push, 'issues', signBody(SECRET, push)));
    expect(issue.status).toBe(202);
    const bad = await app.request(delivery('not json', 'push', signBody(SECRET, 'not json')));
    expect(bad.status).toBe(400);
    expect(reconcile).not.toHaveBeenCalled();
  });

  it('acts on a delivery once: a replay of its id is answered and ignored', async () => {
    const { app, reconcile } = appWithWebhook();
    const signed = signBody(SECRET, push);
    expect((await app.request(delivery(push, 'push', signed))).status).toBe(202);
    const replay = await app.request(delivery(push, 'push', signed));
    expect(replay.status).toBe(202);
    expect(await replay.json()).toMatchObject({
      accepted: false,
      reason: expect.stringMatching(/d1 was accepted before/) as unknown,
    });
    expect(reconcile).toHaveBeenCalledTimes(1);
  });

  it('answers 404 when no secret is configured', async () => {
    const res = await one.request(delivery(push, 'push', signBody(SECRET, push)));
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ code: 'webhook_disabled' });
  });
});

describe('RecentDeliveries', () => {
  it('forgets an id after its time, and the oldest ids past its size', () => {
    let now = 0;
    const recent = new RecentDeliveries({ size: 2, ttlMs: 1000, now: () => now });
    expect(recent.seen('a')).toBe(false);
    expect(recent.seen('a')).toBe(true);
    now = 1500;
    expect(recent.seen('a')).toBe(false);
    expect(recent.seen('b')).toBe(false);
    expect(recent.seen('c')).toBe(false);
    // Three ids in a memory of two: the oldest, a, is gone.
    expect(recent.seen('a')).toBe(false);
    expect(recent.seen('c')).toBe(true);
  });
});
