/**
 * `pinml data`: commands on a model's dataset. `pinml data from-feedback` proposes the logged
 * rows whose feedback has arrived as new dataset rows, on the standing branch
 * `pinml/data-<model>` (created, updated or unchanged; its one pull request when the
 * environment names GitHub), through the feedback step (`pipeline/feedback/propose.ts`).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../errors.ts';
import { proposeFeedback, planFeedbackProposal, type FeedbackPlan } from '../feedback/propose.ts';
import { DATA_LABELS } from '../registry/messages.ts';
import { indentMessage } from '../registry/plan.ts';
import {
  printOutcome,
  proposeInput,
  pullRequestFromEnv,
  withBranchOptions,
  type BranchOptions,
} from './branch.ts';
import { modelRef, type CliContext } from './context.ts';
import {
  logSource,
  sinceInstant,
  withLogSourceOptions,
  type LogSourceOptions,
} from './log-source.ts';

interface FromFeedbackOptions extends BranchOptions, LogSourceOptions {
  since: string;
  report?: string;
}

/** A plan as `--dry-run` prints it. */
function describeFeedbackPlan(plan: FeedbackPlan): string {
  const labels = Object.keys(plan.rows.labels)
    .sort()
    .map((l) => `${l} ${plan.rows.labels[l] ?? 0}`)
    .join(', ');
  return [
    `data ${plan.model}: ${plan.rows.added.length} rows from feedback (${labels})`,
    `  branch ${plan.branch} from ${plan.base.slice(0, 12)}`,
    `  title: ${plan.title}`,
    ...plan.files.map((f) => `  write ${f.path} (${Buffer.byteLength(f.content)} bytes)`),
    '  commit message:',
    ...indentMessage(plan.message),
    '',
  ].join('\n');
}

/** The plan as JSON, its files by size (the dataset can be large). */
function planJson(plan: FeedbackPlan): unknown {
  return {
    ...plan,
    files: plan.files.map((f) => ({ path: f.path, bytes: Buffer.byteLength(f.content) })),
  };
}

export function dataCommand(program: Command, cli: CliContext): void {
  const data = program.command('data').description("commands on a model's dataset");
  withBranchOptions(
    withLogSourceOptions(
      data
        .command('from-feedback')
        .description(
          'propose the logged rows whose feedback has arrived as dataset rows, on the standing branch pinml/data-<model>',
        )
        .argument('<model>', 'e.g. iris')
        .requiredOption(
          '--since <when>',
          'start of the window: a duration ago (90m, 24h, 7d) or ISO 8601',
        ),
    ).option('--report <file>', 'a markdown drift report for the pull request body'),
  )
    .addHelpText(
      'after',
      `
Rows whose id is in the ids file beside the dataset (data/iris.csv: data/iris.feedback.json)
are not taken again. With --remote, and GITHUB_TOKEN and GITHUB_REPOSITORY (owner/repo) set as
in a workflow (GITHUB_API_URL for another GitHub), it opens or updates the branch's one pull
request, labelled ${DATA_LABELS.join(', ')}.`,
    )
    .action(async (target: string, opts: FromFeedbackOptions) => {
      const { model, version } = modelRef(target, false);
      if (version !== undefined) {
        throw new UsageError(
          `data from-feedback takes a model, not a version: every version's rows with the model's features are taken (write ${model})`,
        );
      }
      const now = Date.now();
      const window = { since: opts.since, from: sinceInstant(opts.since, now), until: now };
      const log = logSource(cli, opts);
      const report =
        opts.report === undefined
          ? {}
          : { report: await readFile(path.resolve(cli.io.cwd, opts.report), 'utf8') };
      const pullRequest = pullRequestFromEnv(cli, opts, DATA_LABELS);
      const input = {
        ...(await proposeInput(cli, model, opts)),
        ...(pullRequest ? { pullRequest } : {}),
        ...report,
        window,
        source: log.source,
        pages: log.pages({ model, from: window.from, until: window.until, labelled: true }),
      };
      const proposal = await (opts.dryRun ? planFeedbackProposal : proposeFeedback)(input);
      printOutcome(cli, proposal, opts, {
        describe: describeFeedbackPlan,
        json: planJson,
        facts: (plan) => ({ rows: plan.rows.added.length }),
      });
    });
}
