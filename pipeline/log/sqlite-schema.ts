/**
 * The prediction log's SQLite schema: one migration per version, applied on open under the
 * write lock (`PRAGMA user_version` says how far a file is); a file from a newer release is
 * refused, never rewritten.
 */
import type Database from 'libsql';

import { PinmlError } from '../errors.ts';

type Db = InstanceType<typeof Database>;

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

/** Brings a database to {@link SCHEMA_VERSION}; refuses one written by a newer release. */
export function migrate(db: Db, file: string): void {
  const refuse = (version: number): void => {
    if (version > SCHEMA_VERSION) {
      throw new PinmlError(
        'E_LOG_STORE',
        `the prediction log ${file} has schema version ${version}, newer than this release's ${SCHEMA_VERSION}: upgrade pinml or point --data-dir elsewhere`,
        { file, version },
      );
    }
  };
  const before = userVersion(db);
  refuse(before);
  if (before === SCHEMA_VERSION) return;
  // Read again under the write lock: another process may have migrated it meanwhile.
  writeTransaction(db, () => {
    const version = userVersion(db);
    refuse(version);
    for (let v = version; v < SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v] as string);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  });
}

/**
 * Runs `work` in a write transaction (`BEGIN IMMEDIATE`: the write lock up front, so a read that
 * turns into a write never fails without the busy wait when another process wrote in between).
 * libsql's `transaction()` rolls back unconditionally, and when SQLite has already rolled back
 * (a full disk, an I/O error) its ROLLBACK fails and hides the real error: here the real one is
 * thrown.
 */
export function writeTransaction<T>(db: Db, work: () => T): T {
  db.exec('BEGIN IMMEDIATE');
  try {
    const result = work();
    db.exec('COMMIT');
    return result;
  } catch (err) {
    if (db.inTransaction) {
      try {
        db.exec('ROLLBACK');
      } catch {
        // the error that matters is the one being thrown
      }
    }
    throw err;
  }
}

/** `PRAGMA user_version`. (libsql's `pragma(…, { simple: true })` returns the whole row.) */
export function userVersion(db: Db): number {
  const [version] = db.prepare('PRAGMA user_version').raw().get() as [number];
  return version;
}
