/** `pinml init`: scaffolds pinml into the repository (pinml.yaml, workflows, registry docs). */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

import type { Command } from 'commander';
import { UsageError } from '../errors.ts';
import { GitRepo } from '../git/repo.ts';
import { applyInit, planInit, resolveActions } from '../init.ts';
import { addPaths, uncoveredByAny } from '../workflow-paths.ts';
import { readConfig } from '../workspace.ts';
import type { CliContext } from './context.ts';

/**
 * The repository's default branch, as far as the clone knows it: what `origin/HEAD` names (set
 * by `git clone`), else the branch checked out, else `main`.
 */
async function defaultBranch(root: string): Promise<string> {
  const head = await readFile(path.join(root, '.git', 'refs', 'remotes', 'origin', 'HEAD'), 'utf8')
    .then((t) => /^ref: refs\/remotes\/origin\/(.+)$/m.exec(t)?.[1])
    .catch(() => undefined);
  if (head !== undefined) return head.trim();
  return (
    (await GitRepo.open(root)
      .currentBranch()
      .catch(() => undefined)) ?? 'main'
  );
}

const TRAIN_WORKFLOW = '.github/workflows/train.yml';
const REPORT_WORKFLOW = '.github/workflows/report.yml';

interface InitOptions {
  actions?: string;
  update?: boolean;
  workflow?: string;
  actionsVersion?: string;
  branch?: string;
  model: string;
  dataset: string;
  features: string;
  label: string;
  force?: boolean;
}

/** `pinml init --update`: adds the datasets pinml.yaml names to the workflow's `paths:`. */
async function updatePaths(cli: CliContext, workflow: string): Promise<void> {
  const root = cli.root();
  const config = await readConfig(root, 'pinml.yaml');
  const files = ['pinml.yaml', ...Object.values(config.models).map((m) => m.dataset)];
  const file = path.join(root, workflow);
  const text = await readFile(file, 'utf8').catch(() => {
    throw new UsageError(`${workflow} does not exist: name the training workflow with --workflow`);
  });
  const uncovered = uncoveredByAny(text, files);
  if (uncovered.length === 0) {
    cli.io.stdout.write(
      `unchanged   ${workflow}: its paths: filter covers pinml.yaml and every dataset\n`,
    );
    return;
  }
  await writeFile(file, addPaths(text, uncovered));
  cli.io.stdout.write(
    `updated     ${workflow}: paths: now also ${uncovered.join(', ')}\nnext: commit ${workflow} and push it yourself (a workflow's token cannot push workflow files)\n`,
  );
}

export function initCommand(program: Command, cli: CliContext): void {
  program
    .command('init')
    .description(
      'scaffold pinml into this repository: pinml.yaml, the workflows, the registry docs',
    )
    .option(
      '--actions <owner/repo@ref>',
      'where the workflows take the pinml actions from: a release tag (acme/pinml@v1.2.0, looked up with git ls-remote and pinned to its commit SHA) or a full commit SHA',
    )
    .option(
      '--actions-version <version>',
      'the version written beside each SHA pin (# v1.2.0); default the tag given',
    )
    .option(
      '--branch <name>',
      "the branch train.yml trains on: the repository's default (default: what origin/HEAD names, else the branch checked out, else main)",
    )
    .option('--model <name>', 'the first model', 'model')
    .option('--dataset <path>', 'its CSV dataset', 'data/dataset.csv')
    .option('--features <names>', 'comma-separated feature columns', 'feature_1,feature_2')
    .option('--label <name>', 'the label column', 'label')
    .option('--force', 'overwrite files that exist')
    .option(
      '--update',
      "only bring the workflows' paths: filters up to date with pinml.yaml (its datasets), to commit yourself",
    )
    .option(
      '--workflow <path>',
      'the workflow --update edits (default .github/workflows/train.yml, and report.yml when it exists)',
    )
    .action(async (opts: InitOptions) => {
      if (opts.update === true) {
        if (opts.workflow !== undefined) {
          await updatePaths(cli, opts.workflow);
          return;
        }
        await updatePaths(cli, TRAIN_WORKFLOW);
        const report = path.join(cli.root(), REPORT_WORKFLOW);
        if (
          await readFile(report).then(
            () => true,
            () => false,
          )
        )
          await updatePaths(cli, REPORT_WORKFLOW);
        return;
      }
      if (opts.actions === undefined)
        throw new UsageError(
          "required option '--actions <owner/repo@ref>' not specified (or pass --update)",
        );
      const m = /^([\w.-]+\/[\w.-]+)@([\w./-]+)$/.exec(opts.actions);
      if (!m?.[1] || !m[2])
        throw new UsageError(
          `--actions must be owner/repo@ref (acme/pinml@v1), not "${opts.actions}"`,
        );
      const { commit, version } = await resolveActions(m[1], m[2], {
        ...(opts.actionsVersion !== undefined ? { version: opts.actionsVersion } : {}),
        ...(cli.io.env.GITHUB_SERVER_URL ? { serverUrl: cli.io.env.GITHUB_SERVER_URL } : {}),
      });
      const files = await planInit({
        actionsRepo: m[1],
        actionsCommit: commit,
        actionsVersion: version,
        branch: opts.branch ?? (await defaultBranch(cli.root())),
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
        `next: put your CSV under data/, edit pinml.yaml, run \`pinml train\`, and choose how the workflows authenticate: a GitHub App, a PINML_TOKEN, or GITHUB_TOKEN with Actions allowed to create pull requests (https://github.com/${m[1]}#setting-up-github)\n`,
      );
    });
}
