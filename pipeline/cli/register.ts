/**
 * `pinml register`: commits the run folder's model as the next version of registry/<model>/
 * (unchanged when its training key is registered), or prints the plan (`--dry-run`).
 */
import type { Command } from 'commander';
import { canonicalJson } from '../json.ts';
import { UsageError } from '../errors.ts';
import { planRegistrationAt, registerRun, RETRY_FOR_MS } from '../registry/apply.ts';
import { ref } from '../registry/messages.ts';
import { describePlan } from '../registry/plan.ts';
import { readRunFolder } from '../run-folder.ts';
import { resolveRunDir, type CliContext } from './context.ts';

interface RegisterOptions {
  branch: string;
  remote?: string;
  commit?: string;
  dryRun?: boolean;
  json?: boolean;
  retryFor: string;
}

/** `--retry-for`: seconds, a positive number. */
function retryForMs(value: string): number {
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new UsageError(
      `--retry-for ${value}: give the seconds to keep retrying a remote that keeps moving, a positive number (default ${RETRY_FOR_MS / 1000})`,
      { option: 'retry-for', value },
    );
  }
  return seconds * 1000;
}

export function registerCommand(program: Command, cli: CliContext): void {
  program
    .command('register')
    .description(
      "commit the run folder's model as the next version of registry/<model>/ (unchanged when its training key is registered)",
    )
    .argument('[dir]', 'run folder (default: the only one under .pinml/runs)')
    .option('-b, --branch <name>', 'branch to register on', 'main')
    .option('--remote <name>', 'push to this remote, fetching and retrying when it moved')
    .option('--commit <oid>', 'the commit the training ran at (default HEAD)')
    .option(
      '--retry-for <seconds>',
      'with --remote: how long to keep retrying while other registrations land first',
      String(RETRY_FOR_MS / 1000),
    )
    .option('--dry-run', 'print the plan and write nothing')
    .option('--json', 'print the result as JSON')
    .action(async (dir: string | undefined, opts: RegisterOptions) => {
      const { io } = cli;
      const retryFor = retryForMs(opts.retryFor);
      const run = await readRunFolder(await resolveRunDir(cli, dir));
      const repo = cli.repo();
      const commit = await repo.resolve(opts.commit ?? 'HEAD');
      if (opts.dryRun) {
        const tip = opts.remote
          ? await repo.fetch({ remote: opts.remote, branch: opts.branch })
          : await repo.resolve(opts.branch);
        const plan = await planRegistrationAt(repo, tip, { run, commit, now: () => new Date() });
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
      const result = await registerRun(repo, {
        run,
        branch: opts.branch,
        commit,
        now: () => new Date(),
        retryForMs: retryFor,
        ...(opts.remote ? { remote: opts.remote } : {}),
      });
      const created = result.status === 'created';
      io.stdout.write(
        opts.json
          ? canonicalJson(result)
          : `${created ? 'registered' : 'unchanged:'} ${ref(result.model, result.version)} ` +
              `(${created ? `commit ${result.commit.slice(0, 12)} on ${opts.branch}` : 'its training key is already registered'}` +
              `${result.retries > 0 ? `, after ${result.retries} rejected push${result.retries === 1 ? '' : 'es'}` : ''})\n` +
              (result.note ? `note: ${result.note}\n` : ''),
      );
    });
}
