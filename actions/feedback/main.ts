/**
 * feedback: proposes the logged rows that got feedback as training data by one standing pull
 * request (`pipeline/feedback/propose.ts`, as `pinml data from-feedback`).
 */
import * as core from '@actions/core';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { proposeFeedback } from '../../pipeline/feedback/propose.ts';
import { readServerPages } from '../../pipeline/log/logs-client.ts';
import { parseInstant } from '../../pipeline/log/window.ts';
import * as action from '../common/action.ts';
import * as branch from '../common/branch.ts';

export interface FeedbackInputs extends branch.BranchInputs {
  model: string;
  since: string;
  server: { url: string; token: string };
  report?: string;
}

export function parseInputs(get: action.InputGetter): FeedbackInputs {
  return {
    model: action.required(get, 'model'),
    since: get('since') || '7d',
    server: { url: action.required(get, 'server-url'), token: action.required(get, 'admin-token') },
    ...action.optional(get, 'report', 'report'),
    ...branch.parseBranchInputs(get, 'pinml,data'),
  };
}

export function run(get = action.runnerInput, env = process.env): Promise<void> {
  return action.runAction(async () => {
    const { model, since, server, report, ...inputs } = parseInputs(get);
    action.useCommitIdentity(get, env);
    core.setSecret(server.token);
    const { root, input } = await branch.proposeInput({ ...inputs, model }, env);
    const now = Date.now();
    const window = { since, from: parseInstant(since, 'since', now), until: now };
    const pages = readServerPages({
      ...server,
      model,
      from: window.from,
      until: window.until,
      labelled: true,
    });
    const proposal = await proposeFeedback({
      ...input,
      pages,
      window,
      source: server.url,
      ...(report === undefined
        ? {}
        : { report: await readFile(path.resolve(root, report), 'utf8') }),
    });
    if (proposal.status === 'unchanged') {
      action.setOutputs({ operation: 'unchanged', rows: 0 });
      await action.writeSummary(
        `### pinml: no labelled rows of ${model} to propose: ${proposal.reason}\n`,
      );
      return;
    }
    const { outputs, link } = branch.proposalOutputs(proposal);
    const rows = proposal.plan.rows.added.length;
    action.setOutputs({ ...outputs, rows });
    await action.writeSummary(
      `### pinml: ${rows} labelled rows of ${model} proposed as data (${proposal.operation}): ${link}\n`,
    );
  });
}
