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
import { readRows, type RowFormat } from './rows.ts';

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
  /** Helper threads a forest predicts each chunk on while this one reads on (same bytes). */
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

/**
 * One CSV cell as csv-stringify writes it: text that needs quoting goes through it; a number is
 * `String(x)`, as its default cast; other text is as it is. Rows are joined here rather than
 * handed to `stringify` as arrays, which took a quarter of the main thread on a million rows
 * with the garbage it made (README "Batch scoring").
 */
function csvCell(value: string | number): string {
  if (typeof value === 'number') return String(value);
  return /[",\r\n]/.test(value) ? stringify([[value]]).slice(0, -1) : value;
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

  /** One chunk of accepted rows on its way through prediction to the output. */
  interface Chunk {
    n: number;
    x: Float64Array;
    probabilities: Float64Array;
    ids: (string | undefined)[];
    labels: number[];
  }
  const fresh = (): Chunk => ({
    n: 0,
    x: new Float64Array(chunk * d),
    probabilities: new Float64Array(chunk * k),
    ids: [],
    labels: [],
  });
  let current = fresh();
  // CSV cells that are the same on every row, quoted by csv-stringify once.
  const classCells = predictor.classes.map((c) => csvCell(c));
  const refCell = csvCell(ref);

  /** The chunk's classes: on helper threads while this thread reads on, where the family can. */
  const predict = (c: Chunk): Uint32Array | Promise<Uint32Array> => {
    const x = c.x.subarray(0, c.n * d);
    if (predictor.predictBatchAsync) {
      return predictor.predictBatchAsync(x, c.n, c.probabilities, threads);
    }
    if (predictor.predictBatch) return predictor.predictBatch(x, c.n, c.probabilities);
    return Uint32Array.from({ length: c.n }, (_, i) =>
      predictor.predictRow(
        x.subarray(i * d, i * d + d),
        c.probabilities.subarray(i * k, i * k + k),
      ),
    );
  };

  /** Counts and writes a predicted chunk. */
  const emit = async (c: Chunk, classes: Uint32Array): Promise<void> => {
    const { n, probabilities, ids, labels } = c;
    const lines: string[] = [];
    for (let i = 0; i < n; i++) {
      const cls = classes[i] as number;
      predicted[cls] = (predicted[cls] as number) + 1;
      const t = labels[i] as number;
      if (t >= 0) {
        (confusion[t] as number[])[cls] = ((confusion[t] as number[])[cls] as number) + 1;
        labelled++;
      }
      const label = predictor.classes[cls] as string | number;
      const id = ids[i];
      if (outputFormat === 'csv') {
        let line = options.idColumn !== undefined ? `${csvCell(id ?? '')},` : '';
        line += classCells[cls] as string;
        if (proba) for (let j = 0; j < k; j++) line += `,${probabilities[i * k + j] as number}`;
        lines.push(`${line},${refCell}\n`);
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
    await write(options.output, lines.join(''));
    rows += n;
    options.onProgress?.({ rows, rejected });
  };

  // At most two chunks are alive: one predicting, one being read. Chunks are written in order.
  let writing: Promise<void> = Promise.resolve();
  const flush = async (): Promise<void> => {
    if (current.n === 0) return;
    const c = current;
    current = fresh();
    const classes = predict(c);
    const before = writing;
    writing = (async () => {
      const done = await classes;
      await before;
      await emit(c, done);
    })();
    await before;
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
  try {
    for await (const batch of readRows(
      options.input,
      options.inputFormat,
      spec,
      options.inputName,
    )) {
      // Rows and refusals in line order, so `fail` stops after every row before the bad one.
      let p = 0;
      for (let r = 0; r < batch.rows; r++) {
        const line = batch.lines[r] as number;
        while (p < batch.problems.length && ((batch.problems[p] as Problem).line ?? 0) < line) {
          await refuse(batch.problems[p++] as Problem);
        }
        const t = labelOf(batch.labels[r], line, options, classOf);
        if (typeof t !== 'number') {
          await refuse(t);
          continue;
        }
        current.x.set(batch.values.subarray(r * d, r * d + d), current.n * d);
        current.ids.push(batch.ids[r]);
        current.labels.push(t);
        current.n++;
        if (current.n === chunk) await flush();
      }
      while (p < batch.problems.length) await refuse(batch.problems[p++] as Problem);
    }
    await flush();
    await writing;
  } catch (err) {
    // The chunk in flight is written (its rows came before the failure), then the run fails.
    await writing.catch(() => undefined);
    throw err;
  }
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
  cell: string | undefined,
  line: number,
  options: ScoreOptions,
  classOf: (cell: string) => number,
): number | Problem {
  if (options.labelColumn === undefined) return -1;
  const t = classOf(cell ?? '');
  if (t >= 0) return t;
  return {
    file: options.inputName,
    line,
    column: options.labelColumn,
    message:
      cell === undefined || cell === ''
        ? 'the label is empty: give the row its class or drop the label column'
        : `the label ${JSON.stringify(cell)} is not a class of ${versionRef(options.version)} (${options.version.classKeys.join(', ')})`,
  };
}
