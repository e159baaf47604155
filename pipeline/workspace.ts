/**
 * The repository as a workspace on disk: its `pinml.yaml`, its datasets and the run folders
 * trained from them. The adapter the CLI and the actions share to read a configuration and
 * train one of its models.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';

import { parse } from 'csv-parse/sync';

import { readCodeVersion } from './code-version.ts';
import { expandFeatures } from './features.ts';
import {
  locateColumnName,
  parseConfig,
  selectModels,
  type ModelConfig,
  type PinmlConfig,
} from './config.ts';
import { readDataset, type Dataset } from './dataset.ts';
import { ConfigError, DataError, RunFolderError, UsageError } from './errors.ts';
import { writeRunFolder } from './run-folder.ts';
import { trainModel, type RunRecord, type TrainEvent, type TrainRun } from './train.ts';

/** The header of the CSV file at `file` under `root`; undefined when it cannot be read. */
async function readCsvHeader(root: string, file: string): Promise<string[] | undefined> {
  try {
    const text = await readFile(path.resolve(root, file), 'utf8');
    const rows: string[][] = parse(text, { bom: true, trim: true, to_line: 1 });
    return rows[0];
  } catch {
    // The dataset check says what is wrong with the file.
    return undefined;
  }
}

/**
 * Reads and validates `file` (default `pinml.yaml`) under `root`, with `features: all`
 * expanded from each dataset's header.
 */
export async function readConfig(root: string, file = 'pinml.yaml'): Promise<PinmlConfig> {
  const configPath = path.resolve(root, file);
  const shown = path.relative(root, configPath) || configPath;
  let text: string;
  try {
    text = await readFile(configPath, 'utf8');
  } catch {
    throw new ConfigError([
      {
        file: shown,
        message:
          'the file does not exist: run pinml in a repository with a pinml.yaml, or name the file (--config)',
      },
    ]);
  }
  return expandFeatures(parseConfig(text, shown), (dataset) => readCsvHeader(root, dataset), shown);
}

/**
 * Reads and validates a model's dataset under `root`. A column the header lacks is also pointed
 * at where `configFile` names it.
 */
export async function readModelDataset(
  root: string,
  model: ModelConfig,
  configFile = 'pinml.yaml',
): Promise<Dataset> {
  try {
    return await readDataset(root, {
      path: model.dataset,
      features: model.features,
      label: model.label,
      ...(model.classes ? { classes: model.classes } : {}),
      minRowsPerClass: model.split.folds,
    });
  } catch (err) {
    if (!(err instanceof DataError)) throw err;
    throw await withConfigPlaces(err, root, model.name, configFile);
  }
}

/** The error with each missing column's place in the configuration added to its problem. */
async function withConfigPlaces(
  err: DataError,
  root: string,
  model: string,
  configFile: string,
): Promise<DataError> {
  const missing = err.problems.filter((p) => p.message.startsWith('the header has no column'));
  if (missing.length === 0) return err;
  const text = await readFile(path.resolve(root, configFile), 'utf8').catch(() => undefined);
  if (text === undefined) return err;
  const shown = path.relative(root, path.resolve(root, configFile)) || configFile;
  const problems = err.problems.map((p) => {
    if (!missing.includes(p) || p.column === undefined) return p;
    const at = locateColumnName(text, model, String(p.column));
    return at === undefined
      ? p
      : {
          ...p,
          message: p.message.replace(
            /the `features`\/`label` names in pinml\.yaml$/,
            `the name at ${shown}:${at.line}:${at.col}`,
          ),
        };
  });
  return new DataError(problems, (err.data as { total?: number }).total ?? problems.length);
}

/**
 * Trains a model of the workspace (all its candidates, or `only` these), on at most `threads`
 * threads (by default every core; see {@link parseThreads}).
 */
export async function trainWorkspaceModel(
  root: string,
  model: ModelConfig,
  options: {
    only?: readonly string[];
    onEvent?: (event: TrainEvent) => void;
    threads?: number | undefined;
    /** The model's dataset, when the caller has read it already. */
    dataset?: Dataset | undefined;
  } = {},
): Promise<TrainRun> {
  const dataset = options.dataset ?? (await readModelDataset(root, model));
  return trainModel({
    model,
    dataset,
    code: await readCodeVersion(),
    ...(options.only && options.only.length > 0 ? { only: options.only } : {}),
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
    ...(options.threads === undefined ? {} : { threads: options.threads }),
    now: () => performance.now(),
  });
}

