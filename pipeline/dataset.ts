/**
 * The dataset step: reads the CSV file `pinml.yaml` names, checks every row against the
 * configured feature and label columns, and returns the rows as numbers with the file's hash
 * and signature. A file that cannot be trained on is refused with every problem found, each
 * with its line and column.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { CsvError, parse, type Info } from 'csv-parse/sync';
import { DataError, MAX_PROBLEMS, type Problem } from './errors.ts';
import { compactJson, sha256 } from './json.ts';
import type { Label } from './label.ts';
import { closestName } from './closest-name.ts';

/** Which file to read and which of its columns to use, as `pinml.yaml` configures them. */
export interface DatasetSpec {
  /** The CSV file, relative to the repository root. */
  path: string;
  /** Feature columns, in the order models see them. */
  features: readonly string[];
  /** The label (class) column. */
  label: string;
  /** The classes, in index order; inferred from the data when absent. */
  classes?: readonly Label[];
  /** Rows each class needs at least (the cross-validation fold count). */
  minRowsPerClass?: number;
}

/** One feature column of a {@link DatasetSignature}. */
export interface FeatureSignature {
  name: string;
  type: 'number';
  /** The smallest value in the dataset. */
  min: number;
  /** The largest value in the dataset. */
  max: number;
}

/** What a model trained on the dataset takes and returns: feature names and ranges, classes. */
export interface DatasetSignature {
  features: FeatureSignature[];
  label: { name: string; classes: Label[] };
}

/** A dataset that passed every check, ready to train on. */
export interface Dataset {
  /** The file, as the spec named it. */
  path: string;
  /** Lower-case hex SHA-256 of the file's exact bytes. */
  sha256: string;
  /** Size of the file in bytes. */
  bytes: number;
  /** Number of data rows. */
  rows: number;
  features: string[];
  label: string;
  /** The classes; `y[i]` indexes into this list. */
  classes: Label[];
  /** One row of feature values per data row, in `features` order. */
  X: number[][];
  /** Class index per row into `classes`. */
  y: number[];
  /** 1-based line in the file where each row starts (the header is line 1). */
  lines: number[];
  /** Canonical content of each row, `compactJson([...values, label])`: the hold-out split hashes it. */
  rowKeys: string[];
  /** Rows per class, keyed by `String(label)`; every class has at least one row. */
  classCounts: Record<string, number>;
  signature: DatasetSignature;
}

/** Decimal and exponent notation as `Number()` reads it; no hex, no blanks, no `Infinity`. */
const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const NON_FINITE = /^[+-]?(?:nan|inf|infinity)$/i;
const SHOWN_CHARS = 40;

