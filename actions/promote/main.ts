/**
 * promote: pins a registered version as production on the standing branch
 * `pinml/promote-<model>` and opens (or updates) its one pull request, with the report as
 * body, through the propose step (which keeps a stale run from proposing an older version).
 * With `withdraw` (a hold or reject), it closes that pull request instead when the decision, or
 * a newer production pin, makes it wrong.
 */
import * as core from '@actions/core';
import path from 'node:path';
import { UsageError } from '../../pipeline/errors.ts';
import { proposePromotion, withdrawStalePromotion } from '../../pipeline/propose.ts';
import { parseModelRef, ref } from '../../pipeline/registry/messages.ts';
import * as action from '../common/action.ts';
import * as branch from '../common/branch.ts';

export interface PromoteInputs extends branch.BranchInputs {
  model: string;
  version: number;
  report?: string;
}

export interface WithdrawInputs extends branch.BranchInputs {
  model: string;
  withdraw: 'hold' | 'reject';
}

export function parseInputs(get: action.InputGetter): PromoteInputs | WithdrawInputs {
  const target = action.required(get, 'target');
  const withdraw = get('withdraw');
  if (withdraw !== '') {
    if (withdraw !== 'hold' && withdraw !== 'reject')
      throw new UsageError(`input "withdraw" must be hold or reject, not "${withdraw}"`);
    const model = parseModelRef(target)?.model ?? target;
    return { model, withdraw, ...branch.parseBranchInputs(get, 'pinml,promotion') };
  }
  const parsed = parseModelRef(target);
  if (parsed?.version === undefined)
    throw new UsageError(`input "target" must be model@version (iris@3), not "${target}"`);
  return {
    model: parsed.model,
    version: parsed.version,
    ...action.optional(get, 'report', 'report'),
    ...branch.parseBranchInputs(get, 'pinml,promotion'),
  };
}

/** `withdraw`: closes the standing promotion pull request when the decision makes it wrong. */
async function withdraw(inputs: WithdrawInputs, env: NodeJS.ProcessEnv): Promise<void> {
  const trainedAt = env.GITHUB_SHA ?? '';
  if (!/^[0-9a-f]{40}$/.test(trainedAt))
    throw new UsageError('GITHUB_SHA is not a commit: withdraw runs in GitHub Actions');
  const { input } = await branch.proposeInput(inputs, env);
  const outcome = await withdrawStalePromotion({ ...input, decision: inputs.withdraw, trainedAt });
  if (outcome.status === 'unchanged') {
    action.setOutputs({ operation: 'unchanged' });
    core.info(outcome.reason);
    return action.writeSummary(`### pinml: the promotion proposal stands: ${outcome.reason}\n`);
  }
  const pr = outcome.pullRequest;
  action.setOutputs({ operation: 'closed', 'pr-number': pr?.number, 'pr-url': pr?.url });
  await action.writeSummary(
    `### pinml: closed the proposal of ${ref(inputs.model, outcome.version)}${pr ? ` ([#${pr.number}](${pr.url}))` : ''}: ${outcome.reason}\n`,
  );
}

export function run(get = action.runnerInput, env = process.env): Promise<void> {
  return action.runAction(async () => {
    const inputs = parseInputs(get);
    action.useCommitIdentity(get, env);
    if ('withdraw' in inputs) return withdraw(inputs, env);
    const { root, input } = await branch.proposeInput(inputs, env);
    const report = inputs.report === undefined ? {} : { report: path.resolve(root, inputs.report) };
    const proposal = await proposePromotion({ ...input, version: inputs.version, ...report });
    if (proposal.status === 'unchanged') {
      action.setOutputs({ operation: 'unchanged' });
      core.info(proposal.reason);
      return action.writeSummary(`### pinml: ${proposal.reason}\n`);
    }
    const { outputs, link } = branch.proposalOutputs(proposal);
    action.setOutputs({ ...outputs, branch: proposal.plan.branch, commit: proposal.commit });
    const what = `${ref(inputs.model, inputs.version)} proposed for production`;
    await action.writeSummary(`### pinml: ${what} (${proposal.operation}): ${link}\n`);
  });
}
