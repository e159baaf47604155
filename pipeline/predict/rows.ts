/**
 * The rows of a file to score, read as a stream: CSV (PapaParse's streaming parser, a header
 * row first) or NDJSON (one JSON object per line). Each record comes with its line, so a refusal
 * names the file, line and column; a feature cell is read as training reads it
 * (`parseFeatureCell`).
 */
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import Papa from 'papaparse';
import { PinmlError, formatProblem, type Problem } from '../errors.ts';
import { parseFeatureCell } from '../dataset.ts';

export type RowFormat = 'csv' | 'ndjson';

/** What the columns of the input are for. */
export interface RowSpec {
  features: readonly string[];
  idColumn?: string | undefined;
  labelColumn?: string | undefined;
}

/**
 * The rows of one stretch of the input, in file order: the accepted rows' features row-major in
 * `values` (`rows × features`), with their line, id and label, and the refused rows' problems.
 */
export class RowBatch {
  rows = 0;
  values: Float64Array;
  readonly lines: number[] = [];
  readonly ids: (string | undefined)[] = [];
  readonly labels: (string | undefined)[] = [];
  readonly problems: Problem[] = [];
  readonly #width: number;

  constructor(width: number, capacity = 1024) {
    this.#width = width;
    this.values = new Float64Array(width * capacity);
  }

  /** Room for the next row's features; fill it, then {@link accept} (or drop it). */
  next(): Float64Array {
    const d = this.#width;
    if ((this.rows + 1) * d > this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    return this.values.subarray(this.rows * d, this.rows * d + d);
  }

  accept(line: number, id: string | undefined, label: string | undefined): void {
    this.rows++;
    this.lines.push(line);
    this.ids.push(id);
    this.labels.push(label);
  }
}

/** A problem with the whole file (its header): no row can be scored. */
function fileError(problem: Problem): PinmlError {
  return new PinmlError('E_DATA', formatProblem(problem), { problems: [problem] });
}

/** The rows of `input` (named `shown` in messages), a batch at a time, in file order. */
export function readRows(
  input: Readable,
  format: RowFormat,
  spec: RowSpec,
  shown: string,
): AsyncGenerator<RowBatch> {
  return format === 'csv' ? csvRows(input, spec, shown) : ndjsonRows(input, spec, shown);
}

/**
 * CSV records a chunk at a time from PapaParse's streaming parser (csv-parse, which reads the
 * datasets with exact positions, took 5× as long here: README "Dependencies"). The input stream
 * is paused while two chunks wait for the caller (PapaParse's own `pause()` stops parsing but
 * keeps queueing the stream's data: a slow consumer would hold the whole file). Lines are counted
 * as the records pass: one per record, an empty line included, plus the line breaks inside
 * quoted fields.
 */
async function* csvChunks(input: Readable): AsyncGenerator<string[][]> {
  const chunks: string[][][] = [];
  let done = false;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  let parser: Papa.Parser | undefined;
  input.once('error', (err) => {
    failure = err;
    wake?.();
  });
  Papa.parse<string[]>(input, {
    chunk(result, handle) {
      parser = handle;
      chunks.push(result.data);
      if (chunks.length >= 2) input.pause();
      wake?.();
    },
    complete() {
      done = true;
      wake?.();
    },
    error(err: Error) {
      failure = err;
      wake?.();
    },
  });
  try {
    for (;;) {
      const next = chunks.shift();
      if (next !== undefined) {
        if (chunks.length < 2 && !done) input.resume();
        yield next;
        continue;
      }
      if (failure !== undefined) throw failure;
      if (done) return;
      await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
    }
  } finally {
    if (!done) {
      parser?.abort();
      input.destroy();
    }
  }
}

/** Line breaks inside a record's fields (a quoted field spanning lines). */
function breaksIn(record: readonly string[]): number {
  let n = 0;
  for (const field of record) {
    if (!field.includes('\n')) continue;
    for (let i = field.indexOf('\n'); i >= 0; i = field.indexOf('\n', i + 1)) n++;
  }
  return n;
}

/**
 * A feature cell as a number, or what is wrong with it. The common case first: `Number()` of a
 * cell that starts like a decimal; anything else (a blank, a sign, a hex or binary literal that
 * `Number()` would take) is read as training reads a cell.
 */
function featureValue(cell: string): number | string {
  const c = cell.charCodeAt(0);
  if ((c >= 48 && c <= 57) || c === 45) {
    const v = Number(cell);
    const x = cell.charCodeAt(1) | 32;
    if (Number.isFinite(v) && !(c === 48 && (x === 120 || x === 98 || x === 111))) return v;
  }
  return parseFeatureCell(cell.trim());
}

async function* csvRows(input: Readable, spec: RowSpec, file: string): AsyncGenerator<RowBatch> {
  let columns: { feature: number[]; id: number; label: number; width: number } | undefined;
  let next = 1;
  const width = spec.features.length;
  for await (const records of csvChunks(input)) {
    const batch = new RowBatch(width, records.length);
    for (const record of records) {
      const line = next;
      next += 1 + breaksIn(record);
      if (record.length === 1 && (record[0] as string).trim() === '') continue;
      if (columns === undefined) {
        if (record.length > 0) record[0] = (record[0] as string).replace(/^\uFEFF/, '');
        columns = csvColumns(record, spec, file, line);
        continue;
      }
      if (record.length !== columns.width) {
        batch.problems.push({
          file,
          line,
          message: `the row has ${record.length} cells but the header has ${columns.width}: fix the row or drop it`,
        });
        continue;
      }
      const values = batch.next();
      let problem: Problem | undefined;
      for (let j = 0; j < width; j++) {
        const v = featureValue(record[columns.feature[j] as number] as string);
        if (typeof v === 'string') {
          problem = { file, line, column: spec.features[j] as string, message: v };
          break;
        }
        values[j] = v;
      }
      if (problem !== undefined) {
        batch.problems.push(problem);
        continue;
      }
      batch.accept(
        line,
        columns.id >= 0 ? record[columns.id] : undefined,
        columns.label >= 0 ? (record[columns.label] as string).trim() : undefined,
      );
    }
    yield batch;
  }
  if (columns === undefined) {
    throw fileError({ file, message: 'the file is empty: it needs a header row and rows' });
  }
}

/** The header's columns: every feature once, the id and label columns if named, nothing else. */
function csvColumns(
  header: readonly string[],
  spec: RowSpec,
  file: string,
  line: number,
): { feature: number[]; id: number; label: number; width: number } {
  const names = header.map((h) => h.trim());
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) {
      throw fileError({
        file,
        line,
        column: name,
        message: 'the column is named twice: rename one',
      });
    }
    seen.add(name);
  }
  const missing = spec.features.filter((f) => !seen.has(f));
  if (missing.length > 0) {
    throw fileError({
      file,
      line,
      message: `the header has no column ${missing.join(', ')}; the model takes ${spec.features.join(', ')}`,
    });
  }
  for (const [flag, name] of [
    ['--id-column', spec.idColumn],
    ['--label-column', spec.labelColumn],
  ] as const) {
    if (name !== undefined && !seen.has(name)) {
      throw fileError({ file, line, message: `the header has no column ${name} (${flag})` });
    }
  }
  const known = new Set([...spec.features, spec.idColumn, spec.labelColumn]);
  const extra = names.filter((n) => !known.has(n));
  if (extra.length > 0) {
    throw fileError({
      file,
      line,
      column: extra[0],
      message: `the column is not a feature of the model (${spec.features.join(', ')}): drop it, or name it with --id-column or --label-column`,
    });
  }
  return {
    feature: spec.features.map((f) => names.indexOf(f)),
    id: spec.idColumn === undefined ? -1 : names.indexOf(spec.idColumn),
    label: spec.labelColumn === undefined ? -1 : names.indexOf(spec.labelColumn),
    width: names.length,
  };
}