/** Collects problems up to {@link MAX_PROBLEMS} and counts the rest. */
class Problems {
  readonly #file: string;
  readonly #kept: Problem[] = [];
  #total = 0;
  constructor(file: string) {
    this.#file = file;
  }
  add(problem: Omit<Problem, 'file'>): void {
    this.#total += 1;
    if (this.#kept.length < MAX_PROBLEMS) this.#kept.push({ file: this.#file, ...problem });
  }
  error(): DataError {
    return new DataError(this.#kept, this.#total);
  }
  throwIfAny(): void {
    if (this.#total > 0) throw this.error();
  }
}

/** A row's parsed cells, with csv-parse's position snapshot (`info: true`). */
interface ParsedRecord {
  record: string[];
  info: Info;
}

/** A row whose label was read; `values` is undefined when a feature cell is bad. */
interface ReadRow {
  line: number;
  values: number[] | undefined;
  /** The trimmed label cell. */
  label: string;
}

/**
 * Checks and converts a CSV file's bytes (or text) into a {@link Dataset}. Pure.
 *
 * @throws DataError listing every problem found (the first {@link MAX_PROBLEMS}, and the total).
 */
export function parseDataset(bytes: Uint8Array | string, spec: DatasetSpec): Dataset {
  const raw = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
  const problems = new Problems(spec.path);
  const wanted = [...spec.features, spec.label];

  let text: string;
  try {
    // Keep a BOM in the text: csv-parse strips it and counts its bytes, so offsets match `raw`.
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(raw);
  } catch {
    problems.add({ message: 'the file is not UTF-8 text; save it as UTF-8 CSV' });
    throw problems.error();
  }
  if (text.replace(/^\uFEFF/, '').trim() === '') {
    problems.add({
      message: `the file is empty; it needs a header line naming the columns (${wanted.join(',')}) and one row per example`,
    });
    throw problems.error();
  }

  const lineOf = lineFinder(raw);
  const records = parseCsv(text, lineOf, problems);
  const [head, ...body] = records;
  if (head === undefined) throw problems.error();

  const headLine = lineOf(0);
  const header = head.record.map((cell) => cell.trim());
  const index = checkHeader(header, headLine, wanted, problems);
  if (body.length === 0) {
    problems.add({ message: 'the file has a header but no data rows; add one row per example' });
  }

  const rows: ReadRow[] = [];
  let previousEnd = head.info.bytes;
  for (const { record, info } of body) {
    const line = lineOf(previousEnd);
    previousEnd = info.bytes;
    if (record.length !== header.length) {
      problems.add({
        line,
        message: `expected ${header.length} cells (one per header column), found ${record.length}; fix the row so it has one value per column`,
      });
      continue;
    }
    if (index === undefined) continue;
    const row = readRow(record, line, index, spec, problems);
    if (row !== undefined) rows.push(row);
  }

  const inferred = spec.classes === undefined ? inferClasses(rows) : undefined;
  const classes = inferred?.classes ?? [...(spec.classes ?? [])];
  const keyOf = inferred?.keyOf ?? ((cell: string) => cell);
  const byKey = new Map(classes.map((c, i) => [String(c), i]));
  const counts = classes.map(() => 0);
  const kept: { line: number; values: number[]; y: number }[] = [];
  for (const row of rows) {
    // Always found: readRow checked configured classes, and inferred ones come from these cells.
    const y = byKey.get(keyOf(row.label)) ?? 0;
    counts[y] = (counts[y] ?? 0) + 1;
    if (row.values !== undefined) kept.push({ line: row.line, values: row.values, y });
  }
  if (body.length > 0 && index !== undefined) checkClasses(classes, counts, spec, problems);
  problems.throwIfAny();

  const label = (y: number): Label => classes[y] as Label;
  return {
    path: spec.path,
    sha256: sha256(raw),
    bytes: raw.byteLength,
    rows: kept.length,
    features: [...spec.features],
    label: spec.label,
    classes,
    X: kept.map((r) => r.values),
    y: kept.map((r) => r.y),
    lines: kept.map((r) => r.line),
    rowKeys: kept.map((r) => compactJson([...r.values, label(r.y)])),
    classCounts: Object.fromEntries(classes.map((c, i) => [String(c), counts[i] ?? 0])),
    signature: {
      features: spec.features.map((name, j) => ({ name, type: 'number', ...range(kept, j) })),
      label: { name: spec.label, classes: [...classes] },
    },
  };
}

/**
 * Reads `spec.path` (relative to `root`) and parses it with {@link parseDataset}.
 *
 * @throws DataError when the file is missing or cannot be trained on.
 */
export async function readDataset(root: string, spec: DatasetSpec): Promise<Dataset> {
  const file = path.resolve(root, spec.path);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'EISDIR') throw err;
    const what = code === 'ENOENT' ? 'no file' : 'a folder, not a CSV file,';
    throw new DataError([
      {
        file: spec.path,
        message: `there is ${what} at ${file}; check \`dataset:\` in pinml.yaml`,
      },
    ]);
  }
  return parseDataset(bytes, spec);
}

/**
 * Parses CSV text into records. A syntax error (an unclosed quote, text after a closing quote)
 * becomes the only problem, at the line where the row holding it starts.
 */
function parseCsv(
  text: string,
  lineOf: (byte: number) => number,
  problems: Problems,
): ParsedRecord[] {
  let lastEnd = 0;
  try {
    // With `info: true` each record comes as `{ record, info }`; the typings do not say so.
    return parse(text, {
      bom: true,
      relax_column_count: true,
      skip_empty_lines: true,
      trim: true,
      info: true,
      on_record: (record: string[], context) => {
        lastEnd = context.bytes;
        return record;
      },
    }) as unknown as ParsedRecord[];
  } catch (err) {
    if (!(err instanceof CsvError)) throw err;
    // csv-parse reports an unclosed quote at the end of the file; point at the row instead.
    problems.add({ line: lineOf(lastEnd), message: syntaxProblem(err) });
    return [];
  }
}

function syntaxProblem(err: CsvError): string {
  const fix =
    'quote a cell that holds a comma or a quote ("a, b") and double each quote inside it ("")';
  switch (err.code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return 'a quoted cell in the row starting here is never closed, so the rest of the file would be one cell; add the closing quote (")';
    case 'INVALID_OPENING_QUOTE':
      return `the row starting here has a quote inside an unquoted cell; ${fix}`;
    case 'CSV_INVALID_CLOSING_QUOTE':
    case 'CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE':
      return `the row starting here has text after a closing quote; ${fix}`;
    default:
      return `the row starting here is not valid CSV (${err.message}); ${fix}`;
  }
}

/** ` (did you mean "x"?)` when a header name is close to `name`. */
function didYouMean(name: string, header: readonly string[]): string {
  const best = closestName(name, header);
  return best === undefined ? '' : ` (did you mean "${best}"?)`;
}

/** Checks the header; returns each wanted column's index, or undefined if one is missing. */
function checkHeader(
  header: readonly string[],
  line: number,
  wanted: readonly string[],
  problems: Problems,
): Map<string, number> | undefined {
  const index = new Map<string, number>();
  const reported = new Set<string>();
  header.forEach((name, i) => {
    const first = index.get(name);
    if (first === undefined) {
      index.set(name, i);
    } else if (!reported.has(name)) {
      reported.add(name);
      problems.add({
        line,
        column: name,
        message: `the header names column "${name}" more than once (columns ${first + 1} and ${i + 1}); rename or remove one of them`,
      });
    }
  });
  let complete = true;
  for (const name of wanted) {
    if (index.has(name)) continue;
    complete = false;
    problems.add({
      line,
      column: name,
      message: `the header has no column "${name}"${didYouMean(name, header)} (it has ${header.map((h) => `"${h}"`).join(', ')}); fix the header or the \`features\`/\`label\` names in pinml.yaml`,
    });
  }
  return complete ? index : undefined;
}

/** Reads one row's feature values and label cell; undefined when the label is unusable. */
function readRow(
  record: readonly string[],
  line: number,
  index: ReadonlyMap<string, number>,
  spec: DatasetSpec,
  problems: Problems,
): ReadRow | undefined {
  const cell = (column: string): string => (record[index.get(column) ?? -1] ?? '').trim();
  let values: number[] | undefined = [];
  for (const column of spec.features) {
    const number = parseFeatureCell(cell(column));
    if (typeof number === 'number') {
      values?.push(number);
      continue;
    }
    values = undefined;
    problems.add({ line, column, message: number });
  }
  const label = cell(spec.label);
  if (label === '') {
    problems.add({
      line,
      column: spec.label,
      message: `the label is empty; give the row its class or drop the row`,
    });
    return undefined;
  }
  if (spec.classes !== undefined && !spec.classes.some((c) => String(c) === label)) {
    problems.add({
      line,
      column: spec.label,
      message: `the label ${show(label)} is not one of the classes (${spec.classes.map(String).join(', ')}); fix the row or add the class to \`classes\` in pinml.yaml`,
    });
    return undefined;
  }
  return { line, values, label };
}

/**
 * A feature cell (trimmed) as training reads it: a finite decimal number, or what is wrong with
 * it and what to do (batch scoring reads cells the same way).
 */
export function parseFeatureCell(value: string): number | string {
  const number = DECIMAL.test(value) ? Number(value) : Number.NaN;
  return Number.isFinite(number) ? number : numberProblem(value);
}

function numberProblem(value: string): string {
  if (value === '')
    return 'the value is empty; every feature needs a number: fill it in or drop the row';
  if (NON_FINITE.test(value) || DECIMAL.test(value)) {
    return `the value ${show(value)} is not a finite number; non-finite values (NaN, Infinity) are not allowed: fix the value or drop the row`;
  }
  return `the value ${show(value)} is not a number; write features as decimals such as 5.1 or 1.2e-3: fix the value or drop the row`;
}

/**
 * Classes from the label cells: numbers ascending if every label is numeric (so `1` and `1.0`
 * are one class), else the distinct strings sorted. `keyOf` maps a cell to `String(class)`.
 */
function inferClasses(rows: readonly ReadRow[]): {
  classes: Label[];
  keyOf: (cell: string) => string;
} {
  const cells = rows.map((r) => r.label);
  if (cells.length > 0 && cells.every((c) => DECIMAL.test(c) && Number.isFinite(Number(c)))) {
    return {
      classes: [...new Set(cells.map(Number))].sort((a, b) => a - b),
      keyOf: (cell) => String(Number(cell)),
    };
  }
  // Plain code-unit order, not localeCompare: the same on every machine and in every locale.
  return {
    classes: [...new Set(cells)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)),
    keyOf: (cell) => cell,
  };
}

