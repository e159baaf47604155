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

/** The schema, one migration per version; a database is brought to the last one on open. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE predictions (
     seq INTEGER PRIMARY KEY,
     id TEXT NOT NULL,
     time INTEGER NOT NULL,
     model TEXT NOT NULL,
     version INTEGER NOT NULL,
     commit_sha TEXT NOT NULL,
     pin TEXT NOT NULL,
     inputs TEXT,
     class TEXT NOT NULL,
     probabilities TEXT NOT NULL,
     latency_ms REAL NOT NULL,
     sample_rate REAL NOT NULL
   );
   CREATE INDEX predictions_time ON predictions (time);
   CREATE INDEX predictions_model_time ON predictions (model, time);
   CREATE INDEX predictions_id ON predictions (model, id);
   CREATE TABLE feedback (
     model TEXT NOT NULL,
     id TEXT NOT NULL,
     label TEXT NOT NULL,
     time INTEGER NOT NULL,
     PRIMARY KEY (model, id)
   );
   CREATE INDEX feedback_time ON feedback (time);
   CREATE TABLE signatures (
     model TEXT NOT NULL,
     version INTEGER NOT NULL,
     features TEXT NOT NULL,
     classes TEXT NOT NULL,
     PRIMARY KEY (model, version)
   );`,
];

/** The schema version this release writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** How long a write waits for another connection's lock before it fails (SQLITE_BUSY). */
const BUSY_TIMEOUT_MS = 5000;

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
export function openSqliteLog(file: string): SqliteLog {
  return new SqliteLog(file);
}

/** The SQLite prediction log. */
export class SqliteLog implements LogStore {
  readonly location: string;
  #db: Db | undefined;
  #inode: number | undefined;
  #signatures = new Map<string, { features: string[]; classes: string[] }>();

  constructor(file: string) {
    this.location = file;
  }

  #open(): Db {
    const folder = dirname(this.location);
    try {
      mkdirSync(folder, { recursive: true });
    } catch (err) {
      throw new PinmlError(
        'E_LOG_STORE',
        `the prediction log's folder ${folder} cannot be created (${(err as Error).message}): check that it is a folder this user may write (--data-dir)`,
        { file: this.location },
        { cause: err },
      );
    }
    let db: Db | undefined;
    try {
      db = new Database(this.location);
      db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
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

  /** The open database: opened now if it is not, or if its file was deleted or replaced. */
  #current(): Db {
    let inode: number | undefined;
    try {
      inode = statSync(this.location).ino;
    } catch {
      inode = undefined;
    }
    if (this.#db === undefined || inode !== this.#inode) {
      try {
        this.#db?.close();
      } catch {
        // the old handle is gone with its file
      }
      this.#db = undefined;
      this.#signatures.clear();
      const db = this.#open();
      this.#inode = statSync(this.location).ino;
      this.#db = db;
    }
    return this.#db;
  }

