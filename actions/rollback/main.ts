/**
 * rollback: opens the pull request that reverts the commit that set the production pin now in
 * effect, for a person or a monitor that decided the live model is worse.
 */
import * as core from '@actions/core';
import { readHistory } from '../../pipeline/registry/history.ts';
import { planRollback } from '../../pipeline/registry/plan.ts';
import { readModelState } from '../../pipeline/registry/registry.ts';
import {
  required,
  runnerInput,
  runAction,
  writeSummary,
  type InputGetter,
} from '../common/action.ts';
import { openBase, parseBranchInputs, propose, type BranchInputs } from '../common/branch-pr.ts';

export interface RollbackInputs extends BranchInputs {
  model: string;
  reason?: string;
}

export function parseInputs(get: InputGetter): RollbackInputs {
  const reason = get('reason');
  return {
    model: required(get, 'model'),
    ...(reason ? { reason } : {}),
    ...parseBranchInputs(get, 'pinml,rollback'),
  };
}

export function run(
  get: InputGetter = runnerInput,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  return runAction(async () => {
    const inputs = parseInputs(get);
    const { repo, tip } = await openBase(inputs, env);
    const plan = planRollback(
      await readModelState(repo, tip, inputs.model),
      await readHistory(repo, tip, inputs.model),
    );
    const body = [
      `## ${plan.title}`,
      '',
      inputs.reason ? `**Why:** ${inputs.reason}` : '',
      '',
      `This reverts ${plan.revert?.commit ?? ''}, the commit that set production to v${plan.from}` +
        (plan.revert?.mainline ? ' (a merge commit, reverted with mainline 1)' : '') +
        `. Production goes back to v${plan.to}; v${plan.from} stays registered and is never re-promoted by a later rollback.`,
      '',
    ].join('\n');
    const result = await propose({ repo, inputs, plan, body, env });
    core.setOutput('from', String(plan.from));
    core.setOutput('to', String(plan.to));
    await writeSummary(
      `### pinml: ${plan.title} (${result.operation}): [#${result.number}](${result.url})\n`,
    );
  });
}
