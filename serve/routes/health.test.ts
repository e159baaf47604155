import { describe, expect, it } from 'vitest';

import { createApp } from '../app.ts';
import { COMMIT_HEADER } from '../answer/respond.ts';
import type { ServingState } from '../follow/reconcile.ts';
import { COMMIT_A, COMMIT_B, depsOf, stateOf } from '../testing/fixtures.ts';
import { forest, one } from '../testing/routes.ts';
import { healthSchema } from './health.ts';

describe('health, readiness and models', () => {
  it('says ok and ready when every pinned model is served', async () => {
    const res = await one.request('/health');
    expect(res.status).toBe(200);
    const body = healthSchema.parse(await res.json());
    expect(body).toMatchObject({
      status: 'ok',
      ready: true,
      commit: COMMIT_A,
      models: [{ name: 'iris', version: 1 }],
    });
    const ready = await one.request('/ready');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ready: true, reasons: [] });
  });

  it('stays 200 but says degraded, with the reason, while a pinned version fails to load', async () => {
    const problem = {
      model: 'iris',
      version: 2,
      commit: COMMIT_B,
      code: 'E_REGISTRY',
      message: 'artifact is corrupt',
    };
    const app = createApp(depsOf(stateOf([forest], { commit: COMMIT_B, problems: [problem] })));
    const res = await app.request('/health');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      status: 'degraded',
      ready: true,
      problems: [problem],
      models: [{ version: 1, commit: COMMIT_A }],
    });
    expect(res.headers.get(COMMIT_HEADER)).toBe(COMMIT_B);
  });

  it('is not ready while starting, with nothing pinned, or with a pinned model not loaded', async () => {
    const cases: [Partial<ServingState>, RegExp][] = [
      [{ reconciledAt: null, commit: null }, /first reconcile/],
      [{ pinned: [] }, /no model is pinned/],
      [{ pinned: ['iris'] }, /iris is pinned but no version/],
    ];
    for (const [extra, reason] of cases) {
      const app = createApp(depsOf(stateOf([], extra)));
      const res = await app.request('/ready');
      expect(res.status).toBe(503);
      expect(((await res.json()) as { reasons: string[] }).reasons.join()).toMatch(reason);
      expect((await app.request('/health')).status).toBe(200);
    }
    const starting = createApp(depsOf(stateOf([], { reconciledAt: null, commit: null })));
    expect(await (await starting.request('/health')).json()).toMatchObject({
      status: 'starting',
      ready: false,
    });
  });

  it('turns readiness off while draining', async () => {
    const app = createApp(depsOf(stateOf([forest]), { draining: () => true }));
    expect((await app.request('/ready')).status).toBe(503);
    expect((await app.request('/v2/health/ready')).status).toBe(400);
    expect((await app.request('/v2/health/live')).status).toBe(200);
  });
});
