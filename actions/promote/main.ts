/**
 * promote: pins a registered version as production on the standing branch
 * `pinml/promote-<model>` and opens (or updates) its one pull request, with the report as
 * body, through the propose step (which keeps a stale run from proposing an older version).
 */
import * as core from '@actions/core';
import path from 'node:path';
import { UsageError } from '../../pipeline/errors.ts';
import { proposePromotion } from '../../pipeline/propose.ts';
import { parseModelRef, ref } from '../../pipeline/registry/messages.ts';
import * as action from '../common/action.ts';
import * as branch from '../common/branch.ts';

export interface PromoteInputs extends branch.BranchInputs {
  model: string;
  version: number;
  report?: string;
}

export function parseInputs(get: action.InputGetter): PromoteInputs {
  const target = action.required(get, 'target');
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

export function run(get = action.runnerInput, env = process.env): Promise<void> {
  return action.runAction(async () => {
    const inputs = parseInputs(get);
    action.useCommitIdentity(get, env);
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
