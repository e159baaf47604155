import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { PinmlError } from '../errors.ts';
import { countsOf, rowsOfNdjson } from './counts.ts';
import { SqliteLog } from './sqlite.ts';
import type { LoggedRow, Pin, PredictionRecord } from './store.ts';

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

const CLASSES = ['setosa', 'versicolor', 'virginica'];

describe('countsOf', () => {
  it('counts rows read back as the store counts them itself', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'pinml-counts-'));
    dirs.push(dir);
    const store = new SqliteLog(path.join(dir, 'predictions.db'));
    try {
      const pins: Pin[] = ['production', 'canary'];
      const records: PredictionRecord[] = Array.from({ length: 60 }, (_, i) => ({
        id: `r${i}`,
        time: 1000 + i,
        model: i % 5 === 0 ? 'other' : 'iris',
        version: 1 + (i % 2),
        commit: 'c'.repeat(40),
        pin: pins[i % 3 === 0 ? 1 : 0] as Pin,
        inputs: null,
        class: CLASSES[i % 3] as string,
        probabilities: [0.5, 0.25, 0.25],
        latencyMs: 1,
        sampleRate: i % 7 === 0 ? 0.5 : 1,
      }));
      await store.append(records, [
        { model: 'iris', version: 1, features: [], classes: CLASSES },
        { model: 'iris', version: 2, features: [], classes: CLASSES },
        { model: 'other', version: 1, features: [], classes: CLASSES },
        { model: 'other', version: 2, features: [], classes: CLASSES },
      ]);
      await store.appendFeedback(
        records
          .filter((_, i) => i % 4 !== 1)
          .map((r, j) => ({
            id: r.id,
            model: r.model,
            label: CLASSES[j % 3] as string,
            time: 2000,
          })),
      );
      const rows = (await store.read({ limit: 1000 })).rows;
      const counts = countsOf(rows);
      expect(counts).toEqual(await store.quality({ from: 0, until: 5000 }));
      expect(counts.map((c) => `${c.model}@${c.version} ${c.pin}`)).toEqual([
        'iris@1 production',
        'iris@1 canary',
        'iris@2 production',
        'iris@2 canary',
        'other@1 production',
        'other@1 canary',
        'other@2 production',
        'other@2 canary',
      ]);
      expect(counts.reduce((n, c) => n + c.rows, 0)).toBe(60);
    } finally {
      await store.close();
    }
  });

  it('gives nothing for no rows', () => {
    expect(countsOf([])).toEqual([]);
  });
});

describe('rowsOfNdjson', () => {
  const row: LoggedRow = {
    seq: 1,
    id: 'a',
    time: 1,
    model: 'iris',
    version: 1,
    commit: 'c',
    pin: 'production',
    inputs: null,
    class: 'setosa',
    probabilities: { setosa: 1 },
    latencyMs: 1,
    sampleRate: 1,
    label: null,
  };

  it('reads one row a line, blank lines aside', () => {
    const text = `${JSON.stringify(row)}\n\n${JSON.stringify({ ...row, seq: 2, label: 'setosa' })}\n`;
    expect(rowsOfNdjson(text, 'page').map((r) => [r.seq, r.label])).toEqual([
      [1, null],
      [2, 'setosa'],
    ]);
  });

  it('names the line that is not a row', () => {
    const text = `${JSON.stringify(row)}\n{"model":"iris"}\n`;
    expect(() => rowsOfNdjson(text, 'http://h/logs')).toThrow(PinmlError);
    expect(() => rowsOfNdjson(text, 'http://h/logs')).toThrow(
      'http://h/logs: line 2 is not a prediction log row',
    );
    expect(() => rowsOfNdjson('not json\n', 'p')).toThrow('p: line 1 is not');
  });
});
