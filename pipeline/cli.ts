/**
 * The `pinml` command line. The outermost layer: it parses arguments, calls the pipeline and
 * turns errors into messages and exit codes (0 ok, 1 failure, 2 usage).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Command, CommanderError } from 'commander';
import { parseConfig, selectModels, configJsonSchema, type ModelConfig } from './config.ts';
import { readCodeVersion } from './code-version.ts';
import { readDataset } from './dataset.ts';
import { ConfigError, PinmlError, UsageError } from './errors.ts';
import { applyGate } from './gate.ts';
import { canonicalJson } from './json.ts';
import { progressReporter } from './progress.ts';
import { mergeRuns, readRunFolder, writeRunFolder } from './run-folder.ts';
import { renderGate, renderRun } from './run-summary.ts';
import { trainModel, type TrainRun } from './train.ts';

/** Where the CLI reads and writes: injectable so tests run it in-process. */
export interface CliIO {
  stdout: { write(text: string): unknown; isTTY?: boolean };
  stderr: { write(text: string): unknown; isTTY?: boolean };
  cwd: string;
}

/** The default run folder of a model. */
export function defaultRunDir(root: string, model: string): string {
  return path.join(root, '.pinml', 'runs', model);
}

async function loadConfig(
  root: string,
  file: string | undefined,
): Promise<{ config: ReturnType<typeof parseConfig>; file: string }> {
  const configPath = path.resolve(root, file ?? 'pinml.yaml');
  const shown = path.relative(root, configPath) || configPath;
  let text: string;
  try {
    text = await readFile(configPath, 'utf8');
  } catch {
    throw new ConfigError([
      {
        file: shown,
        message:
          'the file does not exist: run pinml in a repository with a pinml.yaml, or pass --config FILE',
      },
    ]);
  }
  return { config: parseConfig(text, shown), file: shown };
}

/** Trains one model of the configuration and writes its run folder. */
export async function trainToFolder(
  root: string,
  model: ModelConfig,
  options: { only?: string[]; out: string; io: CliIO },
): Promise<TrainRun> {
  const dataset = await readDataset(root, {
    path: model.dataset,
    features: model.features,
    label: model.label,
    ...(model.classes ? { classes: model.classes } : {}),
    minRowsPerClass: model.split.folds,
  });
  const run = trainModel({
    model,
    dataset,
    code: await readCodeVersion(),
    ...(options.only && options.only.length > 0 ? { only: options.only } : {}),
    onEvent: progressReporter(options.io.stderr, model.name),
    now: () => performance.now(),
  });
  await writeRunFolder(options.out, run);
  return run;
}

