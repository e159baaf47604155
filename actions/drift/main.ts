/**
 * drift: measures every served model's window of logged inputs against its training rows
 * and keeps one drift issue per model (the monitor of `pipeline/drift/monitor.ts`).
 */
import * as core from '@actions/core';
import path from 'node:path';
import { DEFAULT_MAX_ROWS } from '../../pipeline/drift/current.ts';
import { monitorDrift, type ModelDrift } from '../../pipeline/drift/monitor.ts';
import type { WindowSource } from '../../pipeline/drift/measure.ts';
import { renderDriftMarkdown } from '../../pipeline/drift/render.ts';
import { PinmlError, UsageError } from '../../pipeline/errors.ts';
import { repositoryIssues } from '../../pipeline/github/issues.ts';
import { parseInstant } from '../../pipeline/log/window.ts';
import * as action from '../common/action.ts';
import { repository } from '../common/branch.ts';

export interface DriftInputs {
  models: string[];
  since: string;
  reference: 'train' | 'holdout';
  maxRows: number;
  server: { url: string; token: string };
  issues: boolean;
  reportDir?: string;
  token: string;
}

export function parseInputs(get: action.InputGetter): DriftInputs {
  const reference = get('reference') || 'train';
  if (reference !== 'train' && reference !== 'holdout') {
    throw new UsageError(
      `input "reference" must be train or holdout, got ${JSON.stringify(reference)}`,
    );
  }
  const maxRows = Number(get('max-rows') || DEFAULT_MAX_ROWS);
  if (!Number.isInteger(maxRows) || maxRows < 1) {
    throw new UsageError(
      `input "max-rows" must be a whole number ≥ 1, got ${JSON.stringify(get('max-rows'))}`,
    );
  }
  return {
    models: get('model') === '' ? [] : [get('model')],
    since: get('since') || '24h',
    reference,
    maxRows,
    server: { url: action.required(get, 'server-url'), token: action.required(get, 'admin-token') },
    issues: action.boolean(get, 'issues', true),
    ...action.optional(get, 'report-dir', 'reportDir'),
    token: action.required(get, 'github-token'),
  };
}

function summaryOf(outcomes: readonly ModelDrift[]): string {
  return outcomes
    .map((o) => {
      if (o.report === null)
        return `### pinml drift: ${o.model} could not be measured\n\n${o.error ?? ''}\n`;
      const issue =
        o.issue?.number === undefined
          ? ''
          : `\n\nDrift issue: [#${o.issue.number}](${o.issue.url ?? ''}) (${o.issue.operation})\n`;
      return `${renderDriftMarkdown(o.report)}${issue}`;
    })
    .join('\n---\n\n');
}

export function run(get = action.runnerInput, env = process.env): Promise<void> {
  return action.runAction(async () => {
    const inputs = parseInputs(get);
    core.setSecret(inputs.server.token);
    const { root, repo } = action.openRepository(inputs.token, env);
    const now = new Date();
    const source: WindowSource = { kind: 'server', ...inputs.server };
    const client = action.githubClient(inputs.token, env);
    const reportDir = path.resolve(
      inputs.reportDir ?? path.join(env.RUNNER_TEMP ?? root, 'pinml-drift'),
    );
    const outcomes = await monitorDrift({
      repo,
      root,
      commit: await repo.resolve('HEAD'),
      refName: 'HEAD',
      models: inputs.models,
      window: { from: parseInstant(inputs.since, 'since', now.getTime()), until: now.getTime() },
      source,
      part: inputs.reference,
      maxRows: inputs.maxRows,
      now,
      reportDir,
      issues: inputs.issues ? repositoryIssues(client, repository(env)) : null,
    });
    const drifted = outcomes.filter((o) => o.report?.datasetDrift === true).map((o) => o.model);
    action.setOutputs({
      drift: String(drifted.length > 0),
      drifted: JSON.stringify(drifted),
      propose: JSON.stringify(outcomes.filter((o) => o.proposeData).map((o) => o.model)),
      issues: JSON.stringify(
        outcomes.map((o) => ({
          model: o.model,
          operation: o.issue?.operation ?? 'none',
          number: o.issue?.number ?? null,
        })),
      ),
      'report-dir': reportDir,
    });
    await action.writeSummary(summaryOf(outcomes));
    const failed = outcomes.filter((o) => o.report === null);
    if (failed.length > 0) {
      throw new PinmlError(
        'E_DRIFT',
        failed.map((o) => `${o.model}: ${o.error ?? 'not measured'}`).join('\n'),
        { models: failed.map((o) => o.model) },
      );
    }
  });
}
