/**
 * The SQLite log on its own thread: the same answers as on the calling thread, the same errors,
 * and a locked file that holds the thread, not the caller.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import Database from 'libsql';
import { afterAll, describe, expect, it } from 'vitest';

import { PinmlError } from '../errors.ts';
import { SqliteLog } from './sqlite.ts';
import type { PredictionRecord } from './store.ts';
import { openThreadedSqliteLog } from './thread.ts';

const dir = await mkdtemp(join(tmpdir(), 'pinml-log-thread-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

const SIGNATURE = {
  model: 'iris',
  version: 1,
  features: ['a', 'b'],
  classes: ['x', 'y'],
};

/** Rows whose inputs and probabilities are views into one buffer each, as a batch's are. */
function rows(n: number, at = 1000): PredictionRecord[] {
  const inputs = new Float64Array(n * 2).map((_, i) => i / 4);
  const probabilities = new Float64Array(n * 2).map((_, i) => (i % 2 === 0 ? 0.25 : 0.75));
  return Array.from({ length: n }, (_, i) => ({
    id: `r:${i}`,
    time: at + i,
    model: 'iris',
    version: 1,
    commit: 'c'.repeat(40),
    pin: 'production',
    inputs: inputs.subarray(i * 2, i * 2 + 2),
    class: 'y',
    probabilities: probabilities.subarray(i * 2, i * 2 + 2),
    latencyMs: 0.5,
    sampleRate: 1,
  }));
}

describe('the SQLite log on its own thread', () => {
  it('answers as the log on this thread does', async () => {
    const threaded = openThreadedSqliteLog(join(dir, 'same.db'));
    const direct = new SqliteLog(join(dir, 'direct.db'));
    for (const log of [threaded, direct]) {
      await log.append(rows(5), [SIGNATURE]);
      expect(
        await log.appendFeedback([
          { id: 'r:1', model: 'iris', label: 'y', time: 2000 },
          { id: 'r:2', model: 'iris', label: 'x', time: 2000 },
        ]),
      ).toEqual(['created', 'created']);
    }
    const page = await threaded.read({ limit: 3 });
    expect(page).toEqual(await direct.read({ limit: 3 }));
    expect(page.rows[1]).toMatchObject({
      id: 'r:1',
      inputs: { a: 0.5, b: 0.75 },
      probabilities: { x: 0.25, y: 0.75 },
      label: 'y',
    });
    const window = { from: 0, until: 10_000 };
    expect(await threaded.quality(window)).toEqual(await direct.quality(window));
    expect(await threaded.retain({ maxRows: 2 }, 5000)).toEqual(
      await direct.retain({ maxRows: 2 }, 5000),
    );
    await threaded.close();
    await direct.close();
    // Closed, it opens again on the next call.
    expect((await threaded.read({ limit: 10 })).rows.map((r) => r.id)).toEqual(['r:3', 'r:4']);
    await threaded.close();
  });

  it('rejects with the store error, code, message and data', async () => {
    const blocked = join(dir, 'not-a-folder');
    await writeFile(blocked, 'x');
    const log = openThreadedSqliteLog(join(blocked, 'predictions.db'));
    const err = (await log.append(rows(1), [SIGNATURE]).catch((e: unknown) => e)) as PinmlError;
    expect(err).toBeInstanceOf(PinmlError);
    expect(err.code).toBe('E_LOG_STORE');
    expect(err.message).toMatch(/not-a-folder is not a folder/);
    expect(err.data).toMatchObject({ file: join(blocked, 'predictions.db') });
    await log.close();
  });

  it('waits for a locked file on its thread while this one goes on', async () => {
    const file = join(dir, 'locked.db');
    const log = openThreadedSqliteLog(file, { busyTimeoutMs: 400 });
    await log.append(rows(1), [SIGNATURE]);
    const other = new Database(file);
    other.exec('BEGIN EXCLUSIVE');
    let ticks = 0;
    const timer = setInterval(() => ticks++, 10);
    try {
      const started = performance.now();
      const err = (await log.append(rows(1, 5000), []).catch((e: unknown) => e)) as Error;
      expect(performance.now() - started).toBeGreaterThanOrEqual(350);
      expect(err.message).toMatch(/busy|locked/i);
      // This thread ran its timers all along (on the calling thread it would have run none).
      expect(ticks).toBeGreaterThanOrEqual(15);
    } finally {
      clearInterval(timer);
      other.exec('COMMIT');
      other.close();
    }
    await log.append(rows(1, 6000), []);
    expect((await log.read({ limit: 10 })).rows).toHaveLength(2);
    await log.close();
  });
});
