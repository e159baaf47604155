/**
 * Rows from feedback, as dataset rows: each logged row whose ground truth came back becomes a
 * row of the model's dataset (its inputs in the feature columns, the feedback in the label
 * column, any other column left empty), appended in the dataset file's column order. Rows are
 * taken once: the ids taken are kept beside the dataset (`data/iris.csv` →
 * `data/iris.feedback.json`), and a row whose id is there is not taken again; rows with the same
 * values are different examples and are all taken. Pure: texts and rows in, texts out.
 */
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import type { ModelConfig } from '../config.ts';
import { parseDataset } from '../dataset.ts';
import { DataError, PinmlError } from '../errors.ts';
import { canonicalJson } from '../json.ts';
import type { LoggedRow } from '../log/store.ts';

/** Where the ids of the rows taken from feedback are kept: beside the dataset, `<name>.feedback.json`. */
export function feedbackIdsPath(dataset: string): string {
  return `${dataset.replace(/\.csv$/i, '')}.feedback.json`;
}

/** The ids file: `{"ids": [...]}`, sorted, canonical JSON. */
export function feedbackIdsJson(ids: Iterable<string>): string {
  return canonicalJson({ ids: [...new Set(ids)].sort() });
}

/** The ids in an ids file (none when there is no file). */
export function parseFeedbackIds(text: string | undefined, file: string): Set<string> {
  if (text === undefined) return new Set();
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  const ids = (value as { ids?: unknown } | undefined)?.ids;
  if (!Array.isArray(ids) || !ids.every((id) => typeof id === 'string')) {
    throw new DataError([
      {
        file,
        message:
          'expected {"ids": ["<row id>", …]}, the row ids already added from feedback; restore the file from git',
      },
    ]);
  }
  return new Set(ids);
}

/** Rows left out because their version's inputs are not the model's features. */
export interface SkippedVersion {
  version: number;
  rows: number;
  /** The inputs its rows have, sorted. */
  inputs: string[];
}

/** What the rows from feedback add to a dataset. */
export interface FeedbackRows {
  /** The rows added, oldest first. */
  added: { id: string; version: number; time: number; label: string }[];
  /** Rows added per label. */
  labels: Record<string, number>;
  /** Rows with feedback whose id was taken already (or came twice in the window). */
  alreadyTaken: number;
  /** Rows of versions with another feature signature, left out (per version). */
  skipped: SkippedVersion[];
  /** The dataset with the rows appended (unchanged when none are). */
  dataset: string;
  /** The ids file with the new ids (unchanged when none are). */
  ids: string;
  /** Ids in the ids file after the change. */
  idsTotal: number;
}

export interface FeedbackRowsInput {
  model: Pick<ModelConfig, 'name' | 'dataset' | 'features' | 'label' | 'classes'>;
  /** The dataset file's text. */
  dataset: string;
  /** The ids file's text; undefined when there is none yet. */
  ids: string | undefined;
  /** Rows with feedback, oldest first. */
  rows: readonly LoggedRow[];
  /** Where the rows were read, for messages. */
  source: string;
}

/** A CSV text's header cells, trimmed (none for an empty text). */
export function csvHeader(text: string): string[] {
  const rows: string[][] = parse(text, { bom: true, to_line: 1, relax_column_count: true });
  return (rows[0] ?? []).map((c) => c.trim());
}

/** The header's cells and the file's line ending. */
function readHeader(text: string, file: string): { header: string[]; eol: string } {
  const header = csvHeader(text);
  if (header.length === 0) {
    throw new DataError([{ file, line: 1, message: 'the file has no header line' }]);
  }
  const firstLine = /^[^\n]*\n/.exec(text)?.[0] ?? '';
  return { header, eol: firstLine.endsWith('\r\n') ? '\r\n' : '\n' };
}

const sameSet = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && a.every((x) => b.includes(x));

const idList = (ids: readonly string[]): string =>
  ids.slice(0, 5).join(', ') + (ids.length > 5 ? `, … (${ids.length} in all)` : '');

