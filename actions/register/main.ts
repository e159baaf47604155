/**
 * register: commits the run folder's model as the next registry version and pushes it,
 * fetching, re-planning and retrying when the branch moved. Idempotent by training key.
 */
import * as core from '@actions/core';
import path from 'node:path';
import { GitRepo } from '../../pipeline/git/repo.ts';
import { registerRun } from '../../pipeline/registry/apply.ts';
import { ref } from '../../pipeline/registry/messages.ts';
import { readAssessment, readRunFolder } from '../../pipeline/run-folder.ts';
import {
  required,
  runnerInput,
  runAction,
  workspace,
  writeSummary,
  type InputGetter,
} from '../common/action.ts';

export interface RegisterInputs {
  runDir: string;
  branch: string;
  remote: string;
  token: string;
  commit?: string;
}

export function parseInputs(get: InputGetter): RegisterInputs {
  const commit = get('commit');
  return {
    runDir: required(get, 'run-dir'),
    branch: get('branch') || 'main',
    remote: get('remote') || 'origin',
    token: get('github-token'),
    ...(commit ? { commit } : {}),
  };
}

export function run(
  get: InputGetter = runnerInput,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  return runAction(async () => {
    const inputs = parseInputs(get);
    if (inputs.token) core.setSecret(inputs.token);
    const root = workspace(env);
    const repo = GitRepo.open(root, inputs.token ? { token: inputs.token } : {});
    const runDir = path.resolve(root, inputs.runDir);
    const runFolder = await readRunFolder(runDir);
    const assessment = await readAssessment(runDir);
    const commit = await repo.resolve(inputs.commit ?? env.GITHUB_SHA ?? 'HEAD');
    const result = await registerRun(repo, {
      run: runFolder,
      branch: inputs.branch,
      remote: inputs.remote,
      commit,
      now: () => new Date(),
      ...(assessment ? { assessment } : {}),
    });
    core.setOutput('status', result.status);
    core.setOutput('version', String(result.version));
    core.setOutput('ref', ref(result.model, result.version));
    core.setOutput('commit', result.commit);
    core.setOutput('retries', String(result.retries));
    const what =
      result.status === 'created'
        ? `registered **${ref(result.model, result.version)}** in commit \`${result.commit.slice(0, 12)}\`` +
          (result.retries > 0 ? ` after ${result.retries} rejected push(es)` : '')
        : `**${ref(result.model, result.version)}** already has this training key: nothing registered`;
    core.info(what.replace(/\*\*|`/g, ''));
    await writeSummary(`### pinml: ${what}\n`);
  });
}
