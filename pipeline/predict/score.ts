/**
 * Batch scoring: rows streamed from a file are validated against a version's signature,
 * predicted in chunks with the version's compiled predictor (the server's, `load.ts`), and
 * written in file order as they go, so memory stays flat however long the file. Refused rows
 * stop the run (`fail`) or are counted and written to a rejects file (`skip`). With labels,
 * the confusion matrix is counted as rows pass and the summary carries accuracy and macro-F1.
 */
import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import { stringify } from 'csv-stringify/sync';
import { PinmlError, formatProblem, type Problem } from '../errors.ts';
import { metricsOfConfusion } from '../metrics.ts';
import { versionRef, type LoadedVersion } from '../registry/load.ts';
import { readRows, type InputRow, type RowFormat } from './rows.ts';

/** Rows predicted and written together, per thread. */
export const CHUNK_ROWS = 16_384;

export interface ScoreOptions {
  version: LoadedVersion;
  input: Readable;
  /** The input as messages name it (a path, or `-`). */
  inputName: string;
  inputFormat: RowFormat;
  output: Writable;
  outputFormat: RowFormat;
  idColumn?: string | undefined;
  labelColumn?: string | undefined;
  /** Write every class's probability too. */
  proba: boolean;
  onError: 'fail' | 'skip';
  /** With `skip`: where refused rows go (CSV: line, column, reason). */
  rejects?: Writable | undefined;
  /** Called after each chunk with the rows read so far. */
  onProgress?: (progress: { rows: number; rejected: number }) => void;
  /** Threads a chunk is predicted on (a forest splits it; the bytes written do not change). */
  threads?: number;
  chunkRows?: number;
}

export interface ScoreSummary {
  model: string;
  version: number;
  commit: string;
  /** Rows scored. */
  rows: number;
  /** Rows refused (`skip`). */
  rejected: number;
  /** Rows per predicted class. */
  predicted: Record<string, number>;
  /** With labels: accuracy, macro-F1 and the confusion matrix (`[true][predicted]`). */
  metrics?: {
    rows: number;
    accuracy: number;
    macroF1: number;
    classes: string[];
    confusion: number[][];
  };
}

/** A refused row when the run stops at the first one. */
export class RowRefused extends PinmlError {
  constructor(problem: Problem) {
    super(
      'E_DATA',
      `${formatProblem(problem)} (--on-error skip scores the other rows and lists refused ones in --rejects FILE)`,
      { problems: [problem] },
    );
  }
}

/** The label cell's class index, or a problem when it names no class of the model. */
function labelIndex(version: LoadedVersion): (cell: string) => number {
  const classes = version.predictor.classes;
  const numeric = classes.every((c) => typeof c === 'number');
  const index = new Map(classes.map((c, i) => [String(c), i]));
  return (cell) => index.get(numeric ? String(Number(cell)) : cell) ?? -1;
}

async function write(out: Writable, text: string): Promise<void> {
  if (text === '') return;
  if (!out.write(text)) await once(out, 'drain');
}

