/**
 * `pinml pipeline`: the loop the train workflow runs, on this repository: for every model of
 * pinml.yaml, train and gate, the decide step (A/B against production), register on the
 * current branch, write the report, and the propose step as a dry run (the promotion plan)
 * when the decision is promote.
 */
import type { Command } from 'commander';
import { selectModels, type ModelConfig } from '../config.ts';
import { decideCandidate } from '../decide.ts';
import { progressReporter } from '../progress.ts';
import { branchTip, planPromotionProposal } from '../propose.ts';
import { registerRun } from '../registry/apply.ts';
import { ref } from '../registry/messages.ts';
import { describePlan, type BranchPlan } from '../registry/plan.ts';
import { defaultReportDir, writeReportFiles } from '../report-files.ts';
import { renderDecisionText } from '../report.ts';
import { renderRun } from '../run-summary.ts';
import type { Dataset } from '../dataset.ts';
import type { GitRepo } from '../git/repo.ts';
import type { TrainRun } from '../train.ts';
import { PinmlError } from '../errors.ts';
import {
  defaultRunDir,
  parseThreads,
  readConfig,
  readModelDataset,
  readRunDataset,
  trainToFolder,
} from '../workspace.ts';
import { shown, type CliContext } from './context.ts';

/** Decides, registers and proposes one trained model; the text goes to stdout. */
async function registerAndPropose(
  cli: CliContext,
  model: ModelConfig,
  trained: { dir: string; run: TrainRun },
): Promise<void> {
  const { io } = cli;
  const root = cli.root();
  const repo = cli.repo();
  const branch = (await repo.currentBranch()) ?? 'main';
  const commit = await repo.resolve('HEAD');
  const decided = await decideCandidate({
    runs: [trained],
    repo,
    at: () => repo.resolve(branch),
    dataset: (record) => readRunDataset(root, record),
    commit,
  });
  if (decided.gate === 'failed') return; // not reached: only a run that passed the gate comes here
  io.stdout.write(renderDecisionText(decided.report));
  const result = await registerRun(repo, {
    run: decided.run,
    branch,
    commit,
    now: () => new Date(),
    ...(decided.assessment ? { assessment: decided.assessment } : {}),
  });
  const version = ref(model.name, result.version);
  io.stdout.write(
    result.status === 'created'
      ? `registered ${version} (commit ${result.commit.slice(0, 12)} on ${branch})\n`
      : `unchanged: ${version} has this training key already\n`,
  );
  const files = await writeReportFiles(defaultReportDir(root, model.name), decided.report, {
    version: result.version,
  });
  io.stdout.write(`report: ${shown(io, files.markdown)}\n`);
  if (decided.decision.action !== 'promote') {
    io.stdout.write(`promotion: none (the A/B decision is ${decided.decision.action})\n\n`);
    return;
  }
  const proposal = await planPromotionProposal({
    repo,
    base: branch,
    at: await repo.resolve(branch),
    model: model.name,
    version: result.version,
  });
  if (proposal.status === 'unchanged') {
    io.stdout.write(`promotion: nothing to do (${proposal.reason})\n\n`);
  } else if (await isAlreadyProposed(repo, proposal.plan)) {
    io.stdout.write(
      `promotion: unchanged (${version} is already proposed on ${proposal.plan.branch})\n\n`,
    );
  } else {
    io.stdout.write(
      `promotion plan (not applied):\n${describePlan(proposal.plan)}apply it with: pinml promote ${version}\n\n`,
    );
  }
}

/**
 * Whether the standing branch already holds `plan`'s change, unmerged: its commit has the plan's
 * message and files and is not in the base's history (a proposal merged, and maybe reverted
 * since, needs a commit of its own, so its plan is printed again).
 */
async function isAlreadyProposed(repo: GitRepo, plan: BranchPlan): Promise<boolean> {
  const tip = await branchTip(repo, plan.branch, undefined);
  if (tip === undefined || (await repo.isAncestor(tip, plan.base))) return false;
  const commit = await repo.readCommit(tip);
  if (commit.message.trim() !== plan.message.trim()) return false;
  for (const file of plan.files) {
    if ((await repo.readText(tip, file.path)) !== file.content) return false;
  }
  return true;
}

/**
 * Reads every model's dataset, by model name; throws when any is bad: the one error, or, for
 * several, one error listing each model's (nothing trained, registered or written).
 */
async function readDatasets(
  root: string,
  models: readonly ModelConfig[],
  configFile: string,
): Promise<Map<string, Dataset>> {
  const datasets = new Map<string, Dataset>();
  const bad: { model: string; err: PinmlError }[] = [];
  for (const model of models) {
    try {
      datasets.set(model.name, await readModelDataset(root, model, configFile));
    } catch (err) {
      if (!(err instanceof PinmlError)) throw err;
      bad.push({ model: model.name, err });
    }
  }
  const [first] = bad;
  if (first === undefined) return datasets;
  if (bad.length === 1 && models.length === 1) throw first.err;
  throw new PinmlError(
    first.err.code,
    `${bad.length} of ${models.length} models have bad data; nothing was trained or registered:\n` +
      bad.map((b) => `- ${b.model}: ${b.err.message}`).join('\n'),
    { models: bad.map((b) => b.model) },
  );
}

export function pipelineCommand(program: Command, cli: CliContext): void {
  program
    .command('pipeline')
    .description(
      'the main job on this repository: train and gate every model of pinml.yaml, compare what passes with production, register it, plan its promotion when the decision is promote',
    )
    .option('-c, --config <file>', 'configuration file', 'pinml.yaml')
    .option('--no-register', 'train and gate only')
    .action(async (opts: { config: string; register: boolean }) => {
      const { io } = cli;
      const config = await readConfig(cli.root(), opts.config);
      const models = selectModels(config);
      // Every model's data is read and checked before any trains: one model's bad data must
      // not stop the run after another was registered and committed.
      const datasets = await readDatasets(cli.root(), models, opts.config);
      let failed = 0;
      for (const model of models) {
        const dir = defaultRunDir(cli.root(), model.name);
        const run = await trainToFolder(cli.root(), model, {
          threads: parseThreads(process.env.PINML_TRAIN_THREADS),
          dataset: datasets.get(model.name),
          out: dir,
          onEvent: progressReporter(io.stderr, model.name),
        });
        io.stdout.write(`${renderRun(run.record)}run folder: ${shown(io, dir)}\n`);
        if (!run.record.gate.passed) {
          failed++;
          io.stdout.write(`${model.name}: not registered: the gate failed\n\n`);
          continue;
        }
        if (opts.register) await registerAndPropose(cli, model, { dir, run });
      }
      if (failed > 0) cli.setExit(1);
    });
}
