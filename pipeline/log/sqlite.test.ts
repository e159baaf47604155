import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import Database from 'libsql';
import { afterAll, afterEach, describe, expect, it } from 'vitest';

import { PinmlError } from '../errors.ts';
import { liveQuality } from './quality.ts';
import { SCHEMA_VERSION, userVersion } from './sqlite-schema.ts';
import { SqliteLog } from './sqlite.ts';
import type { LogQuery, LoggedSignature, PredictionRecord } from './store.ts';

const made: string[] = [];
const open: SqliteLog[] = [];

afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close().catch(() => undefined)));
});
afterAll(async () => {
  await Promise.all(made.map((d) => rm(d, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'pinml-log-'));
  made.push(dir);
  return dir;
}

/** A store in a fresh folder (`log/predictions.db` below a temp folder). */
async function store(options: { busyTimeoutMs?: number } = {}): Promise<SqliteLog> {
  const s = new SqliteLog(path.join(await tempDir(), 'log', 'predictions.db'), options);
  open.push(s);
  return s;
}

function again(file: string, options: { busyTimeoutMs?: number } = {}): SqliteLog {
  const s = new SqliteLog(file, options);
  open.push(s);
  return s;
}

const T0 = Date.UTC(2026, 11, 1, 10);
const CLASSES = ['setosa', 'versicolor', 'virginica'];
const IRIS: LoggedSignature = {
  model: 'iris',
  version: 1,
  features: ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'],
  classes: CLASSES,
};
const IRIS2: LoggedSignature = { ...IRIS, version: 2 };
const WINE: LoggedSignature = {
  model: 'wine',
  version: 1,
  features: ['alcohol'],
  classes: ['red', 'white'],
};
const SIGNATURES = [IRIS, IRIS2, WINE];

/** Row `i`, answered at `T0 + i` seconds by iris@1 in production, unless `over` says otherwise. */
function record(i: number, over: Partial<PredictionRecord> = {}): PredictionRecord {
  const model = over.model ?? 'iris';
  return {
    id: `r${i}`,
    time: T0 + i * 1000,
    model,
    version: 1,
    commit: 'a'.repeat(40),
    pin: 'production',
    inputs: model === 'wine' ? [12.5] : Float64Array.of(5.1, 3.5, 1.4, 0.2),
    class: model === 'wine' ? 'red' : 'setosa',
    probabilities: model === 'wine' ? [0.75, 0.25] : Float64Array.of(0.875, 0.0625, 0.0625),
    latencyMs: 1.25,
    sampleRate: 1,
    ...over,
  };
}

async function readAll(s: SqliteLog, query: Omit<LogQuery, 'limit'> = {}): Promise<string[]> {
  return (await s.read({ ...query, limit: 10_000 })).rows.map((r) => r.id);
}

async function seqs(s: SqliteLog): Promise<number[]> {
  return (await s.read({ limit: 10_000 })).rows.map((r) => r.seq);
}

describe('SqliteLog rows', () => {
  it('reads back what it appended: inputs keyed by feature, probabilities by class', async () => {
    const s = await store();
    await s.append([record(1), record(2, { inputs: null, class: 'virginica' })], [IRIS]);
    const page = await s.read({ limit: 10 });
    expect(page.next).toBeNull();
    expect(page.rows).toEqual([
      {
        seq: 1,
        id: 'r1',
        time: T0 + 1000,
        model: 'iris',
        version: 1,
        commit: 'a'.repeat(40),
        pin: 'production',
        inputs: { sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 },
        class: 'setosa',
        probabilities: { setosa: 0.875, versicolor: 0.0625, virginica: 0.0625 },
        latencyMs: 1.25,
        sampleRate: 1,
        label: null,
      },
      expect.objectContaining({ seq: 2, id: 'r2', inputs: null, class: 'virginica' }),
    ]);
  });

  it('filters by model, version, pin, time range and whether feedback exists', async () => {
    const s = await store();
    await s.append(
      [
        record(1),
        record(2, { version: 2 }),
        record(3, { pin: 'canary' }),
        record(4, { model: 'wine' }),
        record(5),
        record(6, { version: 2, pin: 'canary' }),
      ],
      SIGNATURES,
    );
    await s.appendFeedback([
      { id: 'r1', model: 'iris', label: 'setosa', time: T0 + 10_000 },
      { id: 'r4', model: 'wine', label: 'white', time: T0 + 10_000 },
      { id: 'r6', model: 'iris', label: 'virginica', time: T0 + 10_000 },
      // the same id for another model labels nothing here
      { id: 'r5', model: 'wine', label: 'red', time: T0 + 10_000 },
    ]);
    expect(await readAll(s, { model: 'iris' })).toEqual(['r1', 'r2', 'r3', 'r5', 'r6']);
    expect(await readAll(s, { model: 'wine' })).toEqual(['r4']);
    expect(await readAll(s, { model: 'iris', version: 2 })).toEqual(['r2', 'r6']);
    expect(await readAll(s, { pin: 'canary' })).toEqual(['r3', 'r6']);
    // from is inclusive, until exclusive
    expect(await readAll(s, { from: T0 + 2000, until: T0 + 5000 })).toEqual(['r2', 'r3', 'r4']);
    expect(await readAll(s, { labelled: true })).toEqual(['r1', 'r4', 'r6']);
    expect(await readAll(s, { labelled: false })).toEqual(['r2', 'r3', 'r5']);
    expect(await readAll(s, { model: 'iris', version: 2, pin: 'canary', labelled: true })).toEqual([
      'r6',
    ]);
    const labels = (await s.read({ limit: 10 })).rows.map((r) => r.label);
    expect(labels).toEqual(['setosa', null, null, 'white', null, 'virginica']);
  });

  it('pages through a filtered log with the cursor, missing and repeating nothing', async () => {
    const s = await store();
    // iris rows interleaved with wine rows, so pages skip rows the filter leaves out
    const rows = Array.from({ length: 40 }, (_, i) =>
      record(i, i % 3 === 0 ? { model: 'wine' } : {}),
    );
    await s.append(rows, SIGNATURES);
    const expected = rows.filter((r) => r.model === 'iris').map((r) => r.id);
    const seen: string[] = [];
    let after: number | undefined;
    let pages = 0;
    for (;;) {
      const page = await s.read({ model: 'iris', limit: 7, after });
      pages++;
      expect(page.rows.length).toBeLessThanOrEqual(7);
      seen.push(...page.rows.map((r) => r.id));
      if (page.next === null) break;
      expect(page.next).toBe(page.rows.at(-1)?.seq);
      after = page.next;
      // rows written between pages come in a later page
      if (pages === 2) await s.append([record(100), record(101, { model: 'wine' })], []);
    }
    expect(seen).toEqual([...expected, 'r100']);
    expect(new Set(seen).size).toBe(seen.length);
    expect(pages).toBe(Math.ceil(seen.length / 7));
  });
});

describe('SqliteLog feedback', () => {
  it('says whether feedback was created, unchanged or replaced, and joins the latest label', async () => {
    const s = await store();
    await s.append([record(1), record(2)], [IRIS]);
    const at = T0 + 60_000;
    expect(
      await s.appendFeedback([
        { id: 'r1', model: 'iris', label: 'setosa', time: at },
        { id: 'r2', model: 'iris', label: 'versicolor', time: at },
      ]),
    ).toEqual(['created', 'created']);
    expect(
      await s.appendFeedback([
        { id: 'r1', model: 'iris', label: 'setosa', time: at + 1 },
        { id: 'r2', model: 'iris', label: 'virginica', time: at + 1 },
        { id: 'r2', model: 'iris', label: 'virginica', time: at + 2 },
      ]),
    ).toEqual(['unchanged', 'replaced', 'unchanged']);
    const rows = (await s.read({ limit: 10 })).rows;
    expect(rows.map((r) => [r.id, r.label])).toEqual([
      ['r1', 'setosa'],
      ['r2', 'virginica'],
    ]);
  });

  it('joins feedback that arrived before its row once the row is written', async () => {
    const s = await store();
    expect(
      await s.appendFeedback([{ id: 'early', model: 'iris', label: 'virginica', time: T0 }]),
    ).toEqual(['created']);
    expect((await s.read({ limit: 10 })).rows).toEqual([]);
    await s.append([record(1, { id: 'early' }), record(2)], [IRIS]);
    const rows = (await s.read({ labelled: true, limit: 10 })).rows;
    expect(rows.map((r) => [r.id, r.label])).toEqual([['early', 'virginica']]);
    const [counts] = await s.quality({ from: T0, until: T0 + 10_000 });
    expect(counts?.confusion).toEqual([{ label: 'virginica', predicted: 'setosa', rows: 1 }]);
  });
});

describe('SqliteLog quality counts', () => {
  it('counts rows, predicted classes and the confusion per model, version and pin', async () => {
    const s = await store();
    const rows = [
      record(1, { class: 'setosa' }),
      record(2, { class: 'setosa' }),
      record(3, { class: 'versicolor' }),
      record(4, { class: 'virginica', sampleRate: 0.5 }),
      record(5, { class: 'setosa', pin: 'canary' }),
      record(6, { class: 'versicolor', version: 2 }),
      record(7, { model: 'wine', class: 'white' }),
      // outside the window
      record(50, { class: 'virginica' }),
    ];
    await s.append(rows, SIGNATURES);
    const label = (id: string, l: string, model = 'iris') => ({ id, model, label: l, time: T0 });
    await s.appendFeedback([
      label('r1', 'setosa'),
      label('r2', 'versicolor'),
      label('r3', 'versicolor'),
      label('r5', 'setosa'),
      label('r7', 'red', 'wine'),
      label('r50', 'virginica'),
    ]);
    const counts = await s.quality({ from: T0, until: T0 + 10_000 });
    expect(counts).toEqual([
      {
        model: 'iris',
        version: 1,
        pin: 'production',
        rows: 4,
        sampleRate: 0.5,
        classes: CLASSES,
        predicted: { setosa: 2, versicolor: 1, virginica: 1 },
        confusion: [
          { label: 'setosa', predicted: 'setosa', rows: 1 },
          { label: 'versicolor', predicted: 'setosa', rows: 1 },
          { label: 'versicolor', predicted: 'versicolor', rows: 1 },
        ],
      },
      {
        model: 'iris',
        version: 1,
        pin: 'canary',
        rows: 1,
        sampleRate: 1,
        classes: CLASSES,
        predicted: { setosa: 1 },
        confusion: [{ label: 'setosa', predicted: 'setosa', rows: 1 }],
      },
      {
        model: 'iris',
        version: 2,
        pin: 'production',
        rows: 1,
        sampleRate: 1,
        classes: CLASSES,
        predicted: { versicolor: 1 },
        confusion: [],
      },
      {
        model: 'wine',
        version: 1,
        pin: 'production',
        rows: 1,
        sampleRate: 1,
        classes: ['red', 'white'],
        predicted: { white: 1 },
        confusion: [{ label: 'red', predicted: 'white', rows: 1 }],
      },
    ]);
    const wine = await s.quality({ from: T0, until: T0 + 10_000, model: 'wine' });
    expect(wine.map((c) => c.model)).toEqual(['wine']);
    // live accuracy of iris@1 in production: 2 of its 3 labelled rows are right
    const live = liveQuality(counts[0] as (typeof counts)[0]);
    expect(live.labelled).toBe(3);
    expect(live.accuracy?.estimate).toBeCloseTo(2 / 3, 12);
  });
});

describe('SqliteLog retention', () => {
  /** Rows r1..r10 at T0 + 1 s … T0 + 10 s. */
  async function tenRows(): Promise<SqliteLog> {
    const s = await store();
    await s.append(
      Array.from({ length: 10 }, (_, i) => record(i + 1)),
      [IRIS],
    );
    return s;
  }

  it('deletes the rows older than the age limit and nothing else', async () => {
    const s = await tenRows();
    await s.appendFeedback([
      { id: 'r2', model: 'iris', label: 'setosa', time: T0 + 3000 },
      { id: 'r8', model: 'iris', label: 'setosa', time: T0 + 9000 },
    ]);
    // cutoff at T0 + 5 s: r1…r4 go, r5 (at the cutoff) stays
    const result = await s.retain({ maxAgeMs: 60_000 }, T0 + 65_000);
    expect(result).toEqual({ deletedRows: 4, deletedFeedback: 1, unmatchedFeedback: 0 });
    expect(await seqs(s)).toEqual([5, 6, 7, 8, 9, 10]);
    expect((await s.read({ labelled: true, limit: 10 })).rows.map((r) => r.id)).toEqual(['r8']);
    // nothing more to do
    expect(await s.retain({ maxAgeMs: 60_000 }, T0 + 65_000)).toEqual({
      deletedRows: 0,
      deletedFeedback: 0,
      unmatchedFeedback: 0,
    });
  });

  it('keeps the newest rows past the row count and nothing else', async () => {
    const s = await tenRows();
    const result = await s.retain({ maxRows: 3 }, T0 + 20_000);
    expect(result.deletedRows).toBe(7);
    expect(await seqs(s)).toEqual([8, 9, 10]);
    expect(await s.retain({ maxRows: 3 }, T0 + 20_000)).toMatchObject({ deletedRows: 0 });
    expect(await s.retain({ maxRows: 100 }, T0 + 20_000)).toMatchObject({ deletedRows: 0 });
    expect(await seqs(s)).toEqual([8, 9, 10]);
    expect(await s.retain({ maxRows: 0 }, T0 + 20_000)).toMatchObject({ deletedRows: 3 });
    expect(await seqs(s)).toEqual([]);
  });

  it('applies both limits: the count among the rows young enough', async () => {
    const s = await tenRows();
    // the age limit takes r1…r3; of r4…r10 the newest 5 stay
    const result = await s.retain({ maxAgeMs: 10_000, maxRows: 5 }, T0 + 14_000);
    expect(result.deletedRows).toBe(5);
    expect(await seqs(s)).toEqual([6, 7, 8, 9, 10]);
  });

  it('deletes in batches while writes from other calls go on', async () => {
    const s = await store();
    await s.append(
      Array.from({ length: 41 }, (_, i) => record(i)),
      [IRIS],
    );
    let writing = true;
    let written = 0;
    const writer = (async () => {
      while (writing) {
        await s.append([record(1000 + written, { time: T0 + 3_600_000 })], []);
        written++;
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    const result = await s.retain({ maxAgeMs: 60_000 }, T0 + 3_600_000, 4);
    writing = false;
    await writer;
    expect(result.deletedRows).toBe(41);
    // 11 batches of 4 rows yield 10 times between them: the writer got in
    expect(written).toBeGreaterThanOrEqual(5);
    const left = await readAll(s);
    expect(left).toEqual(Array.from({ length: written }, (_, i) => `r${1000 + i}`));
  });

  it('counts feedback that never met its row once, when it is older than the window', async () => {
    const s = await tenRows();
    await s.appendFeedback([
      { id: 'ghost', model: 'iris', label: 'setosa', time: T0 + 2000 },
      { id: 'r1', model: 'iris', label: 'setosa', time: T0 + 2000 },
      { id: 'late', model: 'iris', label: 'setosa', time: T0 + 30_000 },
    ]);
    // inside the window: kept, not counted
    expect(await s.retain({ maxAgeMs: 60_000 }, T0 + 61_000)).toEqual({
      deletedRows: 0,
      deletedFeedback: 0,
      unmatchedFeedback: 0,
    });
    // past it: the ghost is counted; r1's feedback met its row (deleted now) and is not
    expect(await s.retain({ maxAgeMs: 60_000 }, T0 + 63_000)).toEqual({
      deletedRows: 2,
      deletedFeedback: 2,
      unmatchedFeedback: 1,
    });
    expect(await s.retain({ maxAgeMs: 60_000 }, T0 + 63_000)).toMatchObject({
      unmatchedFeedback: 0,
    });
    // feedback waiting for a row younger than the oldest kept stays while the log is under its count
    expect(await s.retain({ maxRows: 100 }, T0 + 200_000)).toMatchObject({
      deletedFeedback: 0,
      unmatchedFeedback: 0,
    });
    expect(await s.retain({ maxAgeMs: 60_000 }, T0 + 91_000)).toEqual({
      deletedRows: 8,
      deletedFeedback: 1,
      unmatchedFeedback: 1,
    });
  });
});

describe('SqliteLog file', () => {
  const probe = (file: string): { version: number; journal: string } => {
    const db = new Database(file);
    try {
      const [journal] = db.prepare('PRAGMA journal_mode').raw().get() as [string];
      return { version: userVersion(db), journal };
    } finally {
      db.close();
    }
  };

  it('creates a fresh file at the schema version, in WAL mode', async () => {
    const s = await store();
    await s.append([record(1)], [IRIS]);
    expect(SCHEMA_VERSION).toBeGreaterThanOrEqual(1);
    expect(probe(s.location)).toEqual({ version: SCHEMA_VERSION, journal: 'wal' });
  });

  /** A store on a file a newer release wrote (its schema version is past ours). */
  async function newerFile(): Promise<{ file: string; s: SqliteLog }> {
    const file = path.join(await tempDir(), 'predictions.db');
    const db = new Database(file);
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    return { file, s: again(file) };
  }

  it('refuses a file written by a newer release, naming the file', async () => {
    const { file, s } = await newerFile();
    const pending = s.append([record(1)], [IRIS]);
    const err = (await pending.catch((e: unknown) => e)) as PinmlError;
    expect(err).toBeInstanceOf(PinmlError);
    expect(err.code).toBe('E_LOG_STORE');
    expect(err.message).toContain(file);
    expect(err.message).toContain(`schema version ${SCHEMA_VERSION + 1}, newer`);
    expect(probe(file).version).toBe(SCHEMA_VERSION + 1);
  });

  it('rejects rather than throws: every method returns a promise', async () => {
    const { s } = await newerFile();
    const calls: (() => Promise<unknown>)[] = [
      () => s.append([record(1)], []),
      () => s.appendFeedback([{ id: 'a', model: 'iris', label: 'setosa', time: T0 }]),
      () => s.read({ limit: 1 }),
      () => s.quality({ from: 0, until: T0 }),
      () => s.retain({ maxAgeMs: 1 }, T0),
    ];
    for (const call of calls) {
      let pending: Promise<unknown> | undefined;
      expect(() => (pending = call())).not.toThrow();
      await expect(pending).rejects.toMatchObject({ code: 'E_LOG_STORE' });
    }
  });

  it('recreates the file when it is deleted while open', async () => {
    const s = await store();
    await s.append([record(1), record(2)], [IRIS]);
    await rm(s.location);
    // its -wal and -shm stay behind, as after `rm predictions.db`
    expect((await readdir(path.dirname(s.location))).sort()).toEqual([
      'predictions.db-shm',
      'predictions.db-wal',
    ]);
    await s.append([record(3)], [IRIS]);
    const rows = (await s.read({ limit: 10 })).rows;
    expect(rows.map((r) => [r.seq, r.id])).toEqual([[1, 'r3']]);
    expect(rows[0]?.probabilities).toEqual({
      setosa: 0.875,
      versicolor: 0.0625,
      virginica: 0.0625,
    });
    expect(probe(s.location).version).toBe(SCHEMA_VERSION);
  });

  it('recreates its folder when the folder is deleted', async () => {
    const s = await store();
    await s.append([record(1)], [IRIS]);
    await rm(path.dirname(s.location), { recursive: true });
    await s.append([record(2)], [IRIS]);
    expect(await readAll(s)).toEqual(['r2']);
  });

  it('rejects while its folder is a regular file, and writes again once the folder is back', async () => {
    const s = await store();
    await s.append([record(1)], [IRIS]);
    const folder = path.dirname(s.location);
    await rm(folder, { recursive: true });
    await writeFile(folder, 'not a folder\n');
    await expect(s.append([record(2)], [IRIS])).rejects.toThrow(
      `the prediction log ${s.location} cannot be opened: ${folder} is not a folder`,
    );
    await expect(s.read({ limit: 1 })).rejects.toMatchObject({ code: 'E_LOG_STORE' });
    await rm(folder);
    await s.append([record(3)], [IRIS]);
    expect(await readAll(s)).toEqual(['r3']);
  });

  it('lets two stores on one file (as two processes) both write and read every row', async () => {
    const a = await store();
    const b = again(a.location);
    await a.append([record(1)], [IRIS]);
    await b.append([record(2)], [IRIS]);
    await a.append([record(3)], []);
    await b.appendFeedback([{ id: 'r1', model: 'iris', label: 'versicolor', time: T0 }]);
    await b.append([record(4, { version: 2 })], [IRIS2]);
    for (const s of [a, b]) {
      const rows = (await s.read({ limit: 10 })).rows;
      expect(rows.map((r) => [r.id, r.label])).toEqual([
        ['r1', 'versicolor'],
        ['r2', null],
        ['r3', null],
        ['r4', null],
      ]);
      // the signature the other one wrote names the classes
      expect(rows[3]?.probabilities).toHaveProperty('virginica', 0.0625);
    }
  });

  it('rejects a write after the busy timeout while another connection holds the lock', async () => {
    const s = await store({ busyTimeoutMs: 100 });
    await s.append([record(1)], [IRIS]);
    const other = new Database(s.location);
    try {
      other.exec('BEGIN EXCLUSIVE');
      const started = performance.now();
      const err = (await s.append([record(2)], []).catch((e: unknown) => e)) as PinmlError;
      const waited = performance.now() - started;
      expect(err).toBeInstanceOf(PinmlError);
      expect(err.code).toBe('E_LOG_STORE');
      expect(err.message).toContain(s.location);
      expect(err.message).toContain('busy timeout of 100 ms');
      // waited about the busy timeout (±: scheduling), not the default 5 s
      expect(waited).toBeGreaterThanOrEqual(90);
      expect(waited).toBeLessThan(2000);
      // readers are not blocked in WAL mode
      expect(await readAll(s)).toEqual(['r1']);
    } finally {
      other.exec('COMMIT');
      other.close();
    }
    await s.append([record(3)], []);
    expect(await readAll(s)).toEqual(['r1', 'r3']);
  });

  it('refuses a busy timeout that is not a whole number of milliseconds', () => {
    expect(() => new SqliteLog('x.db', { busyTimeoutMs: -1 })).toThrow(/busyTimeoutMs/);
  });
});
