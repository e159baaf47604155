/**
 * The recorder when the store fails, with the real SQLite store made unwritable the ways a
 * disk does it (its folder gone or replaced by a file, its file deleted): answers stay 200, rows
 * wait in the bounded queue, then are dropped and counted with one warning per interval, `/health`
 * says degraded and why, and writing resumes by itself when the store comes back.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';

import Database from 'libsql';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';

import { openSqliteLog } from '../../pipeline/log/sqlite.ts';
import { createApp } from '../app.ts';
import { depsOf, stateOf } from '../testing/fixtures.ts';
import { FEATURES, forest, post, rows } from '../testing/routes.ts';
import { waitFor } from '../testing/server.ts';
import { Recorder, flushDelay } from './recorder.ts';

const base = await mkdtemp(join(tmpdir(), 'pinml-recorder-'));

/** Mounts a tmpfs of `size` at `dir` (root only); false where this machine does not allow it. */
function mountTmpfs(dir: string, size: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const canMount = await (async () => {
  const probe = join(base, 'probe');
  await mkdir(probe);
  const ok = mountTmpfs(probe, '64k');
  if (ok) execFileSync('umount', [probe]);
  return ok;
})();
afterAll(() => rm(base, { recursive: true, force: true }));
let counter = 0;

/** A recorder on a store in its own folder, an app that answers through it, its log lines. */
async function setup(queueRows = 1000, busyTimeoutMs = 100, sampleRate = 1) {
  const folder = join(base, `case-${++counter}`);
  await mkdir(folder);
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  let now = 1_000_000;
  let draws = 0;
  const store = openSqliteLog(join(folder, 'predictions.db'), { busyTimeoutMs });
  const recorder = new Recorder({
    store,
    log: pino({ level: 'info' }, sink),
    logInputs: true,
    sampleRate,
    random: () => (draws++ % 4) / 4,
    queueRows,
    flushMs: 50,
    batchRows: 1000,
    retention: {},
    retentionEveryMs: 60_000,
    now: () => now,
  });
  const app = createApp(depsOf(stateOf([forest]), { recorder }));
  const row = Object.fromEntries(FEATURES.map((f, j) => [f, (rows[0] as number[])[j] as number]));
  const predict = async (): Promise<number> =>
    (await app.request(post('/predict', { inputs: row }))).status;
  const health = async (): Promise<Record<string, unknown>> =>
    (await (await app.request('/health')).json()) as Record<string, unknown>;
  const advance = (ms: number): void => {
    now += ms;
  };
  const count = async (): Promise<number> => {
    let n = 0;
    let after: number | undefined;
    for (;;) {
      const page = await store.read({ limit: 1000, after });
      n += page.rows.length;
      if (page.next === null) return n;
      after = page.next;
    }
  };
  return { folder, recorder, store, predict, health, lines, advance, count };
}

const warnings = (lines: Record<string, unknown>[]): Record<string, unknown>[] =>
  lines.filter((l) => l.level === 40);

describe('the recorder when the store fails', () => {
  it('keeps answering while its folder is a file, queues then drops and counts, warns once, and resumes', async () => {
    const t = await setup(20);
    // The folder is replaced by a file: nothing can be created there.
    await rm(t.folder, { recursive: true });
    await writeFile(t.folder, 'not a folder');
    for (let i = 0; i < 30; i++) expect(await t.predict()).toBe(200);
    await t.recorder.flush();
    await t.recorder.flush();
    expect(t.recorder.status()).toMatchObject({ state: 'degraded', queued: 20, dropped: 10 });
    expect(t.recorder.status().failures).toBeGreaterThanOrEqual(1);
    const health = await t.health();
    expect(health.status).toBe('degraded');
    expect(health.predictionLog).toMatchObject({ state: 'degraded', queued: 20, dropped: 10 });
    expect(String((health.predictionLog as { reason: string }).reason)).toMatch(
      /case-1 is not a folder \(EEXIST\): point --data-dir at a folder/,
    );
    // One warning for all of it, however many rows were dropped and writes failed.
    expect(warnings(t.lines)).toHaveLength(1);
    // Past the warning interval, trouble that lasts is said once more.
    t.advance(31_000);
    await t.recorder.flush();
    expect(warnings(t.lines)).toHaveLength(2);

    // The folder comes back: the queued rows are written, by the next flush, and it says so.
    await rm(t.folder);
    await mkdir(t.folder);
    await t.recorder.flush();
    expect(t.recorder.status()).toMatchObject({ state: 'ok', queued: 0, written: 20, dropped: 10 });
    expect(await t.count()).toBe(20);
    expect(t.lines.some((l) => l.msg === 'the prediction log is written again')).toBe(true);
    expect((await t.health()).status).toBe('ok');
    await t.recorder.stop();
  });

  it('starts a new file when its file is deleted, with the signatures its rows need', async () => {
    const t = await setup();
    for (let i = 0; i < 3; i++) await t.predict();
    await t.recorder.flush();
    expect(await t.count()).toBe(3);
    await rm(join(t.folder, 'predictions.db'));
    await rm(join(t.folder, 'predictions.db-wal'), { force: true });
    await rm(join(t.folder, 'predictions.db-shm'), { force: true });
    for (let i = 0; i < 2; i++) await t.predict();
    await t.recorder.flush();
    expect(t.recorder.status()).toMatchObject({ state: 'ok', written: 5 });
    const page = await t.store.read({ limit: 10 });
    expect(page.rows).toHaveLength(2);
    // The inputs are keyed by feature: the new file learned iris@1's signature.
    expect(Object.keys(page.rows[0]?.inputs ?? {})).toEqual(FEATURES);
    await t.recorder.stop();
  });

  it('retries a failing store while stopping, and writes everything once it returns', async () => {
    const t = await setup();
    await rm(t.folder, { recursive: true });
    await writeFile(t.folder, 'not a folder');
    for (let i = 0; i < 4; i++) await t.predict();
    setTimeout(() => {
      void rm(t.folder).then(() => mkdir(t.folder));
    }, 150);
    await t.recorder.stop(5000);
    const store = openSqliteLog(join(t.folder, 'predictions.db'));
    expect((await store.read({ limit: 10 })).rows).toHaveLength(4);
    await store.close();
  });

  it('backs off while the store fails: the interval doubles up to 4 s', () => {
    expect([0, 1, 2, 3, 4, 5, 10].map((n) => flushDelay(250, n))).toEqual([
      250, 500, 1000, 2000, 4000, 4000, 4000,
    ]);
    expect(flushDelay(5000, 3)).toBe(5000);
  });

  it('writes on its own timer, and again by itself once a failing store returns', async () => {
    const t = await setup();
    await rm(t.folder, { recursive: true });
    await writeFile(t.folder, 'not a folder');
    await t.predict();
    t.recorder.start();
    await waitFor('a failed write', () =>
      Promise.resolve(t.recorder.status().failures > 0 ? true : undefined),
    );
    await rm(t.folder);
    await mkdir(t.folder);
    await waitFor('the queued row written', () =>
      Promise.resolve(t.recorder.status().written === 1 ? true : undefined),
    );
    expect(t.recorder.status().state).toBe('ok');
    await t.predict();
    await waitFor('the next row written', () =>
      Promise.resolve(t.recorder.status().written === 2 ? true : undefined),
    );
    await t.recorder.stop();
  });

  it('keeps answering while another program holds the file locked, and writes once it lets go', async () => {
    const t = await setup();
    await t.predict();
    await t.recorder.flush();
    const other = new Database(join(t.folder, 'predictions.db'));
    other.exec('BEGIN EXCLUSIVE');
    try {
      for (let i = 0; i < 3; i++) expect(await t.predict()).toBe(200);
      const started = performance.now();
      await t.recorder.flush();
      // One attempt waits the busy timeout (100 ms here, 1 s in the server), no longer.
      expect(performance.now() - started).toBeLessThan(1000);
      expect(t.recorder.status()).toMatchObject({ state: 'degraded', queued: 3, written: 1 });
      expect(String((await t.health()).predictionLog && t.recorder.status().reason)).toMatch(
        /busy|locked/i,
      );
    } finally {
      other.exec('COMMIT');
      other.close();
    }
    await t.recorder.flush();
    expect(t.recorder.status()).toMatchObject({ state: 'ok', queued: 0, written: 4 });
    expect(await t.count()).toBe(4);
    await t.recorder.stop();
  });

  it.skipIf(!canMount)(
    'keeps answering on a full disk, and writes the queued rows once there is room',
    async () => {
      const t = await setup(100_000);
      if (!mountTmpfs(t.folder, '400k')) throw new Error('mount failed');
      try {
        // Until the disk is full: every answer 200, the rows that did not fit wait.
        let answered = 0;
        for (let round = 0; round < 60 && t.recorder.status().state === 'ok'; round++) {
          for (let i = 0; i < 200; i++) {
            expect(await t.predict()).toBe(200);
            answered++;
          }
          await t.recorder.flush();
        }
        const full = t.recorder.status();
        expect(full.state).toBe('degraded');
        expect(full.reason).toMatch(/full/i);
        expect(full.queued).toBeGreaterThan(0);
        expect(((await t.health()).predictionLog as { state: string }).state).toBe('degraded');
        // Room again: everything answered is written, nothing was dropped.
        execFileSync('mount', ['-o', 'remount,size=16m', t.folder]);
        await t.recorder.flush();
        expect(t.recorder.status()).toMatchObject({ state: 'ok', queued: 0, dropped: 0 });
        expect(await t.count()).toBe(answered);
        await t.recorder.stop();
      } finally {
        execFileSync('umount', ['-l', t.folder]);
      }
    },
    30_000,
  );

  it('records the sampled share of requests, each row saying the rate it was sampled at', async () => {
    const t = await setup(1000, 100, 0.5);
    for (let i = 0; i < 8; i++) expect(await t.predict()).toBe(200);
    await t.recorder.flush();
    // The draws go 0, 0.25, 0.5, 0.75, ...: half of them fall below the rate.
    const page = await t.store.read({ limit: 100 });
    expect(page.rows).toHaveLength(4);
    expect(page.rows.every((r) => r.sampleRate === 0.5)).toBe(true);
    const [counts] = await t.store.quality({ from: 0, until: Number.MAX_SAFE_INTEGER });
    expect(counts).toMatchObject({ rows: 4, sampleRate: 0.5 });
    await t.recorder.stop();
  });
});
