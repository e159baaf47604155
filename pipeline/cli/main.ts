/**
 * The `pinml` command line. The outermost layer: it parses arguments, hands each command to
 * its file (one per command, beside this one), and turns errors into messages and exit codes
 * (0 ok, 1 failure, 2 usage).
 */
import path from 'node:path';
import { Command, CommanderError } from 'commander';
import { PinmlError, UsageError } from '../errors.ts';
import { GitRepo } from '../git/repo.ts';
import { compareCommand } from './compare.ts';
import { configSchemaCommand } from './config-schema.ts';
import { driftCommand } from './drift.ts';
import { dataCommand } from './data.ts';
import type { CliContext, CliIO } from './context.ts';
import { historyCommand } from './history.ts';
import { initCommand } from './init.ts';
import { liveCommand } from './live.ts';
import { mergeCommand } from './merge.ts';
import { pipelineCommand } from './pipeline.ts';
import { predictCommand } from './predict.ts';
import { promoteCommand } from './promote.ts';
import { registerCommand } from './register.ts';
import { canaryCommand, shadowCommand } from './roles.ts';
import { rollbackCommand } from './rollback.ts';
import { showCommand } from './show.ts';
import { trainCommand } from './train.ts';
import { validateCommand } from './validate.ts';
import { verifyCommand } from './verify.ts';

export type { CliIO } from './context.ts';

/** The commands, in the order `pinml --help` lists them. */
const COMMANDS = [
  trainCommand,
  validateCommand,
  mergeCommand,
  compareCommand,
  pipelineCommand,
  registerCommand,
  promoteCommand,
  canaryCommand,
  shadowCommand,
  rollbackCommand,
  historyCommand,
  showCommand,
  liveCommand,
  driftCommand,
  dataCommand,
  verifyCommand,
  predictCommand,
  initCommand,
  configSchemaCommand,
];

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
  const cli: CliContext = { io, root, repo: () => GitRepo.open(root(), { env: io.env }), setExit };
  for (const command of COMMANDS) command(program, cli);
  return program;
}

/** Runs the CLI; resolves to the exit code. */
export async function main(argv: readonly string[], io?: Partial<CliIO>): Promise<number> {
  const streams: CliIO = {
    stdout: io?.stdout ?? process.stdout,
    stderr: io?.stderr ?? process.stderr,
    cwd: io?.cwd ?? process.cwd(),
    stdin: io?.stdin ?? process.stdin,
    env: io?.env ?? process.env,
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
