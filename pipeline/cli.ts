/**
 * The `pinml` command line. The outermost layer: it parses arguments, calls the pipeline and
 * turns errors into messages and exit codes (0 ok, 1 failure, 2 usage).
 */
import path from 'node:path';
import { Command, CommanderError } from 'commander';
import { selectModels, configJsonSchema, type ModelConfig } from './config.ts';
import { readCodeVersion } from './code-version.ts';
import { compareRun, defaultReportDir, readRunDataset, writeReportFiles } from './compare-run.ts';
import { PinmlError, UsageError } from './errors.ts';
import { applyGate } from './gate.ts';
import { canonicalJson } from './json.ts';
import { applyInit, planInit } from './init.ts';
import { progressReporter } from './progress.ts';
import { renderDecisionText, renderReportJson, renderReportMarkdown } from './report.ts';
import { mergeRuns, readRunFolder, writeRunFolder } from './run-folder.ts';
import { renderGate, renderRun } from './run-summary.ts';
import type { TrainRun } from './train.ts';
import { parseThreads, readConfig, trainWorkspaceModel } from './workspace.ts';
import { GitRepo } from './git/repo.ts';
import { applyBranchPlan, mergeBranch, planRegistrationAt, registerRun } from './registry/apply.ts';
import { readHistory } from './registry/history.ts';
import { parseModelRef, ref as versionRef } from './registry/messages.ts';
import { describePlan, planPromotion, planRollback, type BranchPlan } from './registry/plan.ts';
import {
  cardOf,
  listModels,
  productionVersion,
  readArtifact,
  readModelState,
} from './registry/registry.ts';
import { renderCard, renderHistory, renderModel } from './registry/render.ts';
import { verifyVersion } from './registry/verify.ts';

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

/** Trains one model of the configuration and writes its run folder. */
export async function trainToFolder(
  root: string,
  model: ModelConfig,
  options: { only?: string[]; out: string; io: CliIO },
): Promise<TrainRun> {
  const run = await trainWorkspaceModel(root, model, {
    ...(options.only ? { only: options.only } : {}),
    threads: parseThreads(process.env.PINML_TRAIN_THREADS),
    onEvent: progressReporter(options.io.stderr, model.name),
  });
  await writeRunFolder(options.out, run);
  return run;
}

/** Options shared by the commands that propose a change on a branch (promote, rollback). */
interface BranchOptions {
  base: string;
  merge?: boolean;
  remote?: string;
  dryRun?: boolean;
  json?: boolean;
}