async function* ndjsonRows(input: Readable, spec: RowSpec, file: string): AsyncGenerator<RowBatch> {
  const width = spec.features.length;
  let batch = new RowBatch(width);
  for await (const row of ndjsonRow(input, spec, file)) {
    if ('problem' in row) batch.problems.push(row.problem);
    else {
      batch.next().set(row.values);
      batch.accept(row.line, row.id, row.label);
    }
    if (batch.rows + batch.problems.length === 1024) {
      yield batch;
      batch = new RowBatch(width);
    }
  }
  if (batch.rows + batch.problems.length > 0) yield batch;
}

/** One NDJSON row: its features (and id, label), or why it is refused. */
type NdjsonRow =
  | { line: number; values: Float64Array; id?: string | undefined; label?: string | undefined }
  | { line: number; problem: Problem };

async function* ndjsonRow(input: Readable, spec: RowSpec, file: string): AsyncGenerator<NdjsonRow> {
  const lines = createInterface({ input, crlfDelay: Infinity });
  const closed = once(lines, 'close');
  const allowed = new Set([...spec.features, spec.idColumn, spec.labelColumn]);
  let line = 0;
  for await (const text of lines) {
    line++;
    if (text.trim() === '') continue;
    const refuse = (message: string, column?: string): NdjsonRow => ({
      line,
      problem: { file, line, ...(column !== undefined ? { column } : {}), message },
    });
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      yield refuse(`the line is not JSON (${(e as Error).message}): write one object per line`);
      continue;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      yield refuse('the line is not a JSON object of features: write {"feature": number, …}');
      continue;
    }
    const row = value as Record<string, unknown>;
    const extra = Object.keys(row).find((k) => !allowed.has(k));
    if (extra !== undefined) {
      yield refuse(
        `the field is not a feature of the model (${spec.features.join(', ')}): drop it, or name it with --id-column or --label-column`,
        extra,
      );
      continue;
    }
    const values = new Float64Array(spec.features.length);
    let problem: NdjsonRow | undefined;
    for (let j = 0; j < values.length; j++) {
      const feature = spec.features[j] as string;
      const v = row[feature];
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        problem = refuse(
          v === undefined
            ? 'the field is missing; every feature needs a number'
            : `the value ${JSON.stringify(v)} is not a finite number`,
          feature,
        );
        break;
      }
      values[j] = v;
    }
    if (problem !== undefined) {
      yield problem;
      continue;
    }
    const id = spec.idColumn === undefined ? undefined : row[spec.idColumn];
    const label = spec.labelColumn === undefined ? undefined : row[spec.labelColumn];
    yield {
      line,
      values,
      ...(id !== undefined ? { id: typeof id === 'string' ? id : JSON.stringify(id) } : {}),
      ...(label !== undefined
        ? { label: typeof label === 'string' ? label : JSON.stringify(label) }
        : {}),
    };
  }
  await closed;
}
