/**
 * `pinml canary` and `pinml shadow`: give a version a role besides production, or end it
 * (`--off`), as one commit on the role's standing branch pinml/<role>-<model>, through the
 * propose step (artifact checked first; create-or-update, `--dry-run`, `--merge`).
 */
import type { Command } from 'commander';
import { UsageError } from '../errors.ts';
import { planRoleProposal, proposeRoleChange } from '../propose.ts';
import { parseWeight, type Role, type RoleChange } from '../registry/roles.ts';
import { printProposal, proposeInput, withBranchOptions, type BranchOptions } from './branch.ts';
import { modelRef, type CliContext } from './context.ts';

interface RoleOptions extends BranchOptions {
  off?: boolean;
  weight?: string;
}

/** The change the arguments ask for: `MODEL@N` (with `--weight` for a canary) or `MODEL --off`. */
function roleChange(
  role: Role,
  target: string,
  opts: RoleOptions,
): { model: string; change: RoleChange } {
  const { model, version } = modelRef(target, false);
  if (opts.off) {
    if (version !== undefined || opts.weight !== undefined) {
      throw new UsageError(
        `--off ends the ${role} of a model: write \`pinml ${role} ${model} --off\`, with no version${role === 'canary' ? ' and no --weight' : ''}`,
      );
    }
    return { model, change: { role, off: true } };
  }
  if (version === undefined) {
    throw new UsageError(
      `"${target}" names no version: write \`pinml ${role} ${model}@3${role === 'canary' ? ' --weight 0.1' : ''}\`, or \`pinml ${role} ${model} --off\` to end it`,
    );
  }
  return {
    model,
    change:
      role === 'canary' ? { role, version, weight: parseWeight(opts.weight) } : { role, version },
  };
}

function roleCommand(program: Command, cli: CliContext, role: Role, description: string): Command {
  const command = withBranchOptions(
    program
      .command(role)
      .description(description)
      .argument('<model@version|model>', `e.g. iris@3, or iris with --off`)
      .option('--off', `end the ${role}`),
  );
  command.action(async (target: string, opts: RoleOptions) => {
    const { model, change } = roleChange(role, target, opts);
    const input = { ...(await proposeInput(cli, model, opts)), change };
    const propose = opts.dryRun ? planRoleProposal : proposeRoleChange;
    printProposal(cli, await propose(input), opts);
  });
  return command;
}

export function canaryCommand(program: Command, cli: CliContext): void {
  roleCommand(
    program,
    cli,
    'canary',
    'give a version a share of the traffic beside production, on the standing branch pinml/canary-<model>',
  ).option('--weight <share>', 'the share of requests it answers, between 0 and 1 (e.g. 0.1)');
}

export function shadowCommand(program: Command, cli: CliContext): void {
  roleCommand(
    program,
    cli,
    'shadow',
    'have a version predict every request beside production without answering, on pinml/shadow-<model>',
  );
}