/**
 * The thread cap a `PINML_TRAIN_THREADS` value asks for: a positive integer, or undefined (every
 * core) for a value that is absent or not one, as the README documents. The CLI and the train
 * action read the variable and pass this to {@link trainWorkspaceModel}; no model reads the
 * environment.
 */
export function parseThreads(value: string | undefined): number | undefined {
  const threads = Number.parseInt(value ?? '', 10);
  return Number.isSafeInteger(threads) && threads >= 1 ? threads : undefined;
}

/** A model of the configuration as prepared for training: its dataset checked and hashed. */
export interface PreparedModel {
  model: string;
  dataset: { path: string; sha256: string; rows: number };
  candidates: string[];
}

/**
 * Validates the configuration and the dataset of every model (or only `model`), and lists
 * the candidates: what a workflow's training matrix is made of.
 */
export async function prepareModels(
  root: string,
  options: { config: string; model?: string },
): Promise<PreparedModel[]> {
  const config = await readConfig(root, options.config);
  const prepared: PreparedModel[] = [];
  for (const model of selectModels(config, options.model)) {
    const { path, sha256, rows } = await readModelDataset(root, model);
    prepared.push({
      model: model.name,
      dataset: { path, sha256, rows },
      candidates: model.candidates.map((c) => c.name),
    });
  }
  return prepared;
}

/** The default run folder of a model: `.pinml/runs/<model>`. */
export function defaultRunDir(root: string, model: string): string {
  return path.join(root, '.pinml', 'runs', model);
}

/** Trains a model of the workspace and writes its run folder to `out`. */
export async function trainToFolder(
  root: string,
  model: ModelConfig,
  options: {
    only?: readonly string[];
    out: string;
    onEvent?: (event: TrainEvent) => void;
    /** The most threads a forest trains on (default: every core). */
    threads?: number | undefined;
    /** The model's dataset, when the caller has read it already. */
    dataset?: Dataset | undefined;
  },
): Promise<TrainRun> {
  const run = await trainWorkspaceModel(root, model, {
    ...(options.only ? { only: options.only } : {}),
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
    threads: options.threads,
    dataset: options.dataset,
  });
  await writeRunFolder(options.out, run);
  return run;
}

export interface TrainOneOptions {
  /** The configuration file under the root. */
  config: string;
  /** The model to train; may be left out when the configuration defines one. */
  model?: string;
  /** Train only these candidates. */
  only?: readonly string[];
  /** The run folder to write for the model chosen. */
  out: (model: ModelConfig) => string;
  onEvent?: (model: ModelConfig) => (event: TrainEvent) => void;
  /** What the caller does to choose a model, for the message when several are defined. */
  choose: string;
  /** The most threads a forest trains on (default: every core). */
  threads?: number | undefined;
}

/**
 * Trains the one model of the configuration that is named (or the only one) and writes its
 * run folder: `pinml train` and the train action.
 */
export async function trainOneModel(
  root: string,
  options: TrainOneOptions,
): Promise<{ model: ModelConfig; out: string; run: TrainRun }> {
  const models = selectModels(await readConfig(root, options.config), options.model);
  const model = models[0];
  if (!model || models.length > 1) {
    throw new UsageError(
      `pinml.yaml defines several models (${models.map((m) => m.name).join(', ')}): ${options.choose}`,
    );
  }
  const out = options.out(model);
  const run = await trainToFolder(root, model, {
    ...(options.only ? { only: options.only } : {}),
    out,
    ...(options.onEvent ? { onEvent: options.onEvent(model) } : {}),
    threads: options.threads,
  });
  return { model, out, run };
}

/**
 * Reads the dataset a run was trained on, from the working tree under `root`, and refuses
 * it when its bytes changed since (the comparison must use the rows the run split).
 */
export async function readRunDataset(root: string, record: RunRecord): Promise<Dataset> {
  const dataset = await readDataset(root, {
    path: record.dataset.path,
    features: record.config.features,
    label: record.config.label,
    ...(record.config.classes ? { classes: record.config.classes } : {}),
  });
  if (dataset.sha256 !== record.dataset.sha256) {
    throw new RunFolderError(
      `${record.dataset.path} has sha256 ${dataset.sha256}, but the run was trained on sha256 ` +
        `${record.dataset.sha256}: train again (pinml train) before comparing`,
      { file: record.dataset.path, expected: record.dataset.sha256, actual: dataset.sha256 },
    );
  }
  return dataset;
}
