/**
 * prepare: validates pinml.yaml and every dataset, hashes them, checks that the running
 * workflow's `paths:` filter covers them, and lists the candidates as the training matrix.
 */
import * as core from '@actions/core';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError } from '../../pipeline/errors.ts';
import { assertPathsCover, runningWorkflow } from '../../pipeline/workflow-paths.ts';
import { prepareModels } from '../../pipeline/workspace.ts';
import * as action from '../common/action.ts';

/** GitHub's cap on the jobs one matrix makes. */
export const MAX_MATRIX_JOBS = 256;

export interface PrepareInputs {
  config: string;
  model?: string;
}

export function parseInputs(get: action.InputGetter): PrepareInputs {
  return { config: get('config') || 'pinml.yaml', ...action.optional(get, 'model', 'model') };
}

export function run(get = action.runnerInput): Promise<void> {
  return action.runAction(async () => {
    const inputs = parseInputs(get);
    const root = action.workspace();
    const models = await prepareModels(root, inputs);
    // The workflow's `paths:` filter (of the event that runs it: a push trains, a pull request
    // is reported on) must cover pinml.yaml and every dataset, or a change to one would be missed.
    const workflow = runningWorkflow();
    const event = process.env.GITHUB_EVENT_NAME === 'pull_request' ? 'pull_request' : 'push';
    const text = workflow
      ? await readFile(path.join(root, workflow), 'utf8').catch(() => undefined)
      : undefined;
    if (workflow && text !== undefined) {
      assertPathsCover(
        workflow,
        text,
        [
          { path: inputs.config, namedBy: 'the configuration' },
          ...models.map((m) => ({
            path: m.dataset.path,
            namedBy: `pinml.yaml models.${m.model}.dataset`,
          })),
        ],
        event,
      );
    }
    const include = models.flatMap((m) =>
      m.candidates.map((candidate) => ({ model: m.model, candidate })),
    );
    if (include.length > MAX_MATRIX_JOBS) {
      throw new ConfigError([
        {
          file: inputs.config,
          field: 'models',
          message: `${include.length} candidates to train (${models.map((m) => `${m.model}: ${m.candidates.length}`).join(', ')}) are more than the ${MAX_MATRIX_JOBS} jobs GitHub runs in one matrix: train fewer candidates, or split the models between runs (the \`model\` input of a dispatch trains one)`,
        },
      ]);
    }
    core.setOutput('matrix', JSON.stringify({ include }));
    core.setOutput('models', JSON.stringify([...new Set(include.map((i) => i.model))]));
    const rows = models.map(
      ({ model, dataset, candidates }) =>
        `| ${model} | \`${dataset.path}\` | \`${dataset.sha256.slice(0, 12)}\` | ${dataset.rows} | ${candidates.join(', ')} |`,
    );
    await action.writeSummary(
      `### pinml: datasets and candidates\n\n| model | dataset | sha256 | rows | candidates |\n| --- | --- | --- | ---: | --- |\n${rows.join('\n')}\n`,
    );
  });
}
