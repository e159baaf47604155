/**
 * `pinml predict MODEL[@N]`: scores a CSV or NDJSON file with the version `--ref` pins (or the
 * one named), loaded and verified from git objects by the server's code, streaming rows in and
 * predictions out; a summary (rows, rejected, predicted classes, and accuracy, macro-F1 and the
 * confusion matrix with `--label-column`) goes to stderr, or as JSON with `--json`.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../errors.ts';
import { canonicalJson } from '../json.ts';
import { availableParallelism } from 'node:os';
import { formatOf, predictFile, versionAt } from '../predict/file.ts';
import type { ScoreSummary } from '../predict/score.ts';
import { versionRef } from '../registry/load.ts';
import { modelRef, shown, type CliContext } from './context.ts';

interface PredictOptions {
  input: string;
  output: string;
  ref: string;
  format?: string;
  outputFormat?: string;
  idColumn?: string;
  labelColumn?: string;
  proba?: boolean;
  onError: string;
  rejects?: string;
  threads?: string;
  json?: boolean;
}

/** Progress on stderr: one line rewritten on a terminal, a plain line every 5 s elsewhere. */
function progress(
  sink: { write(text: string): unknown; isTTY?: boolean },
  what: string,
): {
  update: (p: { rows: number; rejected: number; bytes: number; size?: number }) => void;
  done: () => void;
} {
  const started = performance.now();
  const tty = sink.isTTY === true;
  const every = tty ? 200 : 5000;
  let last = started;
  let shownOnce = false;
  const mb = (b: number): string => `${(b / 1e6).toFixed(1)} MB`;
  return {
    update({ rows, rejected, bytes, size }) {
      const now = performance.now();
      if (now - last < every) return;
      last = now;
      const seconds = (now - started) / 1000;
      const rate = rows / seconds;
      const eta =
        size !== undefined && bytes > 0
          ? `, ETA ${Math.max(0, (seconds * (size - bytes)) / bytes).toFixed(0)} s`
          : '';
      const text =
        `${what}: ${rows.toLocaleString('en')} rows${rejected > 0 ? ` (${rejected} rejected)` : ''}, ` +
        `${Math.round(rate).toLocaleString('en')} rows/s, ${mb(bytes)}${size !== undefined ? ` of ${mb(size)}` : ''}${eta}`;
      sink.write(tty ? `\r\x1b[2K${text}` : `${text}\n`);
      shownOnce = true;
    },
    done() {
      if (tty && shownOnce) sink.write('\r\x1b[2K');
    },
  };
}

/** The summary as people read it. */
function describe(summary: ScoreSummary, output: string): string {
  const ref = versionRef({ name: summary.model, version: summary.version });
  const lines = [
    `scored ${summary.rows} rows with ${ref} (commit ${summary.commit.slice(0, 12)}) into ${output}` +
      (summary.rejected > 0 ? `; ${summary.rejected} rejected` : ''),
    `predicted: ${Object.entries(summary.predicted)
      .map(([c, n]) => `${c} ${n}`)
      .join(', ')}`,
  ];
  const m = summary.metrics;
  if (m !== undefined) {
    lines.push(`accuracy ${m.accuracy}, macro-F1 ${m.macroF1} on ${m.rows} labelled rows`);
    const width = Math.max(...m.classes.map((c) => c.length), 4);
    lines.push(`confusion (rows: true class, columns: predicted): ${m.classes.join(', ')}`);
    m.confusion.forEach((row, t) =>
      lines.push(`  ${(m.classes[t] as string).padEnd(width)} ${row.join(' ')}`),
    );
  }
  return `${lines.join('\n')}\n`;
}

export function predictCommand(program: Command, cli: CliContext): void {
  program
    .command('predict')
    .description(
      'score a CSV or NDJSON file with the version a ref pins (or MODEL@N), streaming, verified from git objects',
    )
    .argument('<model>', 'e.g. iris (the production version at --ref) or iris@3')
    .requiredOption('-i, --input <file>', 'rows to score: a .csv or .ndjson file, or - for stdin')
    .option('-o, --output <file>', 'where predictions go: a file, or - for stdout', '-')
    .option('--ref <ref>', 'branch or commit whose pins (and registry) are read', 'main')
    .option('--format <format>', 'input format when the extension does not say: csv or ndjson')
    .option(
      '--output-format <format>',
      'output format (default: from the extension, else the input format)',
    )
    .option('--id-column <name>', 'a column carried through to the output as the row id')
    .option(
      '--label-column <name>',
      'the ground truth: the summary scores the predictions against it',
    )
    .option('--proba', 'write every class probability')
    .option(
      '--on-error <mode>',
      'fail (stop at the first bad row) or skip (count it, see --rejects)',
      'fail',
    )
    .option(
      '--rejects <file>',
      'with --on-error skip: the refused rows, with line, column and reason (CSV)',
    )
    .option(
      '--threads <n>',
      'threads that predict while this one reads and writes (default: every core); the output is the same',
    )
    .option('--json', 'print the summary as JSON')
    .action(async (target: string, opts: PredictOptions) => {
      const { io } = cli;
      if (opts.onError !== 'fail' && opts.onError !== 'skip') {
        throw new UsageError(`--on-error ${opts.onError}: write fail or skip`);
      }
      if (opts.rejects !== undefined && opts.onError !== 'skip') {
        throw new UsageError(
          '--rejects needs --on-error skip (with fail, the first bad row stops the run)',
        );
      }
      const threads = opts.threads === undefined ? availableParallelism() : Number(opts.threads);
      if (!Number.isSafeInteger(threads) || threads < 1) {
        throw new UsageError(
          `--threads ${opts.threads}: write a whole number of threads, 1 or more`,
        );
      }
      const wanted = modelRef(target, false);
      const inputFormat = formatOf(opts.format, opts.input, 'csv');
      const outputFormat = formatOf(opts.outputFormat, opts.output, inputFormat);
      const version = await versionAt(cli.repo(), opts.ref, wanted.model, wanted.version);
      const inputPath = opts.input === '-' ? '-' : path.resolve(io.cwd, opts.input);
      const outputPath = opts.output === '-' ? undefined : path.resolve(io.cwd, opts.output);
      const bar = progress(io.stderr, versionRef(version));
      let summary: ScoreSummary;
      try {
        summary = await predictFile({
          version,
          input: inputPath,
          inputName: inputPath === '-' ? 'stdin' : shown(io, inputPath),
          output: outputPath ?? '-',
          inputFormat,
          outputFormat,
          idColumn: opts.idColumn,
          labelColumn: opts.labelColumn,
          proba: opts.proba === true,
          onError: opts.onError,
          rejects: opts.rejects === undefined ? undefined : path.resolve(io.cwd, opts.rejects),
          threads,
          stdin: io.stdin,
          stdout: io.stdout,
          onProgress: bar.update,
        });
      } finally {
        bar.done();
      }
      const where = outputPath === undefined ? 'stdout' : shown(io, outputPath);
      if (opts.json) {
        (outputPath === undefined ? io.stderr : io.stdout).write(canonicalJson(summary));
      } else {
        io.stderr.write(describe(summary, where));
      }
    });
}
