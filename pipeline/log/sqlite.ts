/**
 * The embedded prediction log: one SQLite database file (through `libsql`, SQLite with prebuilt
 * binaries on the npm registry), in WAL mode so readers never block the writer, with a busy
 * timeout so a second process on the same file waits instead of failing, and versioned schema
 * migrations (`PRAGMA user_version`). It is opened on first use and again whenever it could not
 * be, or the file was deleted or replaced while open, so writing resumes by itself when the
 * folder comes back.
 */
import { mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

import Database from 'libsql';

import { PinmlError } from '../errors.ts';
import { QualityTally } from './counts.ts';
import { migrate, writeTransaction } from './sqlite-schema.ts';
import type {
  FeedbackOutcome,
  FeedbackRecord,
  LogPage,
  LogQuery,
  LogStore,
  LoggedRow,
  LoggedSignature,
  Pin,
  PredictionRecord,
  QualityCounts,
  RetentionPolicy,
  RetentionResult,
} from './store.ts';

/** How the store is opened. */
export interface SqliteLogOptions {
  /**
   * How long a statement waits for another connection's lock before it fails (SQLITE_BUSY), in
   * milliseconds (5000). libsql is synchronous: the wait blocks the calling thread.
   */
  busyTimeoutMs?: number;
}

const DEFAULT_BUSY_TIMEOUT_MS = 5000;

type Db = InstanceType<typeof Database>;

interface PredictionRow {
  seq: number;
  id: string;
  time: number;
  model: string;
  version: number;
  commit_sha: string;
  pin: Pin;
  inputs: string | null;
  class: string;
  probabilities: string;
  latency_ms: number;
  sample_rate: number;
  label: string | null;
}

/** A number list as JSON text: `[5.1,3.5]` (the same text `JSON.stringify` writes). */
function numbers(values: ArrayLike<number>): string {
  return `[${Array.prototype.join.call(values, ',')}]`;
}

/** The SQLite log at `file` (created with its folder on first use). */
export function openSqliteLog(file: string, options: SqliteLogOptions = {}): SqliteLog {
  return new SqliteLog(file, options);
}

/** The SQLite prediction log. Every method returns a promise, rejected with a `PinmlError` (`E_LOG_STORE`) when the file cannot be opened or written. */
export class SqliteLog implements LogStore {
  readonly location: string;
  readonly #busyTimeoutMs: number;
  #db: Db | undefined;
  #inode: number | undefined;
  #signatures = new Map<string, { features: string[]; classes: string[] }>();

  constructor(file: string, options: SqliteLogOptions = {}) {
    this.location = file;
    const busy = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
    if (!(Number.isInteger(busy) && busy >= 0)) {
      throw new RangeError(
        `busyTimeoutMs must be a whole number of milliseconds >= 0, got ${busy}`,
      );
    }
    this.#busyTimeoutMs = busy;
  }

  #open(): Db {
    const folder = dirname(this.location);
    let db: Db | undefined;
    try {
      try {
        mkdirSync(folder, { recursive: true });
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'EEXIST' && code !== 'ENOTDIR') throw err;
        throw new Error(`${folder} is not a folder (${code}): point --data-dir at a folder`, {
          cause: err,
        });
      }
      db = new Database(this.location);
      db.pragma(`busy_timeout = ${this.#busyTimeoutMs}`);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      migrate(db, this.location);
    } catch (err) {
      db?.close();
      if (err instanceof PinmlError) throw err;
      throw new PinmlError(
        'E_LOG_STORE',
        `the prediction log ${this.location} cannot be opened: ${(err as Error).message}`,
        { file: this.location },
        { cause: err },
      );
    }
    return db;
  }

  /** Runs `work` on the open database: its result, or a rejection that says what failed where. */
  #attempt<T>(what: string, work: (db: Db) => T): Promise<T> {
    try {
      return Promise.resolve(work(this.#current()));
    } catch (err) {
      return Promise.reject(this.#failure(what, err));
    }
  }

  #failure(what: string, err: unknown): PinmlError {
    if (err instanceof PinmlError) return err;
    const code = (err as { code?: unknown }).code;
    const busy =
      typeof code === 'string' && code.startsWith('SQLITE_BUSY')
        ? ` (another connection held the lock longer than the busy timeout of ${this.#busyTimeoutMs} ms)`
        : '';
    return new PinmlError(
      'E_LOG_STORE',
      `the prediction log ${this.location}: ${what} failed: ${(err as Error).message}${busy}`,
      { file: this.location, ...(typeof code === 'string' ? { sqlite: code } : {}) },
      { cause: err },
    );
  }

  /** The open database: opened now if it is not, or if its file was deleted or replaced. */
  #current(): Db {
    const inode = inodeOf(this.location);
    if (this.#db !== undefined && inode === this.#inode) return this.#db;
    try {
      this.#db?.close();
    } catch {
      // the old handle is gone with its file
    }
    this.#db = undefined;
    this.#signatures.clear();
    const db = this.#open();
    // While this connection holds the file open, its inode number cannot be reused.
    this.#inode = inodeOf(this.location);
    this.#db = db;
    return db;
  }

  append(rows: readonly PredictionRecord[], signatures: readonly LoggedSignature[]): Promise<void> {
    return this.#attempt('writing rows', (db) => this.#append(db, rows, signatures));
  }

  #append(db: Db, rows: readonly PredictionRecord[], signatures: readonly LoggedSignature[]): void {
    const insertRow = db.prepare(
      `INSERT INTO predictions (id, time, model, version, commit_sha, pin, inputs, class,
         probabilities, latency_ms, sample_rate) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const insertSignature = db.prepare(
      'INSERT OR IGNORE INTO signatures (model, version, features, classes) VALUES (?, ?, ?, ?)',
    );
    writeTransaction(db, () => {
      for (const s of signatures) {
        insertSignature.run(
          s.model,
          s.version,
          JSON.stringify(s.features),
          JSON.stringify(s.classes),
        );
      }
      for (const r of rows) {
        insertRow.run(
          r.id,
          r.time,
          r.model,
          r.version,
          r.commit,
          r.pin,
          r.inputs === null ? null : numbers(r.inputs),
          r.class,
          numbers(r.probabilities),
          r.latencyMs,
          r.sampleRate,
        );
      }
    });
  }

  appendFeedback(items: readonly FeedbackRecord[]): Promise<FeedbackOutcome[]> {
    return this.#attempt('writing feedback', (db) => this.#appendFeedback(db, items));
  }

  #appendFeedback(db: Db, items: readonly FeedbackRecord[]): FeedbackOutcome[] {
    const find = db.prepare('SELECT label FROM feedback WHERE model = ? AND id = ?');
    const insert = db.prepare('INSERT INTO feedback (model, id, label, time) VALUES (?, ?, ?, ?)');
    const update = db.prepare('UPDATE feedback SET label = ?, time = ? WHERE model = ? AND id = ?');
    // IMMEDIATE: a read that turns into a write inside a deferred transaction fails at once
    // (SQLITE_BUSY_SNAPSHOT, no busy wait) when another process wrote in between.
    return writeTransaction(db, () =>
      items.map((item): FeedbackOutcome => {
        const old = find.get(item.model, item.id) as { label: string } | undefined;
        if (old === undefined) {
          insert.run(item.model, item.id, item.label, item.time);
          return 'created';
        }
        if (old.label === item.label) return 'unchanged';
        update.run(item.label, item.time, item.model, item.id);
        return 'replaced';
      }),
    );
  }

  read(query: LogQuery): Promise<LogPage> {
    return this.#attempt('reading rows', (db) => this.#read(db, query));
  }

  #read(db: Db, query: LogQuery): LogPage {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (clause: string, value: unknown): void => {
      where.push(clause);
      params.push(value);
    };
    if (query.model !== undefined) add('p.model = ?', query.model);
    if (query.version !== undefined) add('p.version = ?', query.version);
    if (query.pin !== undefined) add('p.pin = ?', query.pin);
    if (query.from !== undefined) add('p.time >= ?', query.from);
    if (query.until !== undefined) add('p.time < ?', query.until);
    if (query.after !== undefined) add('p.seq > ?', query.after);
    if (query.labelled === true) where.push('f.label IS NOT NULL');
    if (query.labelled === false) where.push('f.label IS NULL');
    const rows = db
      .prepare(
        `SELECT p.*, f.label AS label FROM predictions p
           LEFT JOIN feedback f ON f.model = p.model AND f.id = p.id
           ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
           ORDER BY p.seq LIMIT ?`,
      )
      .all(...params, query.limit + 1) as PredictionRow[];
    const more = rows.length > query.limit;
    const page = more ? rows.slice(0, query.limit) : rows;
    return {
      rows: page.map((r) => this.#loggedRow(db, r)),
      next: more ? (page.at(-1)?.seq ?? null) : null,
    };
  }

  #signature(db: Db, model: string, version: number): { features: string[]; classes: string[] } {
    const key = `${model}\u0000${version}`;
    const known = this.#signatures.get(key);
    if (known !== undefined) return known;
    const row = db
      .prepare('SELECT features, classes FROM signatures WHERE model = ? AND version = ?')
      .get(model, version) as { features: string; classes: string } | undefined;
    if (row === undefined) return { features: [], classes: [] };
    // Only a signature found is kept: another process may write it later.
    const s = {
      features: JSON.parse(row.features) as string[],
      classes: JSON.parse(row.classes) as string[],
    };
    this.#signatures.set(key, s);
    return s;
  }

  #loggedRow(db: Db, r: PredictionRow): LoggedRow {
    const s = this.#signature(db, r.model, r.version);
    const keyed = (names: readonly string[], values: number[]): Record<string, number> =>
      Object.fromEntries(values.map((v, j) => [names[j] ?? String(j), v]));
    return {
      seq: r.seq,
      id: r.id,
      time: r.time,
      model: r.model,
      version: r.version,
      commit: r.commit_sha,
      pin: r.pin,
      inputs: r.inputs === null ? null : keyed(s.features, JSON.parse(r.inputs) as number[]),
      class: r.class,
      probabilities: keyed(s.classes, JSON.parse(r.probabilities) as number[]),
      latencyMs: r.latency_ms,
      sampleRate: r.sample_rate,
      label: r.label,
    };
  }

  quality(window: { from: number; until: number; model?: string }): Promise<QualityCounts[]> {
    return this.#attempt('reading live-quality counts', (db) => this.#quality(db, window));
  }

  #quality(db: Db, window: { from: number; until: number; model?: string }): QualityCounts[] {
    const filter = `p.time >= ? AND p.time < ?${window.model === undefined ? '' : ' AND p.model = ?'}`;
    const params =
      window.model === undefined
        ? [window.from, window.until]
        : [window.from, window.until, window.model];
    const tally = new QualityTally();
    const byClass = db
      .prepare(
        `SELECT p.model, p.version, p.pin, p.class, count(*) AS n, min(p.sample_rate) AS rate
           FROM predictions p WHERE ${filter} GROUP BY p.model, p.version, p.pin, p.class`,
      )
      .all(...params) as {
      model: string;
      version: number;
      pin: Pin;
      class: string;
      n: number;
      rate: number;
    }[];
    for (const r of byClass) {
      tally.addPredicted(r, r.class, r.n, r.rate);
      tally.addClasses(r.model, r.version, this.#signature(db, r.model, r.version).classes);
    }
    const labelled = db
      .prepare(
        `SELECT p.model, p.version, p.pin, f.label, p.class, count(*) AS n
           FROM predictions p JOIN feedback f ON f.model = p.model AND f.id = p.id
           WHERE ${filter} GROUP BY p.model, p.version, p.pin, f.label, p.class`,
      )
      .all(...params) as {
      model: string;
      version: number;
      pin: Pin;
      label: string;
      class: string;
      n: number;
    }[];
    for (const r of labelled) tally.addLabelled(r, r.label, r.class, r.n);
    return tally.counts();
  }

  async retain(policy: RetentionPolicy, now: number, batchRows = 5000): Promise<RetentionResult> {
    if (!(Number.isInteger(batchRows) && batchRows >= 1)) {
      throw new RangeError(`batchRows must be a whole number >= 1, got ${batchRows}`);
    }
    const result: RetentionResult = { deletedRows: 0, deletedFeedback: 0, unmatchedFeedback: 0 };
    const get = <T>(what: string, sql: string, ...params: unknown[]): Promise<T> =>
      this.#attempt(what, (db) => db.prepare(sql).get(...params) as T);
    // Deletes `batchRows` at a time (at most `limit` in all) until a batch comes back short.
    const step = async (sql: string, param: number, limit = Infinity): Promise<number> => {
      let total = 0;
      while (total < limit) {
        const take = Math.min(batchRows, limit - total);
        const changes = await this.#attempt(
          'deleting old rows',
          (db) => db.prepare(sql).run(param, take).changes,
        );
        total += changes;
        if (changes < take) break;
        // Between batches, let the answers and the writer run.
        await new Promise((resolve) => setImmediate(resolve));
      }
      return total;
    };
    const ageCutoff = policy.maxAgeMs === undefined ? undefined : now - policy.maxAgeMs;
    // Rows kept by count: the newest maxRows of those younger than the age limit.
    let countCutoff: { seq: number; time: number } | undefined;
    if (policy.maxRows === 0) {
      // Nothing kept: every row goes, and the feedback up to now with them.
      countCutoff = { seq: Number.MAX_SAFE_INTEGER, time: now };
    } else if (policy.maxRows !== undefined) {
      const oldestKept = await get<{ seq: number; time: number } | undefined>(
        'reading the log size',
        `SELECT seq, time FROM predictions WHERE time >= ? ORDER BY seq DESC LIMIT 1 OFFSET ?`,
        ageCutoff ?? Number.MIN_SAFE_INTEGER,
        policy.maxRows - 1,
      );
      const next = await get<{ seq: number; time: number } | undefined>(
        'reading the log size',
        `SELECT seq, time FROM predictions WHERE time >= ? AND seq < ? ORDER BY seq DESC LIMIT 1`,
        ageCutoff ?? Number.MIN_SAFE_INTEGER,
        oldestKept?.seq ?? -1,
      );
      if (oldestKept !== undefined && next !== undefined) countCutoff = oldestKept;
    }
    // Feedback older than the oldest row kept can no longer meet its row (a row is answered
    // before its feedback arrives).
    const cutoff =
      countCutoff === undefined
        ? ageCutoff
        : Math.max(ageCutoff ?? Number.MIN_SAFE_INTEGER, countCutoff.time);
    if (cutoff !== undefined) {
      // Counted before the rows go, so feedback whose row was recorded is not counted.
      result.unmatchedFeedback = (
        await get<{ n: number }>(
          'counting unmatched feedback',
          `SELECT count(*) AS n FROM feedback f WHERE f.time < ?
             AND NOT EXISTS (SELECT 1 FROM predictions p WHERE p.model = f.model AND p.id = f.id)`,
          cutoff,
        )
      ).n;
    }
    if (ageCutoff !== undefined) {
      result.deletedRows += await step(
        'DELETE FROM predictions WHERE seq IN (SELECT seq FROM predictions WHERE time < ? ORDER BY seq LIMIT ?)',
        ageCutoff,
      );
    }
    if (countCutoff !== undefined) {
      result.deletedRows += await step(
        'DELETE FROM predictions WHERE seq IN (SELECT seq FROM predictions WHERE seq < ? ORDER BY seq LIMIT ?)',
        countCutoff.seq,
      );
    }
    if (cutoff !== undefined) {
      result.deletedFeedback = await step(
        'DELETE FROM feedback WHERE rowid IN (SELECT rowid FROM feedback WHERE time < ? LIMIT ?)',
        cutoff,
      );
    }
    return result;
  }

  close(): Promise<void> {
    const db = this.#db;
    this.#db = undefined;
    try {
      db?.close();
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(this.#failure('closing', err));
    }
  }
}

/** The file's inode number; undefined when it is not there. */
function inodeOf(file: string): number | undefined {
  try {
    return statSync(file).ino;
  } catch {
    return undefined;
  }
}