function checkClasses(
  classes: readonly Label[],
  counts: readonly number[],
  spec: DatasetSpec,
  problems: Problems,
): void {
  const column = spec.label;
  const min = Math.max(1, spec.minRowsPerClass ?? 1);
  const folds = spec.minRowsPerClass !== undefined && spec.minRowsPerClass > 1;
  classes.forEach((c, i) => {
    const count = counts[i] ?? 0;
    if (count >= min) return;
    const name = `"${String(c)}"`;
    if (count === 0) {
      const atLeast = folds ? ` (at least ${min}, one per cross-validation fold)` : '';
      problems.add({
        column,
        message: `class ${name} is listed in \`classes\` in pinml.yaml but no row has it; add rows of this class${atLeast} or remove it from \`classes\``,
      });
      return;
    }
    problems.add({
      column,
      message: `class ${name} has ${count} row${count === 1 ? '' : 's'} but needs at least ${min}, one per cross-validation fold; add rows of this class or lower \`split.folds\` in pinml.yaml`,
    });
  });
  const present = classes.filter((_, i) => (counts[i] ?? 0) > 0);
  if (present.length < 2) {
    const found = present.length === 0 ? 'no class' : `only class "${String(present[0])}"`;
    problems.add({
      column,
      message: `the label column has ${found}; a classifier needs rows of at least 2 classes: check that \`label\` in pinml.yaml names the right column`,
    });
  }
}

/** Smallest and largest value of feature `j` over the rows. */
function range(rows: readonly { values: number[] }[], j: number): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  for (const { values } of rows) {
    const v = values[j] as number;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { min, max };
}

/** Returns the 1-based line of the first non-blank byte at or after `offset`. */
function lineFinder(bytes: Uint8Array): (offset: number) => number {
  // Computed from byte offsets because csv-parse 6's `info.lines` counts a CRLF inside a
  // quoted cell as two lines.
  const starts = [0];
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b === 0x0a || (b === 0x0d && bytes[i + 1] !== 0x0a)) starts.push(i + 1);
  }
  return (offset) => {
    let at = offset;
    while (at < bytes.length && isBlank(bytes[at])) at++;
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((starts[mid] ?? 0) <= at) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
}

function isBlank(b: number | undefined): boolean {
  return b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;
}

/** Quotes a cell for a message, cut to {@link SHOWN_CHARS} characters. */
function show(value: string): string {
  return JSON.stringify(value.length > SHOWN_CHARS ? `${value.slice(0, SHOWN_CHARS - 1)}…` : value);
}
