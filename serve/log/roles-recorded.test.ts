/**
 * Canary and shadow in the prediction log, with the real SQLite store and over a real socket:
 * every answer's rows recorded with the pin that answered, every request's shadow rows with
 * `pin: 'shadow'` under the same row ids, and live quality per version and pin in `/metrics`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';

import { openSqliteLog } from '../../pipeline/log/sqlite.ts';
import type { LoggedRow } from '../../pipeline/log/store.ts';
import { KEY_HEADER, PIN_HEADER, VERSION_HEADER } from '../answer/respond.ts';
import { createApp } from '../app.ts';
import { createHttpServer } from '../http/server.ts';
import { COMMIT_B, depsOf, irisLogistic, stateOf } from '../testing/fixtures.ts';
import { forest, rowObject, rows } from '../testing/routes.ts';
import { listenLoopback, stopServer } from '../testing/server.ts';
import { LiveMonitor } from './live.ts';
import { Recorder } from './recorder.ts';

const TOKEN = 'test-admin-token-0123456789';
const dir = await mkdtemp(join(tmpdir(), 'pinml-roles-recorded-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

const canary = await irisLogistic('iris', 2, COMMIT_B);
const shadow = await irisLogistic('iris', 3, COMMIT_B);
const LABELS = ['setosa', 'versicolor', 'virginica'];

describe('the prediction log with a canary and a shadow', () => {
  it('records every arm with its pin and the shadow under the same ids, over a socket', async () => {
    const state = stateOf([forest], {
      roles: new Map([['iris', { canary: { model: canary, weight: 0.5 }, shadow }]]),
    });
    const deps = depsOf(state, { limits: { bodyBytes: 65536, batchRows: 10 } });
    const store = openSqliteLog(join(dir, 'log.db'));
    const recorder = new Recorder({
      store,
      log: pino({ level: 'silent' }),
      logInputs: true,
      sampleRate: 1,
      queueRows: 10_000,
      flushMs: 50,
      batchRows: 1000,
      retention: {},
      retentionEveryMs: 60_000,
    });
    const app = createApp({ ...deps, recorder, adminToken: TOKEN });
    const server = createHttpServer(app.fetch, {
      requestTimeoutMs: 30_000,
      headersTimeoutMs: 10_000,
    });
    const port = await listenLoopback(server);
    const pins = new Map<string, string>();
    try {
      for (let i = 0; i < rows.length; i++) {
        const res = await fetch(`http://127.0.0.1:${port}/predict`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-request-id': `r${i}`,
            [KEY_HEADER]: `user-${i}`,
          },
          body: JSON.stringify({ inputs: rowObject(rows[i] as number[]) }),
        });
        expect(res.status).toBe(200);
        const pin = res.headers.get(PIN_HEADER) ?? '';
        expect(res.headers.get(VERSION_HEADER)).toBe(pin === 'canary' ? 'iris@2' : 'iris@1');
        pins.set(`r${i}`, pin);
        await res.arrayBuffer();
      }
      const feedback = await fetch(`http://127.0.0.1:${port}/feedback`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify(
          rows.map((_, i) => ({ id: `r${i}`, model: 'iris', label: LABELS[Math.floor(i / 50)] })),
        ),
      });
      expect(feedback.status).toBeLessThan(300);
      await recorder.flush();

      const logged: LoggedRow[] = [];
      for (let after: number | null = 0; after !== null;) {
        const page = await store.read({ model: 'iris', after, limit: 500 });
        logged.push(...page.rows);
        after = page.next;
      }
      expect(logged).toHaveLength(2 * rows.length);
      const answered = logged.filter((r) => r.pin !== 'shadow');
      const shadowed = logged.filter((r) => r.pin === 'shadow');
      expect(answered.map((r) => [r.id, r.pin, r.version]).sort()).toEqual(
        [...pins].map(([id, pin]) => [id, pin, pin === 'canary' ? 2 : 1]).sort(),
      );
      expect(shadowed.map((r) => r.id).sort()).toEqual([...pins.keys()].sort());
      expect(shadowed.every((r) => r.version === 3 && r.commit === COMMIT_B)).toBe(true);
      expect(shadowed.every((r) => r.label !== null)).toBe(true);
      const canaryShare = answered.filter((r) => r.pin === 'canary').length / rows.length;
      // 150 keys at weight 0.5: well inside 0.5 ± 0.15 (3.7 standard deviations).
      expect(Math.abs(canaryShare - 0.5)).toBeLessThanOrEqual(0.15);

      const live = new LiveMonitor({
        store,
        metrics: deps.metrics,
        log: pino({ level: 'silent' }),
        state: () => state,
        windowMs: 3_600_000,
        intervalMs: 60_000,
      });
      const figures = await live.update();
      expect(figures.map((f) => `${f.version} ${f.pin}`).sort()).toEqual([
        '1 production',
        '2 canary',
        '3 shadow',
      ]);
      const shadowFigure = figures.find((f) => f.pin === 'shadow');
      expect(shadowFigure?.labelled).toBe(rows.length);
      expect(Object.keys(shadowFigure?.predictedShare ?? {}).sort()).toEqual(LABELS);
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(metrics).toMatch(/pinml_live_accuracy\{model="iris",version="3",pin="shadow"\} 0\.9/);
      expect(metrics).toMatch(/pinml_live_accuracy\{model="iris",version="2",pin="canary"\} /);
      expect(metrics).toContain(
        `pinml_prediction_requests_total{model="iris",version="3",pin="shadow"} ${rows.length}`,
      );
    } finally {
      await stopServer(server);
      await recorder.stop();
    }
  });
});