function withBranchOptions(command: Command): Command {
  return command
    .option('--base <branch>', 'the default branch', 'main')
    .option('--merge', 'merge the branch into the base at once (local use)')
    .option('--remote <name>', 'push the branch (and the merge) to this remote')
    .option('--dry-run', 'print the plan and write nothing')
    .option('--json', 'print the result as JSON');
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
        const config = await readConfig(root(), opts.config);
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
    .command('compare')
    .description(
      "compare a run folder's candidate with the production version on the same hold-out rows; print the promotion report",
    )
    .argument('[dir]', 'run folder (default: the only one under .pinml/runs)')
    .option('--base <branch>', 'the branch whose registry pins production', 'main')
    .option('-o, --out <dir>', 'also write report.md and report.json into this folder')
    .option('--json', 'print the report as JSON instead of markdown')
    .action(
      async (dir: string | undefined, opts: { base: string; out?: string; json?: boolean }) => {
        const run = await readRunFolder(await resolveRunDir(root(), io, dir));
        const git = repo();
        const result = await compareRun({
          repo: git,
          at: await git.resolve(opts.base),
          run,
          dataset: await readRunDataset(root(), run.record),
          commit: await git.resolve('HEAD'),
        });
        if (opts.out) await writeReportFiles(path.resolve(io.cwd, opts.out), result.report);
        io.stdout.write(
          opts.json ? renderReportJson(result.report) : renderReportMarkdown(result.report),
        );
      },
    );

  program
    .command('pipeline')
    .description(
      'the main job on this repository: train and gate every model of pinml.yaml, compare what passes with production, register it, plan its promotion when the decision is promote',
    )
    .option('-c, --config <file>', 'configuration file', 'pinml.yaml')
    .option('--no-register', 'train and gate only')
    .action(async (opts: { config: string; register: boolean }) => {
      const config = await readConfig(root(), opts.config);
      let failed = 0;
      for (const model of selectModels(config)) {
        const out = defaultRunDir(root(), model.name);
        const run = await trainToFolder(root(), model, { out, io });
        io.stdout.write(
          `${renderRun(run.record)}run folder: ${path.relative(io.cwd, out) || '.'}\n`,
        );
        if (!run.record.gate.passed) {
          failed++;
          io.stdout.write(`${model.name}: not registered: the gate failed\n\n`);
          continue;
        }
        if (!opts.register) continue;
        const git = repo();
        const branch = (await git.currentBranch()) ?? 'main';
        const commit = await git.resolve('HEAD');
        const ab = await compareRun({
          repo: git,
          at: await git.resolve(branch),
          run,
          dataset: await readRunDataset(root(), run.record),
          commit,
        });
        io.stdout.write(renderDecisionText(ab.report));
        const result = await registerRun(git, {
          run,
          branch,
          commit,
          now: () => new Date(),
          ...(ab.assessment ? { assessment: ab.assessment } : {}),
        });
        io.stdout.write(
          result.status === 'created'
            ? `registered ${versionRef(model.name, result.version)} (commit ${result.commit.slice(0, 12)} on ${branch})\n`
            : `unchanged: ${versionRef(model.name, result.version)} has this training key already\n`,
        );
        const reportFiles = await writeReportFiles(
          defaultReportDir(root(), model.name),
          ab.rebuild(result.version),
        );
        io.stdout.write(`report: ${path.relative(io.cwd, reportFiles.markdown)}\n`);
        if (ab.decision.action !== 'promote') {
          io.stdout.write(`promotion: none (the A/B decision is ${ab.decision.action})\n\n`);
          continue;
        }
        const plan = planPromotion(
          await readModelState(git, await git.resolve(branch), model.name),
          result.version,
        );
        io.stdout.write(
          'status' in plan
            ? `promotion: nothing to do (${plan.reason})\n\n`
            : `promotion plan (not applied):\n${describePlan(plan)}apply it with: pinml promote ${versionRef(model.name, result.version)}\n\n`,
        );
      }
      if (failed > 0) setExit(1);
    });

  const repo = (): GitRepo => GitRepo.open(root());
  const modelRef = (text: string, needVersion: boolean): { model: string; version?: number } => {
    const parsed = parseModelRef(text);
    if (!parsed || (needVersion && parsed.version === undefined)) {
      throw new UsageError(
        `"${text}" is not a model${needVersion ? ' version' : ''}: write it as iris${needVersion ? '@3' : ' or iris@3'}`,
      );
    }
    return parsed;
  };

  program
    .command('register')
    .description(
      "commit the run folder's model as the next version of registry/<model>/ (unchanged when its training key is registered)",
    )
    .argument('[dir]', 'run folder (default: the only one under .pinml/runs)')
    .option('-b, --branch <name>', 'branch to register on', 'main')
    .option('--remote <name>', 'push to this remote, fetching and retrying when it moved')
    .option('--commit <oid>', 'the commit the training ran at (default HEAD)')
    .option('--dry-run', 'print the plan and write nothing')
    .option('--json', 'print the result as JSON')
    .action(
      async (
        dir: string | undefined,
        opts: {
          branch: string;
          remote?: string;
          commit?: string;
          dryRun?: boolean;
          json?: boolean;
        },
      ) => {
        const run = await readRunFolder(await resolveRunDir(root(), io, dir));
        const git = repo();
        const commit = await git.resolve(opts.commit ?? 'HEAD');
        if (opts.dryRun) {
          const tip = opts.remote
            ? await git.fetch({ remote: opts.remote, branch: opts.branch })
            : await git.resolve(opts.branch);
          const plan = await planRegistrationAt(git, tip, { run, commit, now: () => new Date() });
          io.stdout.write(
            opts.json
              ? canonicalJson({
                  ...plan,
                  files: 'files' in plan ? plan.files.map((f) => f.path) : [],
                })
              : describePlan(plan, { branch: opts.branch }),
          );
          return;
        }
        const result = await registerRun(git, {
          run,
          branch: opts.branch,
          commit,
          now: () => new Date(),
          ...(opts.remote ? { remote: opts.remote } : {}),
        });
        io.stdout.write(
          opts.json
            ? canonicalJson(result)
            : `${result.status === 'created' ? 'registered' : 'unchanged:'} ${versionRef(result.model, result.version)} ` +
                `(${result.status === 'created' ? `commit ${result.commit.slice(0, 12)} on ${opts.branch}` : 'its training key is already registered'}` +
                `${result.retries > 0 ? `, after ${result.retries} rejected push${result.retries === 1 ? '' : 'es'}` : ''})\n` +
                (result.note ? `note: ${result.note}\n` : ''),
        );
      },
    );

  const branchCommand = async (plan: BranchPlan, opts: BranchOptions): Promise<void> => {
    if (opts.dryRun) {
      io.stdout.write(opts.json ? canonicalJson(plan) : describePlan(plan));
      return;
    }
    const git = repo();
    const result = await applyBranchPlan(git, plan);
    let merged: string | undefined;
    if (opts.merge) merged = await mergeBranch(git, opts.base, plan.branch);
    if (opts.remote) {
      await git.push({ remote: opts.remote, branch: plan.branch, oid: result.commit, force: true });
      if (merged) await git.push({ remote: opts.remote, branch: opts.base, oid: merged });
    }
    io.stdout.write(
      opts.json
        ? canonicalJson({
            ...result,
            title: plan.title,
            from: plan.from,
            to: plan.to,
            ...(merged ? { merged } : {}),
          })
        : `${result.operation}: ${plan.branch} (${result.commit.slice(0, 12)}): ${plan.title}\n` +
            (merged
              ? `merged into ${opts.base} (${merged.slice(0, 12)})\n`
              : `review and merge ${plan.branch} into ${opts.base}\n`),
    );
  };

  withBranchOptions(
    program
      .command('promote')
      .description('pin a version as production on the standing branch pinml/promote-<model>')
      .argument('<model@version>', 'e.g. iris@3'),
  ).action(async (target: string, opts: BranchOptions) => {
    const { model, version } = modelRef(target, true);
    const git = repo();
    const base = await git.resolve(opts.base);
    const state = await readModelState(git, base, model);
    // Never propose an artifact that would not load: check its hash before pinning it.
    await readArtifact(git, base, cardOf(state, version as number));
    const plan = planPromotion(state, version as number);
    if ('status' in plan) {
      io.stdout.write(
        opts.json
          ? canonicalJson({ operation: 'unchanged', reason: plan.reason })
          : `unchanged: ${plan.reason}\n`,
      );
      return;
    }
    await branchCommand(plan, opts);
  });

  withBranchOptions(
    program
      .command('rollback')
      .description(
        'revert the commit that set the production pin now in effect, on pinml/rollback-<model>',
      )
      .argument('<model>', 'e.g. iris'),
  ).action(async (target: string, opts: BranchOptions) => {
    const { model } = modelRef(target, false);
    const git = repo();
    const base = await git.resolve(opts.base);
    const plan = planRollback(
      await readModelState(git, base, model),
      await readHistory(git, base, model),
    );
    await branchCommand(plan, opts);
  });

  program
    .command('history')
    .description('every change of the production pin: version, commit, author, date, pull request')
    .argument('<model>', 'e.g. iris')
    .option('--ref <ref>', 'branch or commit', 'main')
    .option('--json', 'print the history as JSON')
    .action(async (target: string, opts: { ref: string; json?: boolean }) => {
      const { model } = modelRef(target, false);
      const git = repo();
      const history = await readHistory(git, await git.resolve(opts.ref), model);
      io.stdout.write(opts.json ? canonicalJson(history.entries) : renderHistory(model, history));
    });

  program
    .command('show')
    .description("a model's versions and pins, or one version's card")
    .argument('[model[@version]]', 'e.g. iris or iris@3 (default: every model)')
    .option('--ref <ref>', 'branch or commit', 'main')
    .option('--json', 'print JSON')
    .action(async (target: string | undefined, opts: { ref: string; json?: boolean }) => {
      const git = repo();
      const commit = await git.resolve(opts.ref);
      const names =
        target === undefined ? await listModels(git, commit) : [modelRef(target, false).model];
      const version = target === undefined ? undefined : modelRef(target, false).version;
      const out: unknown[] = [];
      for (const name of names) {
        const state = await readModelState(git, commit, name);
        if (version !== undefined) {
          const card = cardOf(state, version);
          if (opts.json) out.push(card);
          else io.stdout.write(renderCard(card, productionVersion(state) === version));
        } else if (opts.json) {
          out.push({
            model: name,
            production: productionVersion(state),
            versions: state.cards.map((c) => c.version),
          });
        } else io.stdout.write(renderModel(state));
      }
      if (opts.json) io.stdout.write(canonicalJson(version !== undefined ? out[0] : out));
    });

  program
    .command('verify')
    .description(
      'rebuild a version from the dataset and configuration its card records; compare the artifact hash',
    )
    .argument('<model@version>', 'e.g. iris@3')
    .option('--ref <ref>', 'branch or commit to read the registry at', 'main')
    .option('--json', 'print the result as JSON')
    .action(async (target: string, opts: { ref: string; json?: boolean }) => {
      const { model, version } = modelRef(target, true);
      const git = repo();
      const result = await verifyVersion(
        git,
        await git.resolve(opts.ref),
        model,
        version as number,
        await readCodeVersion(),
      );
      io.stdout.write(
        opts.json
          ? canonicalJson(result)
          : `${versionRef(model, version as number)}: ${result.match ? 'MATCH' : 'MISMATCH'}: ` +
              (result.artifact.rebuilt === null
                ? 'could not rebuild the artifact'
                : result.artifact.rebuilt === result.artifact.recorded
                  ? `the rebuilt artifact has the recorded sha256 ${result.artifact.recorded.slice(0, 16)}…`
                  : `the rebuilt artifact has sha256 ${result.artifact.rebuilt.slice(0, 16)}…, the card records ${result.artifact.recorded.slice(0, 16)}…`) +
              (result.dataset.found === result.dataset.recorded
                ? ''
                : '; the dataset differs from the one recorded') +
              '\n' +
              result.reasons.map((r) => `  ${r}\n`).join(''),
      );
      if (!result.match) setExit(1);
    });

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
    .action(
      async (opts: {
        actions: string;
        model: string;
        dataset: string;
        features: string;
        label: string;
        force?: boolean;
      }) => {
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
        for (const r of await applyInit(root(), files, opts.force === true)) {
          io.stdout.write(`${r.outcome.padEnd(11)} ${r.path}\n`);
        }
        io.stdout.write(
          'next: put your CSV under data/, edit pinml.yaml, run `pinml train`, and allow GitHub Actions to create pull requests (README: Setting up GitHub)\n',
        );
      },
    );

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
