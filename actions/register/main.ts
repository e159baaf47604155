/**
 * register: commits the run folder's model as the next registry version and pushes it,
 * fetching, re-planning and retrying when the branch moved. Idempotent by training key.
 */
import * as core from '@actions/core';
import path from 'node:path';
import { registerRunFolder } from '../../pipeline/registry/apply.ts';
import { ref } from '../../pipeline/registry/messages.ts';
import * as action from '../common/action.ts';

export interface RegisterInputs {
  runDir: string;
  branch: string;
  remote: string;
  token: string;
  commit?: string;
}

export function parseInputs(get: action.InputGetter): RegisterInputs {
  return {
    runDir: action.required(get, 'run-dir'),
    branch: get('branch') || action.defaultBranch(),
    remote: get('remote') || 'origin',
    token: get('github-token'),
    ...action.optional(get, 'commit', 'commit'),
  };
}

export function run(get = action.runnerInput, env = process.env): Promise<void> {
  return action.runAction(async () => {
    const inputs = parseInputs(get);
    action.useCommitIdentity(get, env);
    const { root, repo } = action.openRepository(inputs.token, env);
    const result = await registerRunFolder(repo, {
      dir: path.resolve(root, inputs.runDir),
      branch: inputs.branch,
      remote: inputs.remote,
      commitish: inputs.commit ?? env.GITHUB_SHA ?? 'HEAD',
      now: () => new Date(),
    });
    const version = ref(result.model, result.version);
    action.setOutputs({
      status: result.status,
      version: result.version,
      ref: version,
      commit: result.commit,
      retries: result.retries,
    });
    const what =
      result.status === 'created'
        ? `registered **${version}** in commit \`${result.commit.slice(0, 12)}\`` +
          (result.retries > 0 ? ` after ${result.retries} rejected push(es)` : '')
        : `**${version}** already has this training key: nothing registered`;
    core.info(what.replace(/\*\*|`/g, ''));
    // The version is registered either way; the note says what the runner's clone could not do.
    if (result.note) action.warn(result.note);
    await action.writeSummary(`### pinml: ${what}\n${result.note ? `\n> ${result.note}\n` : ''}`);
  });
}
