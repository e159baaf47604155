/**
 * Bulk reading of the SQLite prediction log: every row's inputs and predicted class over a
 * window, without building a row object each — drift's reader of millions of rows. A read-only
 * connection of its own (WAL lets it read while the server writes); a file of a newer schema
 * is refused as the store refuses it.
 */
import Database from 'libsql';
import { PinmlError } from '../errors.ts';
import { SCHEMA_VERSION, userVersion } from './sqlite-schema.ts';

/** One version's rows in `[from, until)` (milliseconds since the epoch). */
export interface InputsQuery {
  model: string;
  version: number;
  from: number;
  until: number;
}

const WHERE = 'WHERE model = ? AND version = ? AND time >= ? AND time < ?';

/**
 * Visits the window's rows oldest first: inputs in the version's signature order (null when
 * not logged) and the predicted class. (No count first: on a million rows `count(*)` costs a
 * tenth of the scan, more than growing the caller's arrays does.)
 */
export function scanInputs(
  file: string,
  query: InputsQuery,
  visit: (inputs: number[] | null, predicted: string) => void,
): number {
  let db: InstanceType<typeof Database> | undefined;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    const version = userVersion(db);
    if (version > SCHEMA_VERSION) {
      throw new PinmlError(
        'E_LOG_STORE',
        `the prediction log ${file} has schema version ${version}, newer than this release's ${SCHEMA_VERSION}: upgrade pinml`,
        { file, version },
      );
    }
    const params = [query.model, query.version, query.from, query.until];
    let rows = 0;
    const statement = db
      .prepare(`SELECT inputs, class FROM predictions ${WHERE} ORDER BY seq`)
      .raw();
    for (const row of statement.iterate(...params) as Iterable<[string | null, string]>) {
      visit(row[0] === null ? null : (JSON.parse(row[0]) as number[]), row[1]);
      rows++;
    }
    return rows;
  } catch (err) {
    if (err instanceof PinmlError) throw err;
    throw new PinmlError(
      'E_LOG_STORE',
      `the prediction log ${file}: reading inputs failed: ${(err as Error).message}`,
      { file },
      { cause: err },
    );
  } finally {
    db?.close();
  }
}
