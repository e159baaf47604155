/**
 * The rows of a file to score, read as a stream: CSV (csv-parse's streaming parser, a header
 * row first) or NDJSON (one JSON object per line). Each record comes with its line, so a refusal
 * names the file, line and column; a feature cell is read as training reads it
 * (`parseFeatureCell`).
 */
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { parse } from 'csv-parse';
import { PinmlError, formatProblem, type Problem } from '../errors.ts';
import { parseFeatureCell } from '../dataset.ts';

export type RowFormat = 'csv' | 'ndjson';

/** What the columns of the input are for. */
export interface RowSpec {
  features: readonly string[];
  idColumn?: string | undefined;
  labelColumn?: string | undefined;
}

/** One input row: its line, and either its features (and id, label) or why it is refused. */
export type InputRow =
  | { line: number; values: Float64Array; id?: string | undefined; label?: string | undefined }
  | { line: number; problem: Problem };

/** A problem with the whole file (its header): no row can be scored. */
function fileError(problem: Problem): PinmlError {
  return new PinmlError('E_DATA', formatProblem(problem), { problems: [problem] });
}

/** The rows of `input` (named `shown` in messages), one at a time, in file order. */
export function readRows(
  input: Readable,
  format: RowFormat,
  spec: RowSpec,
  shown: string,
): AsyncGenerator<InputRow> {
  return format === 'csv' ? csvRows(input, spec, shown) : ndjsonRows(input, spec, shown);
}

async function* csvRows(input: Readable, spec: RowSpec, file: string): AsyncGenerator<InputRow> {
  const parser = input.pipe(
    parse({ bom: true, info: true, relax_column_count: true, skip_empty_lines: true }),
  );
  input.once('error', (err) => parser.destroy(err));
  let columns: { feature: number[]; id: number; label: number; width: number } | undefined;
  for await (const { record, info } of parser as AsyncIterable<{
    record: string[];
    info: { lines: number };
  }>) {
    const line = info.lines;
    if (columns === undefined) {
      columns = csvColumns(record, spec, file, line);
      continue;
    }
    if (record.length !== columns.width) {
      yield {
        line,
        problem: {
          file,
          line,
          message: `the row has ${record.length} cells but the header has ${columns.width}: fix the row or drop it`,
        },
      };
      continue;
    }
    const values = new Float64Array(columns.feature.length);
    let problem: Problem | undefined;
    for (let j = 0; j < values.length; j++) {
      const cell = (record[columns.feature[j] as number] as string).trim();
      const parsed = parseFeatureCell(cell);
      if (typeof parsed === 'string') {
        problem = { file, line, column: spec.features[j] as string, message: parsed };
        break;
      }
      values[j] = parsed;
    }
    if (problem !== undefined) {
      yield { line, problem };
      continue;
    }
    yield {
      line,
      values,
      ...(columns.id >= 0 ? { id: record[columns.id] } : {}),
      ...(columns.label >= 0 ? { label: (record[columns.label] as string).trim() } : {}),
    };
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

async function* ndjsonRows(input: Readable, spec: RowSpec, file: string): AsyncGenerator<InputRow> {
  const lines = createInterface({ input, crlfDelay: Infinity });
  const closed = once(lines, 'close');
  const allowed = new Set([...spec.features, spec.idColumn, spec.labelColumn]);
  let line = 0;
  for await (const text of lines) {
    line++;
    if (text.trim() === '') continue;
    const refuse = (message: string, column?: string): InputRow => ({
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
    let problem: InputRow | undefined;
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
