/**
 * promote: pins a registered version as production on the standing branch
 * `pinml/promote-<model>` and opens (or updates) its one pull request, with the report as
 * body, through the propose step (which keeps a stale run from proposing an older version).
 * With `withdraw` (a hold or reject), it closes that pull request instead when the decision, or
 * a newer production pin, makes it wrong.
 */
import * as core from '@actions/core';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../../pipeline/errors.ts';
import { proposePromotion, withdrawStalePromotion } from '../../pipeline/propose.ts';
import { listModels, readModelState } from '../../pipeline/registry/registry.ts';
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
  withdraw: 'hold' | 'reject' | 'production-changed';
}

/** `target: registered`: the versions the push that started the run registered. */
export interface RegisteredInputs extends branch.BranchInputs {
  registered: true;
}

export function parseInputs(
  get: action.InputGetter,
): PromoteInputs | WithdrawInputs | RegisteredInputs {
  const withdraw = get('withdraw');
  if (withdraw === '' && get('target') === 'registered')
    return { registered: true, ...branch.parseBranchInputs(get, 'pinml,promotion') };
  // After a production change, every model's proposal may be looked at (target empty).
  const target = withdraw === 'production-changed' ? get('target') : action.required(get, 'target');
  if (withdraw !== '') {
    if (withdraw !== 'hold' && withdraw !== 'reject' && withdraw !== 'production-changed')
      throw new UsageError(
        `input "withdraw" must be hold, reject or production-changed, not "${withdraw}"`,
      );
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

/**
 * `withdraw`: closes the standing promotion pull request when the decision makes it wrong; with
 * `production-changed` and no model, looks at every model of the registry.
 */
async function withdraw(inputs: WithdrawInputs, env: NodeJS.ProcessEnv): Promise<void> {
  const decision = inputs.withdraw;
  const trainedAt = env.GITHUB_SHA ?? '';
  if (decision !== 'production-changed' && !/^[0-9a-f]{40}$/.test(trainedAt))
    throw new UsageError('GITHUB_SHA is not a commit: withdraw runs in GitHub Actions');
  const { input } = await branch.proposeInput(inputs, env);
  const models = inputs.model === '' ? await listModels(input.repo, input.at) : [inputs.model];
  const lines: string[] = [];
  const closed: { model: string; number?: number; url?: string }[] = [];
  for (const model of models) {
    const outcome = await withdrawStalePromotion(
      decision === 'production-changed'
        ? { ...input, model, decision }
        : { ...input, model, decision, trainedAt },
    );
    if (outcome.status === 'unchanged') {
      core.info(`${model}: ${outcome.reason}`);
      lines.push(`### pinml: the promotion proposal stands: ${outcome.reason}\n`);
      continue;
    }
    const pr = outcome.pullRequest;
    closed.push({ model, ...(pr ? { number: pr.number, url: pr.url } : {}) });
    lines.push(
      `### pinml: closed the proposal of ${ref(model, outcome.version)}${pr ? ` ([#${pr.number}](${pr.url}))` : ''}: ${outcome.reason}\n`,
    );
  }
  action.setOutputs({
    operation: closed.length > 0 ? 'closed' : 'unchanged',
    'pr-number': closed[0]?.number,
    'pr-url': closed[0]?.url,
    closed: JSON.stringify(closed),
  });
  await action.writeSummary(lines.join('\n') || '### pinml: no model to look at\n');
}

/**
 * `target: registered` (registry.yml, after a registration pull request merged): proposes the
 * promotion of each version the push registered — cards there at the push's `after` and not at
 * its `before` — whose card decided `promote`.
 */
async function promoteRegistered(inputs: RegisteredInputs, env: NodeJS.ProcessEnv): Promise<void> {
  const event = JSON.parse(
    await readFile(env.GITHUB_EVENT_PATH ?? '', 'utf8').catch(() => '{}'),
  ) as {
    before?: unknown;
  };
  const before =
    typeof event.before === 'string' && !/^0+$/.test(event.before) ? event.before : undefined;
  if (before === undefined) {
    action.setOutputs({ operation: 'unchanged', proposed: '[]' });
    return action.writeSummary('### pinml: no push to compare with: nothing proposed\n');
  }
  const { input } = await branch.proposeInput({ ...inputs, model: '' }, env);
  const lines: string[] = [];
  const proposed: string[] = [];
  for (const model of await listModels(input.repo, input.at)) {
    const now = await readModelState(input.repo, input.at, model);
    // A model new in this push has no state before it.
    const was = await readModelState(input.repo, before, model).catch(() => undefined);
    const had = new Set((was?.cards ?? []).map((c) => c.version));
    const added = now.cards.filter((c) => !had.has(c.version));
    const newest = added.at(-1);
    if (newest === undefined) continue;
    if (newest.decision.action !== 'promote') {
      lines.push(
        `### pinml: ${ref(model, newest.version)} registered with decision ${newest.decision.action}: not proposed\n`,
      );
      continue;
    }
    const proposal = await proposePromotion({ ...input, model, version: newest.version });
    if (proposal.status === 'unchanged') {
      lines.push(`### pinml: ${proposal.reason}\n`);
      continue;
    }
    const { link } = branch.proposalOutputs(proposal);
    proposed.push(ref(model, newest.version));
    lines.push(
      `### pinml: ${ref(model, newest.version)} proposed for production (${proposal.operation}): ${link}\n`,
    );
  }
  action.setOutputs({
    operation: proposed.length > 0 ? 'created' : 'unchanged',
    proposed: JSON.stringify(proposed),
  });
  await action.writeSummary(lines.join('\n') || '### pinml: the push registered no version\n');
}

export function run(get = action.runnerInput, env = process.env): Promise<void> {
  return action.runAction(async () => {
    const inputs = parseInputs(get);
    action.useCommitIdentity(get, env);
    if ('withdraw' in inputs) return withdraw(inputs, env);
    if ('registered' in inputs) return promoteRegistered(inputs, env);
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
