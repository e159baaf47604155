/**
 * monitor: judges every served model's live quality (`pipeline/live/monitor.ts`) and, with
 * `propose`, opens the pull request each judgement calls for: the rollback of a degraded
 * production, else the promotion or removal of its canary.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as core from '@actions/core';
import { PinmlError } from '../../pipeline/errors.ts';
import { canonicalJson } from '../../pipeline/json.ts';
import { monitorLive, type ModelLive } from '../../pipeline/live/monitor.ts';
import { serverLogSource } from '../../pipeline/log/source.ts';
import { parseDuration } from '../../pipeline/log/window.ts';
import * as action from '../common/action.ts';
import * as branch from '../common/branch.ts';

export interface MonitorInputs extends branch.BranchInputs {
  models: string[];
  since?: string;
  propose: boolean;
  server: { url: string; token: string };
  reportDir?: string;
}

export function parseInputs(get: action.InputGetter): MonitorInputs {
  const since = get('since');
  if (since !== '') parseDuration(since, 'input "since"');
  return {
    models: get('model') === '' ? [] : [get('model')],
    ...(since === '' ? {} : { since }),
    propose: action.boolean(get, 'propose'),
    server: { url: action.required(get, 'server-url'), token: action.required(get, 'admin-token') },
    ...action.optional(get, 'report-dir', 'reportDir'),
    ...branch.parseBranchInputs(get, 'pinml,monitor'),
  };
}

function summaryOf(outcomes: readonly ModelLive[]): string {
  return outcomes
    .map((o) => {
      if (o.report === null)
        return `### pinml monitor: ${o.model} could not be judged\n\n${o.error ?? ''}\n`;
      const pr = o.proposal?.status === 'applied' ? o.proposal.pullRequest : undefined;
      const link =
        pr === undefined
          ? ''
          : `\n\nPull request: [#${pr.number}](${pr.url}) (${o.proposal?.status === 'applied' ? o.proposal.operation : ''})\n`;
      return `${o.markdown}${link}${o.error === null ? '' : `\n\n**${o.error}**\n`}`;
    })
    .join('\n---\n\n');
}

export function run(get = action.runnerInput, env = process.env): Promise<void> {
  return action.runAction(async () => {
    const inputs = parseInputs(get);
    action.useCommitIdentity(get, env);
    core.setSecret(inputs.server.token);
    const source = serverLogSource(inputs.server);
    const now = Date.now();
    let outcomes: ModelLive[];
    const common = {
      models: inputs.models,
      source,
      now,
      ...(inputs.since ? { window: inputs.since } : {}),
    };
    if (inputs.propose) {
      // The registry at the remote's tip, pushing there, and the pull requests on GitHub.
      const { input } = await branch.proposeInput({ ...inputs, model: '' }, env);
      const { repo, base, at, model: _model, ...propose } = input;
      outcomes = await monitorLive({ ...common, repo, base, at, propose });
    } else {
      const { repo } = action.openRepository(inputs.token, env);
      outcomes = await monitorLive({
        ...common,
        repo,
        base: inputs.base,
        at: await repo.resolve('HEAD'),
        propose: null,
      });
    }
    const root = action.workspace(env);
    const reportDir = path.resolve(
      inputs.reportDir ?? path.join(env.RUNNER_TEMP ?? root, 'pinml-monitor'),
    );
    for (const o of outcomes) {
      if (o.report === null) continue;
      const dir = path.join(reportDir, o.model);
      await mkdir(dir, { recursive: true });
      await writeFile(path.join(dir, 'live.md'), o.markdown);
      await writeFile(path.join(dir, 'live.json'), canonicalJson(o.report));
    }
    action.setOutputs({
      act: JSON.stringify(outcomes.filter((o) => o.act !== null).map((o) => o.model)),
      acts: JSON.stringify(
        outcomes.map((o) => ({
          model: o.model,
          act: o.act ?? 'none',
          operation: o.proposal?.status === 'applied' ? o.proposal.operation : 'none',
          number:
            o.proposal?.status === 'applied' ? (o.proposal.pullRequest?.number ?? null) : null,
        })),
      ),
      'report-dir': reportDir,
    });
    await action.writeSummary(summaryOf(outcomes));
    const failed = outcomes.filter((o) => o.error !== null);
    if (failed.length > 0) {
      throw new PinmlError(
        'E_MONITOR',
        failed.map((o) => `${o.model}: ${o.error ?? ''}`).join('\n'),
        {
          models: failed.map((o) => o.model),
        },
      );
    }
  });
}
