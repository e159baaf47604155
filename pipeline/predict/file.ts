/**
 * Scoring a file (or standard input) into a file (or standard output) with a registered
 * version, as `pinml predict` and the `predict` action do: the version is the one `ref` pins for
 * production (or the one named), read and verified from git objects; the formats follow the
 * file names unless given; a file output is written beside its final name and renamed when
 * every row is in, so a failed run leaves nothing partial at the path.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform, Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { UsageError } from '../errors.ts';
import type { GitRepo } from '../git/repo.ts';
import { loadVersion, type LoadedVersion } from '../registry/load.ts';
import { chooseVersion } from '../registry/registry.ts';
import type { RowFormat } from './rows.ts';
import { scoreRows, type ScoreSummary } from './score.ts';

const FORMATS: Record<string, RowFormat> = {
  '.csv': 'csv',
  '.ndjson': 'ndjson',
  '.jsonl': 'ndjson',
};

/** A format as given (`csv`, `ndjson`), else the file's extension's, else `fallback`. */
export function formatOf(given: string | undefined, file: string, fallback: RowFormat): RowFormat {
  if (given !== undefined && given !== '') {
    if (given !== 'csv' && given !== 'ndjson') {
      throw new UsageError(`format ${given}: write csv or ndjson`, { format: given });
    }
    return given;
  }
  return FORMATS[path.extname(file).toLowerCase()] ?? fallback;
}

/** The version `model@version` at `ref`, or the one `ref` pins for production. */
export async function versionAt(
  repo: GitRepo,
  ref: string,
  model: string,
  version: number | undefined,
): Promise<LoadedVersion> {
  const commit = await repo.resolve(ref);
  const { version: chosen } = await chooseVersion(repo, commit, ref, model, version);
  return loadVersion(repo, commit, model, chosen);
}

export interface PredictFile {
  version: LoadedVersion;
  /** Absolute path, or `-` for `stdin`. */
  input: string;
  /** How messages name the input. */
  inputName: string;
  /** Absolute path, or `-` for `stdout`. */
  output: string;
  inputFormat: RowFormat;
  outputFormat: RowFormat;
  idColumn?: string | undefined;
  labelColumn?: string | undefined;
  proba: boolean;
  onError: 'fail' | 'skip';
  /** Absolute path of the rejects file (`skip`). */
  rejects?: string | undefined;
  threads: number;
  stdin?: NodeJS.ReadableStream | undefined;
  stdout?: { write(text: string): unknown } | undefined;
  /** After each chunk: rows so far, and bytes read of the input's size (when it is a file). */
  onProgress?: (p: { rows: number; rejected: number; bytes: number; size?: number }) => void;
}

/** Scores the input into the output; resolves to the summary. */
export async function predictFile(options: PredictFile): Promise<ScoreSummary> {
  const stdin = options.stdin ?? process.stdin;
  const source: Readable =
    options.input === '-' ? Readable.from(stdin) : createReadStream(options.input);
  const size = options.input === '-' ? undefined : (await stat(options.input)).size;
  let bytes = 0;
  // Counted on the way through (a 'data' listener would start the flow before the parser).
  const counted = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  source.on('error', (err) => counted.destroy(err));
  source.pipe(counted);

  const file = options.output === '-' ? undefined : options.output;
  const temporary =
    file === undefined
      ? undefined
      : path.join(path.dirname(file), `.${path.basename(file)}.pinml-${process.pid}.tmp`);
  const stdout = options.stdout ?? process.stdout;
  const sink: Writable =
    temporary !== undefined
      ? createWriteStream(temporary)
      : stdout instanceof Writable
        ? stdout
        : new Writable({
            write(chunk: Buffer, _encoding, done) {
              stdout.write(chunk.toString());
              done();
            },
          });
  const rejects = options.rejects === undefined ? undefined : createWriteStream(options.rejects);
  // A failed write (a full disk) stops the reading, so the run fails with it.
  for (const out of [sink, rejects]) out?.on('error', (err: Error) => counted.destroy(err));
  try {
    const summary = await scoreRows({
      version: options.version,
      input: counted,
      inputName: options.inputName,
      inputFormat: options.inputFormat,
      output: sink,
      outputFormat: options.outputFormat,
      idColumn: options.idColumn,
      labelColumn: options.labelColumn,
      proba: options.proba,
      onError: options.onError,
      rejects,
      threads: options.threads,
      onProgress: (p) =>
        options.onProgress?.({ ...p, bytes, ...(size !== undefined ? { size } : {}) }),
    });
    if (temporary !== undefined && file !== undefined) {
      sink.end();
      await finished(sink);
      await rename(temporary, file);
    }
    return summary;
  } catch (err) {
    source.destroy();
    if (temporary !== undefined) {
      sink.destroy();
      await unlink(temporary).catch(() => undefined);
    }
    throw err;
  } finally {
    if (rejects !== undefined) {
      rejects.end();
      await finished(rejects).catch(() => undefined);
    }
  }
}
