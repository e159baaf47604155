/**
 * register: commits the run folder's model as the next registry version and pushes it,
 * fetching, re-planning and retrying when the branch moved. Idempotent by training key.
 */
import * as core from '@actions/core';
import path from 'node:path';
import { registerRunFolder } from '../../pipeline/registry/apply.ts';
import { syncGtoTags } from '../../pipeline/registry/gto-sync.ts';
import { ref } from '../../pipeline/registry/messages.ts';
import * as action from '../common/action.ts';

export interface RegisterInputs {
  runDir: string;
  branch: string;
  remote: string;
  token: string;
  commit?: string;
  gtoTags: boolean;
}

export function parseInputs(get: action.InputGetter): RegisterInputs {
  return {
    runDir: action.required(get, 'run-dir'),
    branch: get('branch') || action.defaultBranch(),
    remote: get('remote') || 'origin',
    token: get('github-token'),
    ...action.optional(get, 'commit', 'commit'),
    gtoTags: action.boolean(get, 'gto-tags'),
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
    // The version is registered: a tag that cannot be written now is a warning (registry.yml,
    // or the next registration, writes what is missing).
    const tags = inputs.gtoTags
      ? await syncGtoTags({
          repo,
          branch: inputs.branch,
          remote: inputs.remote,
          models: [result.model],
        }).catch((e: unknown) => {
          action.warn(`GTO tags not written: ${(e as Error).message}`);
          return undefined;
        })
      : undefined;
    for (const skipped of tags?.skipped ?? []) action.warn(skipped);
    action.setOutputs({
      status: result.status,
      version: result.version,
      ref: version,
      commit: result.commit,
      retries: result.retries,
      tags: JSON.stringify(tags?.written.map((t) => t.name) ?? []),
    });
    const what =
      result.status === 'created'
        ? `registered **${version}** in commit \`${result.commit.slice(0, 12)}\`` +
          (result.retries > 0 ? ` after ${result.retries} rejected push(es)` : '')
        : `**${version}** already has this training key: nothing registered`;
    core.info(what.replace(/\*\*|`/g, ''));
    // The version is registered either way; the note says what the runner's clone could not do.
    if (result.note) action.warn(result.note);
    const tagged = tags?.written.length
      ? `\nGTO tags: ${tags.written.map((t) => `\`${t.name}\``).join(', ')}\n`
      : '';
    await action.writeSummary(
      `### pinml: ${what}\n${result.note ? `\n> ${result.note}\n` : ''}${tagged}`,
    );
  });
}
