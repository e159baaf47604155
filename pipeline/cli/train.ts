/** `pinml train`: trains one model of pinml.yaml and writes its run folder. */
import path from 'node:path';
import type { Command } from 'commander';
import { canonicalJson } from '../json.ts';
import { progressReporter } from '../progress.ts';
import { renderRun } from '../run-summary.ts';
import { defaultRunDir, parseThreads, trainOneModel } from '../workspace.ts';
import { shown, type CliContext } from './context.ts';

interface TrainOptions {
  model?: string;
  candidate?: string[];
  out?: string;
  config: string;
  json?: boolean;
}

export function trainCommand(program: Command, cli: CliContext): void {
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
    .action(async (opts: TrainOptions) => {
      const { io } = cli;
      const { out, run } = await trainOneModel(cli.root(), {
        threads: parseThreads(process.env.PINML_TRAIN_THREADS),
        config: opts.config,
        ...(opts.model ? { model: opts.model } : {}),
        ...(opts.candidate ? { only: opts.candidate } : {}),
        out: (model) => path.resolve(io.cwd, opts.out ?? defaultRunDir(cli.root(), model.name)),
        onEvent: (model) => progressReporter(io.stderr, model.name),
        choose: 'choose one with --model',
      });
      io.stdout.write(
        opts.json
          ? canonicalJson(run.record)
          : `${renderRun(run.record)}run folder: ${shown(io, out)}\n`,
      );
    });
}
