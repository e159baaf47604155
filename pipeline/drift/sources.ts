/**
 * Where a drift window's rows come from, each filling a {@link CurrentWindow} row by row: the
 * prediction log's SQLite file, a running server's `GET /logs`, or a CSV of inputs (a column
 * per feature, by name; a `prediction` column, if any, is the predicted class).
 */
import { createReadStream } from 'node:fs';
import Papa from 'papaparse';
import { didYouMean } from '../closest-name.ts';
import { PinmlError, formatProblem, type Problem } from '../errors.ts';
import { readServerPages } from '../log/logs-client.ts';
import { CurrentWindow } from './current.ts';
import type { FeaturePlan } from './reference.ts';

/** Which rows: one version's, in `[from, until)` (milliseconds since the epoch). */
export interface WindowQuery {
  model: string;
  version: number;
  from: number;
  until: number;
}

/** The CSV column read as the predicted class. */
export const PREDICTION_COLUMN = 'prediction';

function inputsOff(source: string, rows: number): PinmlError {
  return new PinmlError(
    'E_DRIFT',
    `${source} has ${rows} row(s) of this window without inputs: the server ran with --log-inputs off (PINML_LOG_INPUTS=off), and drift compares inputs; restart it with --log-inputs on and measure a later window`,
    { source, rows },
  );
}

/**
 * Fills a window from the SQLite prediction log at `file`. The SQLite driver (a native module)
 * is loaded here, on first use, so the bundled actions, which read a server's `/logs`, never load
 * it.
 */
export async function windowFromStore(
  file: string,
  source: string,
  plans: readonly FeaturePlan[],
  query: WindowQuery,
  maxRows: number,
): Promise<CurrentWindow> {
  const { scanInputs } = await import('../log/sqlite-scan.ts');
  const window = new CurrentWindow(plans, maxRows);
  let missing = 0;
  scanInputs(file, query, (inputs, predicted) => {
    if (inputs === null) missing++;
    else window.add(inputs, predicted);
  });
  if (missing > 0) throw inputsOff(source, missing);
  return window;
}

/** Fills a window from a server's `GET /logs` (the admin token is sent, never shown). */
export async function windowFromServer(
  server: { url: string; token: string },
  plans: readonly FeaturePlan[],
  query: WindowQuery,
  maxRows: number,
  fetchPage: typeof fetch = fetch,
): Promise<CurrentWindow> {
  const window = new CurrentWindow(plans, maxRows);
  const values = new Float64Array(plans.length);
  let missing = 0;
  for await (const rows of readServerPages({ ...server, ...query }, fetchPage)) {
    for (const row of rows) {
      if (row.version !== query.version) continue;
      if (row.inputs === null) {
        missing++;
        continue;
      }
      for (const plan of plans) {
        const v = row.inputs[plan.name];
        if (typeof v !== 'number') {
          throw new PinmlError(
            'E_DRIFT',
            `${server.url} row ${row.id} has no number for feature "${plan.name}"${didYouMean(plan.name, Object.keys(row.inputs))}: its inputs do not match ${query.model}@${query.version}'s signature`,
            { id: row.id, feature: plan.name },
          );
        }
        values[plan.index] = v;
      }
      window.add(values, row.class);
    }
  }
  if (missing > 0) throw inputsOff(server.url, missing);
  return window;
}

/**
 * Fills a window from a CSV of inputs: a header naming the features, a number per cell. The
 * file is streamed through PapaParse a chunk at a time, each record handed to the window as it
 * comes, so neither the text nor its records are held (csv-parse, which reads the datasets,
 * takes 6× as long on a million rows: README "Dependencies"). A record's line is its place in
 * the file (a quoted field spanning lines would shift it).
 */
export async function windowFromCsv(
  file: string,
  source: string,
  plans: readonly FeaturePlan[],
  maxRows: number,
): Promise<CurrentWindow> {
  const window = new CurrentWindow(plans, maxRows);
  let columns: number[] | null = null;
  let predictionColumn = -1;
  const values = new Float64Array(plans.length);
  let line = 0;
  const refuse = (problem: Problem): PinmlError =>
    new PinmlError('E_DRIFT', formatProblem(problem), { ...problem });
  const take = (record: string[]): void => {
    line++;
    if (record.length === 1 && (record[0] as string).trim() === '') return;
    if (columns === null) {
      const header = record.map((h, i) => (i === 0 ? h.replace(/^\uFEFF/, '') : h).trim());
      columns = plans.map((plan) => {
        const at = header.indexOf(plan.name);
        if (at < 0) {
          throw refuse({
            file: source,
            line,
            message: `no column "${plan.name}"${didYouMean(plan.name, header)}: the CSV needs a column per feature of the version's signature (${plans.map((p) => p.name).join(', ')})`,
          });
        }
        return at;
      });
      predictionColumn = header.indexOf(PREDICTION_COLUMN);
      return;
    }
    for (const plan of plans) {
      const at = columns[plan.index] as number;
      const cell = record[at] ?? '';
      // Number('') and Number(' ') are 0: a zero is checked for a blank cell, the rare case.
      const v = Number(cell);
      if (!Number.isFinite(v) || (v === 0 && cell.trim() === '')) {
        throw refuse({
          file: source,
          line,
          col: at + 1,
          column: plan.name,
          message: `${JSON.stringify(cell)} is not a finite number: every feature's cell must be one`,
        });
      }
      values[plan.index] = v;
    }
    const predicted = predictionColumn < 0 ? undefined : record[predictionColumn]?.trim();
    window.add(values, predicted === undefined || predicted === '' ? null : predicted);
  };
  const input = createReadStream(file);
  await new Promise<void>((resolve, reject) => {
    input.on('error', (err: NodeJS.ErrnoException) =>
      reject(
        new PinmlError('E_DRIFT', `cannot read ${source}: ${err.code ?? err.message}`, {
          file: source,
        }),
      ),
    );
    Papa.parse<string[]>(input, {
      chunk: (result, parser) => {
        try {
          for (const record of result.data) take(record);
        } catch (err) {
          // Settled first: abort() calls `complete` at once.
          reject(err instanceof Error ? err : new Error(String(err)));
          parser.abort();
          input.destroy();
        }
      },
      complete: () => resolve(),
      error: (err: Error) => reject(err),
    });
  });
  return window;
}