/** Scores every row of the input into the output; resolves to the summary. */
export async function scoreRows(options: ScoreOptions): Promise<ScoreSummary> {
  const { version, proba, outputFormat } = options;
  const predictor = version.predictor;
  const d = predictor.features.length;
  const k = predictor.classes.length;
  const threads = Math.max(1, options.threads ?? 1);
  const chunk = options.chunkRows ?? CHUNK_ROWS * threads;
  const ref = versionRef(version);
  const keys = version.classKeys;
  const classOf = labelIndex(version);
  const confusion = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  const predicted = new Array<number>(k).fill(0);
  let rows = 0;
  let rejected = 0;
  let labelled = 0;

  if (outputFormat === 'csv') {
    const header = [
      ...(options.idColumn !== undefined ? [options.idColumn] : []),
      'class',
      ...(proba ? keys.map((c) => `probability_${c}`) : []),
      'version',
    ];
    await write(options.output, stringify([header]));
  }
  if (options.rejects) await write(options.rejects, stringify([['line', 'column', 'reason']]));

  const x = new Float64Array(chunk * d);
  const probabilities = new Float64Array(chunk * k);
  const ids: (string | undefined)[] = [];
  const labels: number[] = [];
  let n = 0;

  const flush = async (): Promise<void> => {
    if (n === 0) return;
    const classes = predictor.predictBatch
      ? predictor.predictBatch(x.subarray(0, n * d), n, probabilities, threads)
      : Uint32Array.from({ length: n }, (_, i) =>
          predictor.predictRow(
            x.subarray(i * d, i * d + d),
            probabilities.subarray(i * k, i * k + k),
          ),
        );
    const records: unknown[][] = [];
    const lines: string[] = [];
    for (let i = 0; i < n; i++) {
      const c = classes[i] as number;
      predicted[c] = (predicted[c] as number) + 1;
      const t = labels[i] as number;
      if (t >= 0) {
        (confusion[t] as number[])[c] = ((confusion[t] as number[])[c] as number) + 1;
        labelled++;
      }
      const label = predictor.classes[c] as string | number;
      const id = ids[i];
      if (outputFormat === 'csv') {
        const record: unknown[] = [];
        if (options.idColumn !== undefined) record.push(id ?? '');
        record.push(label);
        if (proba) for (let j = 0; j < k; j++) record.push(probabilities[i * k + j]);
        record.push(ref);
        records.push(record);
      } else {
        const row: Record<string, unknown> = {};
        if (options.idColumn !== undefined) row.id = id ?? null;
        row.class = label;
        if (proba) {
          const p: Record<string, number> = {};
          for (let j = 0; j < k; j++) p[keys[j] as string] = probabilities[i * k + j] as number;
          row.probabilities = p;
        }
        row.version = ref;
        lines.push(`${JSON.stringify(row)}\n`);
      }
    }
    await write(options.output, outputFormat === 'csv' ? stringify(records) : lines.join(''));
    rows += n;
    n = 0;
    ids.length = 0;
    labels.length = 0;
    options.onProgress?.({ rows, rejected });
  };

  const refuse = async (problem: Problem): Promise<void> => {
    if (options.onError === 'fail') throw new RowRefused(problem);
    rejected++;
    if (options.rejects) {
      await write(
        options.rejects,
        stringify([[problem.line ?? '', problem.column ?? '', problem.message]]),
      );
    }
  };

  const spec = {
    features: predictor.features,
    idColumn: options.idColumn,
    labelColumn: options.labelColumn,
  };
  for await (const row of readRows(options.input, options.inputFormat, spec, options.inputName)) {
    if ('problem' in row) {
      await refuse(row.problem);
      continue;
    }
    const t = labelOf(row, options, classOf);
    if (typeof t !== 'number') {
      await refuse(t);
      continue;
    }
    x.set(row.values, n * d);
    ids.push(row.id);
    labels.push(t);
    n++;
    if (n === chunk) await flush();
  }
  await flush();
  const summary: ScoreSummary = {
    model: version.name,
    version: version.version,
    commit: version.commit,
    rows,
    rejected,
    predicted: Object.fromEntries(keys.map((c, j) => [c, predicted[j] as number])),
  };
  if (options.labelColumn !== undefined && labelled > 0) {
    const m = metricsOfConfusion(confusion, predictor.classes);
    summary.metrics = {
      rows: m.rows,
      accuracy: m.accuracy,
      macroF1: m.macroF1,
      classes: [...keys],
      confusion: m.confusion,
    };
  }
  return summary;
}

/** The row's true class index (-1 without a label column), or the problem with its label. */
function labelOf(
  row: Extract<InputRow, { values: Float64Array }>,
  options: ScoreOptions,
  classOf: (cell: string) => number,
): number | Problem {
  if (options.labelColumn === undefined) return -1;
  const cell = row.label ?? '';
  const t = classOf(cell);
  if (t >= 0) return t;
  return {
    file: options.inputName,
    line: row.line,
    column: options.labelColumn,
    message:
      cell === ''
        ? 'the label is empty: give the row its class or drop the label column'
        : `the label ${JSON.stringify(cell)} is not a class of ${versionRef(options.version)} (${options.version.classKeys.join(', ')})`,
  };
}
