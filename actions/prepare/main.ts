/**
 * prepare: validates pinml.yaml and every dataset, hashes them, and lists the candidates as
 * the training matrix.
 */
import * as core from '@actions/core';
import { prepareModels } from '../../pipeline/workspace.ts';
import * as action from '../common/action.ts';

export interface PrepareInputs {
  config: string;
  model?: string;
}

export function parseInputs(get: action.InputGetter): PrepareInputs {
  return { config: get('config') || 'pinml.yaml', ...action.optional(get, 'model', 'model') };
}

export function run(get = action.runnerInput): Promise<void> {
  return action.runAction(async () => {
    const models = await prepareModels(action.workspace(), parseInputs(get));
    const include = models.flatMap((m) =>
      m.candidates.map((candidate) => ({ model: m.model, candidate })),
    );
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
