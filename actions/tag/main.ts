/**
 * tag: writes GTO's tags for the registry on the default branch (`pipeline/registry/gto.ts`),
 * after a production change lands there (registry.yml) — a promotion or a rollback is a pull
 * request, and its merge is the change GTO's `#prod#<n>` tag records.
 */
import * as core from '@actions/core';
import { syncGtoTags } from '../../pipeline/registry/gto-sync.ts';
import * as action from '../common/action.ts';

export interface TagInputs {
  models?: string[];
  base: string;
  remote: string;
  token: string;
}

export function parseInputs(get: action.InputGetter): TagInputs {
  return {
    ...(get('model') === '' ? {} : { models: [get('model')] }),
    base: get('base') || action.defaultBranch(),
    remote: get('remote') || 'origin',
    token: get('github-token'),
  };
}

export function run(get = action.runnerInput, env = process.env): Promise<void> {
  return action.runAction(async () => {
    const inputs = parseInputs(get);
    action.useCommitIdentity(get, env);
    const { repo } = action.openRepository(inputs.token, env);
    const result = await syncGtoTags({
      repo,
      branch: inputs.base,
      remote: inputs.remote,
      ...(inputs.models ? { models: inputs.models } : {}),
    });
    for (const skipped of result.skipped) action.warn(skipped);
    action.setOutputs({ tags: JSON.stringify(result.written.map((t) => t.name)) });
    const lines = result.written.map(
      (t) => `- \`${t.name}\`: ${t.message} (\`${t.commit.slice(0, 12)}\`)`,
    );
    core.info(lines.length > 0 ? lines.join('\n') : 'every GTO tag is there: nothing written');
    await action.writeSummary(
      `### pinml: GTO tags\n\n${lines.length > 0 ? lines.join('\n') : 'Every tag is there: nothing written.'}\n`,
    );
  });
}
