/** `pinml init`: scaffolds pinml into the repository (pinml.yaml, workflows, registry docs). */
import type { Command } from 'commander';
import { UsageError } from '../errors.ts';
import { applyInit, planInit } from '../init.ts';
import type { CliContext } from './context.ts';

interface InitOptions {
  actions: string;
  model: string;
  dataset: string;
  features: string;
  label: string;
  force?: boolean;
}

export function initCommand(program: Command, cli: CliContext): void {
  program
    .command('init')
    .description(
      'scaffold pinml into this repository: pinml.yaml, the workflows, the registry docs',
    )
    .requiredOption(
      '--actions <owner/repo@ref>',
      'where the workflows take the pinml actions from, e.g. acme/pinml@v1',
    )
    .option('--model <name>', 'the first model', 'model')
    .option('--dataset <path>', 'its CSV dataset', 'data/dataset.csv')
    .option('--features <names>', 'comma-separated feature columns', 'feature_1,feature_2')
    .option('--label <name>', 'the label column', 'label')
    .option('--force', 'overwrite files that exist')
    .action(async (opts: InitOptions) => {
      const m = /^([\w.-]+\/[\w.-]+)@([\w./-]+)$/.exec(opts.actions);
      if (!m?.[1] || !m[2])
        throw new UsageError(
          `--actions must be owner/repo@ref (acme/pinml@v1), not "${opts.actions}"`,
        );
      const files = await planInit({
        actionsRepo: m[1],
        actionsRef: m[2],
        model: opts.model,
        dataset: opts.dataset,
        features: opts.features
          .split(',')
          .map((f) => f.trim())
          .filter(Boolean),
        label: opts.label,
      });
      for (const r of await applyInit(cli.root(), files, opts.force === true)) {
        cli.io.stdout.write(`${r.outcome.padEnd(11)} ${r.path}\n`);
      }
      cli.io.stdout.write(
        'next: put your CSV under data/, edit pinml.yaml, run `pinml train`, and allow GitHub Actions to create pull requests (README: Setting up GitHub)\n',
      );
    });
}