function buildProgram(io: CliIO, setExit: (code: number) => void): Command {
  const program = new Command('pinml')
    .description('GitOps for ML models: train, validate and register models in a git repository')
    .version('0.1.0')
    .option('-C, --root <dir>', 'repository root', io.cwd)
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    })
    .exitOverride()
    .showSuggestionAfterError()
    .allowExcessArguments(false);
  const root = (): string => path.resolve(io.cwd, program.opts<{ root: string }>().root);

  program
    .command('train')
    .description(
      'cross-validate the candidates, refit the best, score it on the hold-out; write a run folder',
    )
    .option('-m, --model <name>', 'model to train (required when pinml.yaml defines several)')
    .option(
      '--candidate <name...>',
      'train only these candidates (the run folder format is the same)',
    )
    .option('-o, --out <dir>', 'run folder to write (default .pinml/runs/<model>)')
    .option('-c, --config <file>', 'configuration file', 'pinml.yaml')
    .option('--json', 'print the run record as JSON')
    .action(
      async (opts: {
        model?: string;
        candidate?: string[];
        out?: string;
        config: string;
        json?: boolean;
      }) => {
        const { config } = await loadConfig(root(), opts.config);
        const models = selectModels(config, opts.model);
        if (models.length > 1) {
          throw new UsageError(
            `pinml.yaml defines several models (${models.map((m) => m.name).join(', ')}): choose one with --model`,
          );
        }
        const model = models[0] as ModelConfig;
        const out = path.resolve(io.cwd, opts.out ?? defaultRunDir(root(), model.name));
        const run = await trainToFolder(root(), model, {
          ...(opts.candidate ? { only: opts.candidate } : {}),
          out,
          io,
        });
        io.stdout.write(
          opts.json
            ? canonicalJson(run.record)
            : `${renderRun(run.record)}run folder: ${path.relative(io.cwd, out) || '.'}\n`,
        );
      },
    );

  program
    .command('validate')
    .description('apply the gate to a run folder; exit 1 when it fails')
    .argument('[dir]', 'run folder (default: the only one under .pinml/runs)')
    .option('--json', 'print the verdict as JSON')
    .action(async (dir: string | undefined, opts: { json?: boolean }) => {
      const folder = await resolveRunDir(root(), io, dir);
      const { record } = await readRunFolder(folder);
      const verdict = applyGate(record.chosen.holdout, record.config.gate);
      io.stdout.write(
        opts.json
          ? canonicalJson({ model: record.model, candidate: record.chosen.name, ...verdict })
          : `${record.model} (${record.chosen.name}) ${renderGate(verdict)}\n${verdict.reasons.map((r) => `  ${r}\n`).join('')}`,
      );
      if (!verdict.passed) setExit(1);
    });

  program
    .command('merge')
    .description('merge run folders of single candidates into the run of all of them')
    .argument('<dirs...>', 'run folders written by `pinml train --candidate`')
    .requiredOption('-o, --out <dir>', 'run folder to write')
    .option('--json', 'print the merged run record as JSON')
    .action(async (dirs: string[], opts: { out: string; json?: boolean }) => {
      const runs = [];
      for (const dir of dirs)
        runs.push({ dir, run: await readRunFolder(path.resolve(io.cwd, dir)) });
      const merged = mergeRuns(runs);
      await writeRunFolder(path.resolve(io.cwd, opts.out), merged);
      io.stdout.write(opts.json ? canonicalJson(merged.record) : renderRun(merged.record));
    });

  program
    .command('pipeline')
    .description('the main job on this repository: train every model of pinml.yaml and gate it')
    .option('-c, --config <file>', 'configuration file', 'pinml.yaml')
    .action(async (opts: { config: string }) => {
      const { config } = await loadConfig(root(), opts.config);
      let failed = 0;
      for (const model of selectModels(config)) {
        const out = defaultRunDir(root(), model.name);
        const run = await trainToFolder(root(), model, { out, io });
        io.stdout.write(`${renderRun(run.record)}run folder: ${path.relative(io.cwd, out)}\n\n`);
        if (!run.record.gate.passed) failed++;
      }
      if (failed > 0) setExit(1);
    });

  program
    .command('config-schema')
    .description('print the JSON Schema of pinml.yaml')
    .action(() => {
      io.stdout.write(canonicalJson(configJsonSchema()));
    });

  return program;
}

/** The run folder named, or the only one under .pinml/runs. */
async function resolveRunDir(root: string, io: CliIO, dir: string | undefined): Promise<string> {
  if (dir !== undefined) return path.resolve(io.cwd, dir);
  const { readdir } = await import('node:fs/promises');
  let names: string[] = [];
  try {
    names = await readdir(path.join(root, '.pinml', 'runs'));
  } catch {
    // no runs yet
  }
  if (names.length === 1) return path.join(root, '.pinml', 'runs', names[0] as string);
  throw new UsageError(
    names.length === 0
      ? 'no run folder: train first (`pinml train`) or name the folder'
      : `several run folders under .pinml/runs (${names.join(', ')}): name one`,
  );
}

/** Runs the CLI; resolves to the exit code. */
export async function main(argv: readonly string[], io?: Partial<CliIO>): Promise<number> {
  const streams: CliIO = {
    stdout: io?.stdout ?? process.stdout,
    stderr: io?.stderr ?? process.stderr,
    cwd: io?.cwd ?? process.cwd(),
  };
  let exitCode = 0;
  const program = buildProgram(streams, (code) => (exitCode = code));
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? 0 : 2;
    }
    if (error instanceof UsageError) {
      streams.stderr.write(`pinml: ${error.message}\n`);
      return 2;
    }
    if (error instanceof PinmlError) {
      streams.stderr.write(`pinml: ${error.message}\n`);
      return 1;
    }
    streams.stderr.write(
      `pinml: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    return 1;
  }
}