  append(rows: readonly PredictionRecord[], signatures: readonly LoggedSignature[]): Promise<void> {
    const db = this.#current();
    const insertRow = db.prepare(
      `INSERT INTO predictions (id, time, model, version, commit_sha, pin, inputs, class,
         probabilities, latency_ms, sample_rate) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const insertSignature = db.prepare(
      'INSERT OR IGNORE INTO signatures (model, version, features, classes) VALUES (?, ?, ?, ?)',
    );
    db.transaction(() => {
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
    })();
    return Promise.resolve();
  }

  appendFeedback(items: readonly FeedbackRecord[]): Promise<FeedbackOutcome[]> {
    const db = this.#current();
    const find = db.prepare('SELECT label FROM feedback WHERE model = ? AND id = ?');
    const insert = db.prepare('INSERT INTO feedback (model, id, label, time) VALUES (?, ?, ?, ?)');
    const update = db.prepare('UPDATE feedback SET label = ?, time = ? WHERE model = ? AND id = ?');
    const outcomes = db.transaction(() =>
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
    )();
    return Promise.resolve(outcomes);
  }

  read(query: LogQuery): Promise<LogPage> {
    const db = this.#current();
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
    return Promise.resolve({
      rows: page.map((r) => this.#loggedRow(db, r)),
      next: more ? (page.at(-1)?.seq ?? null) : null,
    });
  }

  #signature(db: Db, model: string, version: number): { features: string[]; classes: string[] } {
    const key = `${model}\u0000${version}`;
    let s = this.#signatures.get(key);
    if (s === undefined) {
      const row = db
        .prepare('SELECT features, classes FROM signatures WHERE model = ? AND version = ?')
        .get(model, version) as { features: string; classes: string } | undefined;
      s = {
        features: row ? (JSON.parse(row.features) as string[]) : [],
        classes: row ? (JSON.parse(row.classes) as string[]) : [],
      };
      this.#signatures.set(key, s);
    }
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
    const db = this.#current();
    const filter = `p.time >= ? AND p.time < ?${window.model === undefined ? '' : ' AND p.model = ?'}`;
    const params =
      window.model === undefined
        ? [window.from, window.until]
        : [window.from, window.until, window.model];
    const groups = new Map<string, QualityCounts>();
    const group = (model: string, version: number, pin: Pin): QualityCounts => {
      const key = `${model}\u0000${version}\u0000${pin}`;
      let g = groups.get(key);
      if (g === undefined) {
        g = { model, version, pin, rows: 0, sampleRate: 1, predicted: {}, confusion: [] };
        groups.set(key, g);
      }
      return g;
    };
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
      const g = group(r.model, r.version, r.pin);
      g.rows += r.n;
      g.sampleRate = Math.min(g.sampleRate, r.rate);
      g.predicted[r.class] = r.n;
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
    for (const r of labelled) {
      group(r.model, r.version, r.pin).confusion.push({
        label: r.label,
        predicted: r.class,
        rows: r.n,
      });
    }
    return Promise.resolve(
      [...groups.values()].sort(
        (a, b) =>
          a.model.localeCompare(b.model) || a.version - b.version || a.pin.localeCompare(b.pin),
      ),
    );
  }

  async retain(policy: RetentionPolicy, now: number, batchRows = 5000): Promise<RetentionResult> {
    const result: RetentionResult = { deletedRows: 0, deletedFeedback: 0, unmatchedFeedback: 0 };
    const step = async (sql: string, ...params: unknown[]): Promise<number> => {
      let total = 0;
      for (;;) {
        const db = this.#current();
        const changes = db.prepare(sql).run(...params, batchRows).changes;
        total += changes;
        if (changes < batchRows) return total;
        // Between batches, let the answers and the writer run.
        await new Promise((resolve) => setImmediate(resolve));
      }
    };
    let cutoff: number | undefined;
    if (policy.maxAgeMs !== undefined) {
      cutoff = now - policy.maxAgeMs;
      result.deletedRows += await step(
        'DELETE FROM predictions WHERE seq IN (SELECT seq FROM predictions WHERE time < ? ORDER BY seq LIMIT ?)',
        cutoff,
      );
    }
    if (policy.maxRows !== undefined) {
      const db = this.#current();
      const { n } = db.prepare('SELECT count(*) AS n FROM predictions').get() as { n: number };
      let excess = n - policy.maxRows;
      while (excess > 0) {
        const take = Math.min(excess, batchRows);
        excess -= this.#current()
          .prepare(
            'DELETE FROM predictions WHERE seq IN (SELECT seq FROM predictions ORDER BY seq LIMIT ?)',
          )
          .run(take).changes;
        result.deletedRows += take;
        await new Promise((resolve) => setImmediate(resolve));
      }
      // Feedback older than the oldest row kept can no longer meet its row.
      const oldest = this.#current().prepare('SELECT min(time) AS t FROM predictions').get() as {
        t: number | null;
      };
      if (oldest.t !== null) cutoff = Math.max(cutoff ?? -Infinity, oldest.t);
    }
    if (cutoff !== undefined) {
      const { n } = this.#current()
        .prepare(
          `SELECT count(*) AS n FROM feedback f WHERE f.time < ?
             AND NOT EXISTS (SELECT 1 FROM predictions p WHERE p.model = f.model AND p.id = f.id)`,
        )
        .get(cutoff) as { n: number };
      result.unmatchedFeedback = n;
      result.deletedFeedback = await step(
        'DELETE FROM feedback WHERE rowid IN (SELECT rowid FROM feedback WHERE time < ? LIMIT ?)',
        cutoff,
      );
    }
    return result;
  }

  close(): Promise<void> {
    this.#db?.close();
    this.#db = undefined;
    return Promise.resolve();
  }
}

/** Brings a database to {@link SCHEMA_VERSION}; refuses one written by a newer release. */
function migrate(db: Db, file: string): void {
  // libsql's pragma() ignores `{ simple: true }`: read the value from the row.
  const version = (db.prepare('PRAGMA user_version').get() as { user_version: number })
    .user_version;
  if (version > SCHEMA_VERSION) {
    throw new PinmlError(
      'E_LOG_STORE',
      `the prediction log ${file} has schema version ${version}, newer than this release's ${SCHEMA_VERSION}: upgrade pinml or point --data-dir elsewhere`,
      { file, version },
    );
  }
  for (let v = version; v < SCHEMA_VERSION; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v] as string);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}