/**
 * The dataset and ids file with the rows from feedback that are not taken yet. A row without
 * inputs (a server run with `--log-inputs off`), or whose label is not one of the model's
 * classes, is refused with its id; a row whose inputs are not the model's features (a version
 * with another signature) is left out and counted per version.
 */
export function feedbackRows(input: FeedbackRowsInput): FeedbackRows {
  const { model } = input;
  const idsFile = feedbackIdsPath(model.dataset);
  const taken = parseFeedbackIds(input.ids, idsFile);
  const { header, eol } = readHeader(input.dataset, model.dataset);
  for (const column of [...model.features, model.label]) {
    if (!header.includes(column)) {
      throw new DataError([
        { file: model.dataset, line: 1, column, message: 'the header has no such column' },
      ]);
    }
  }
  const classes = model.classes?.map(String);
  const seen = new Set(taken);
  const added: FeedbackRows['added'] = [];
  const lines: string[][] = [];
  const skipped = new Map<number, SkippedVersion>();
  const blind: string[] = [];
  const outside: string[] = [];
  let alreadyTaken = 0;
  for (const row of input.rows) {
    const { inputs, label } = row;
    if (label === null) continue;
    if (seen.has(row.id)) {
      alreadyTaken++;
      continue;
    }
    if (inputs === null) {
      blind.push(row.id);
      continue;
    }
    const names = Object.keys(inputs).sort();
    if (!sameSet(names, model.features)) {
      const s = skipped.get(row.version) ?? { version: row.version, rows: 0, inputs: names };
      s.rows++;
      skipped.set(row.version, s);
      continue;
    }
    if (classes !== undefined && !classes.includes(label)) {
      outside.push(`${row.id} (${JSON.stringify(label)})`);
      continue;
    }
    seen.add(row.id);
    added.push({ id: row.id, version: row.version, time: row.time, label });
    lines.push(
      header.map((c) =>
        c === model.label ? label : Object.hasOwn(inputs, c) ? String(inputs[c]) : '',
      ),
    );
  }
  const rows = (n: number): string => `${n} row${n === 1 ? '' : 's'} with feedback`;
  if (blind.length > 0) {
    throw new PinmlError(
      'E_DATA',
      `${rows(blind.length)} in ${input.source} ${blind.length === 1 ? 'has' : 'have'} no inputs (${idList(blind)}): ` +
        'the server ran with --log-inputs off, so they cannot become dataset rows; ' +
        'serve with --log-inputs on (the default) to log rows that can, and take a window without those rows (--since)',
      { source: input.source, rows: blind.length },
    );
  }
  if (outside.length > 0) {
    throw new PinmlError(
      'E_DATA',
      `${rows(outside.length)} in ${input.source} carry a label that is not a class of ${model.name} ` +
        `(${(classes ?? []).join(', ')}): ${idList(outside)}; add the class to \`classes\` in pinml.yaml, or correct the feedback`,
      { source: input.source, rows: outside.length },
    );
  }
  const labels: Record<string, number> = {};
  for (const a of added) labels[a.label] = (labels[a.label] ?? 0) + 1;
  const base = input.dataset.endsWith('\n') ? input.dataset : `${input.dataset}${eol}`;
  const dataset =
    lines.length === 0 ? input.dataset : base + stringify(lines, { record_delimiter: eol });
  // The result must still train: the same checks as `pinml train` makes.
  if (lines.length > 0) {
    parseDataset(dataset, {
      path: model.dataset,
      features: model.features,
      label: model.label,
      ...(model.classes ? { classes: model.classes } : {}),
    });
  }
  return {
    added,
    labels,
    alreadyTaken,
    skipped: [...skipped.values()].sort((a, b) => a.version - b.version),
    dataset,
    ids: added.length === 0 && input.ids !== undefined ? input.ids : feedbackIdsJson(seen),
    idsTotal: seen.size,
  };
}
