/**
 * comment: writes the report of a pull request's report run (report.yml) as its one comment.
 * It runs from `workflow_run` on the default branch with the write token, so a fork's pull
 * request gets its report without its own code ever holding one; the artifact is read as data
 * (`pipeline/pr-report.ts`), and the pull request is the open one whose head is the run's
 * head commit (a run of an older commit comments nothing).
 */
import * as core from '@actions/core';
import { readFileSync } from 'node:fs';
import { UsageError } from '../../pipeline/errors.ts';
import { pullOfRun, runHead, upsertComment } from '../../pipeline/github/comments.ts';
import { readReportArtifacts, REPORT_MARKER, reportComment } from '../../pipeline/pr-report.ts';
import * as action from '../common/action.ts';
import { repository } from '../common/branch.ts';

export interface CommentInputs {
  reports: string;
  token: string;
}

export function parseInputs(get: action.InputGetter): CommentInputs {
  return { reports: action.required(get, 'reports'), token: get('github-token') };
}

interface WorkflowRunPayload {
  workflow_run?: {
    event?: unknown;
    conclusion?: unknown;
    html_url?: unknown;
  } & Record<string, unknown>;
}

export function run(get = action.runnerInput, env = process.env): Promise<void> {
  return action.runAction(async () => {
    const inputs = parseInputs(get);
    core.setSecret(inputs.token);
    const payload = JSON.parse(
      readFileSync(env.GITHUB_EVENT_PATH ?? '', 'utf8'),
    ) as WorkflowRunPayload;
    const completed = payload.workflow_run;
    const head = runHead(completed);
    if (env.GITHUB_EVENT_NAME !== 'workflow_run' || !completed || !head)
      throw new UsageError(
        `pinml comment runs on workflow_run (of report.yml), not ${env.GITHUB_EVENT_NAME ?? 'outside Actions'}`,
      );
    if (completed.event !== 'pull_request') {
      action.setOutputs({ operation: 'skipped' });
      core.info(`the report run was started by ${String(completed.event)}, not a pull request`);
      return;
    }
    const where = repository(env);
    const client = action.githubClient(inputs.token, env);
    const number = await pullOfRun(client, where, head);
    if (number === undefined) {
      action.setOutputs({ operation: 'skipped' });
      core.info(
        `no open pull request has ${head.headSha.slice(0, 7)} as its head any more: the newer commit's run writes the report`,
      );
      return;
    }
    const body = reportComment({
      reports: await readReportArtifacts(inputs.reports),
      conclusion: typeof completed.conclusion === 'string' ? completed.conclusion : 'unknown',
      headSha: head.headSha,
      runUrl: typeof completed.html_url === 'string' ? completed.html_url : '',
    });
    const result = await upsertComment(client, { ...where, number }, REPORT_MARKER, body);
    action.setOutputs({
      operation: result.operation,
      'pr-number': number,
      'comment-url': result.url,
    });
    await action.writeSummary(
      `### pinml: report on pull request #${number} (${result.operation}): ${result.url}\n`,
    );
  });
}
