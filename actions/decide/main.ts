/**
 * decide: merges the candidates' run folders (one per matrix job) into the run of the model,
 * applies the gate, compares the winner with production on the same hold-out rows and decides
 * promote, hold or reject (the decide step). Writes the merged run folder (with
 * `assessment.json`, which register records in the card) and the promotion report.
 */
import * as core from '@actions/core';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  decideRunFolders,
  decisionLine,
  decisionMarkdown,
  missingMarkdown,
} from '../../pipeline/decide.ts';
import { SUMMARY_FILE } from '../../pipeline/pr-report.ts';
import { defaultReportDir } from '../../pipeline/report-files.ts';
import * as action from '../common/action.ts';

export interface DecideInputs {
  model: string;
  runs: string;
  out?: string;
  base: string;
  remote: string;
  token: string;
  registers: boolean;
}

export function parseInputs(get: action.InputGetter): DecideInputs {
  return {
    model: action.required(get, 'model'),
    runs: action.required(get, 'runs'),
    ...action.optional(get, 'out', 'out'),
    base: get('base') || action.defaultBranch(),
    remote: get('remote') || 'origin',
    token: get('github-token'),
    registers: (get('registers') || 'true') !== 'false',
  };
}

export function run(get = action.runnerInput, env = process.env): Promise<void> {
  return action.runAction(async () => {
    const { remote, base, token, registers, ...inputs } = parseInputs(get);
    const { root, repo } = action.openRepository(token, env);
    const at = (): Promise<string> => repo.fetch({ remote, branch: base });
    const commit = env.GITHUB_SHA ?? null;
    const decided = await decideRunFolders({ ...inputs, root, repo, at, commit });
    const relative = (file?: string): string | undefined => file && path.relative(root, file);
    action.setOutputs({
      'run-dir': relative(decided.runDir),
      missing: decided.missing.join(','),
      registers: String(registers),
      chosen: decided.run.record.chosen.name,
      gate: decided.gate,
      decision: decided.decision.action,
      production: decided.gate === 'passed' ? (decided.production ?? '') : undefined,
      report: relative(decided.files?.markdown),
      'report-json': relative(decided.files?.json),
    });
    if (decided.gate === 'failed') action.warn(decisionLine(decided));
    else core.info(decisionLine(decided));
    if (decided.missing.length > 0) {
      action.warn(
        `not trained: ${decided.missing.join(', ')} (the training job failed); decided among the others`,
      );
    }
    const pull = /^refs\/pull\/(\d+)\/merge$/.exec(env.GITHUB_REF ?? '')?.[1];
    const where = (env.GITHUB_REF ?? '').replace(/^refs\/heads\//, '') || 'this ref';
    const notRegistered = registers
      ? ''
      : pull !== undefined
        ? `> **Report only:** pull request #${pull}, merged into \`${base}\` for this run; nothing is registered until it is merged.\n\n`
        : `> **Not registered:** this run is on \`${where}\`; pinml registers and proposes only from \`${base}\`, the default branch. The report below is for review.\n\n`;
    if (!registers && pull === undefined) {
      action.warn(
        `not registered: this run is on ${where}; pinml registers and proposes only from ${base}`,
      );
    }
    const summary = notRegistered + missingMarkdown(decided.missing) + decisionMarkdown(decided);
    // The summary as a file too, beside the report: report.yml uploads the folder for the
    // pull request's comment (a gate that failed has a summary and no report).
    const reportDir = defaultReportDir(root, inputs.model);
    await mkdir(reportDir, { recursive: true });
    await writeFile(path.join(reportDir, SUMMARY_FILE), summary);
    action.setOutputs({
      summary: relative(path.join(reportDir, SUMMARY_FILE)),
      'report-dir': relative(reportDir),
    });
    await action.writeSummary(summary);
  });
}
