/**
 * rollback: opens the pull request that reverts the commit that set the production pin now in
 * effect, for a person or a monitor that decided the live model is worse (the propose step).
 */
import { proposeRollback } from '../../pipeline/propose.ts';
import * as action from '../common/action.ts';
import * as branch from '../common/branch.ts';

export interface RollbackInputs extends branch.BranchInputs {
  model: string;
  reason?: string;
}

export function parseInputs(get: action.InputGetter): RollbackInputs {
  return {
    model: action.required(get, 'model'),
    ...action.optional(get, 'reason', 'reason'),
    ...branch.parseBranchInputs(get, 'pinml,rollback'),
  };
}

export function run(get = action.runnerInput, env = process.env): Promise<void> {
  return action.runAction(async () => {
    const { reason, ...inputs } = parseInputs(get);
    action.useCommitIdentity(get, env);
    const { input } = await branch.proposeInput(inputs, env);
    const proposal = await proposeRollback({ ...input, ...(reason ? { reason } : {}) });
    const { plan } = proposal;
    const { outputs, link } = branch.proposalOutputs(proposal);
    action.setOutputs({ ...outputs, from: plan.from ?? undefined, to: plan.to ?? undefined });
    await action.writeSummary(`### pinml: ${plan.title} (${proposal.operation}): ${link}\n`);
  });
}
