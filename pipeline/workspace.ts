/**
 * The repository as a workspace on disk: its `pinml.yaml` and its datasets. The adapter the
 * CLI and the actions share to read a configuration and train one of its models.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { readCodeVersion } from './code-version.ts';
import { parseConfig, type ModelConfig, type PinmlConfig } from './config.ts';
import { readDataset, type Dataset } from './dataset.ts';
import { ConfigError } from './errors.ts';
import { trainModel, type TrainEvent, type TrainRun } from './train.ts';

/** Reads and validates `file` (default `pinml.yaml`) under `root`. */
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
  return parseConfig(text, shown);
}

/** Reads and validates a model's dataset under `root`. */
export function readModelDataset(root: string, model: ModelConfig): Promise<Dataset> {
  return readDataset(root, {
    path: model.dataset,
    features: model.features,
    label: model.label,
    ...(model.classes ? { classes: model.classes } : {}),
    minRowsPerClass: model.split.folds,
  });
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
  } = {},
): Promise<TrainRun> {
  const dataset = await readModelDataset(root, model);
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
