/**
 * prepare: validates pinml.yaml and every dataset, hashes them, and lists the candidates as
 * the training matrix.
 */
import * as core from '@actions/core';
import { readConfig, readModelDataset } from '../../pipeline/workspace.ts';
import { selectModels } from '../../pipeline/config.ts';
import {
  runnerInput,
  runAction,
  workspace,
  writeSummary,
  type InputGetter,
} from '../common/action.ts';

export interface PrepareInputs {
  config: string;
  model?: string;
}

export function parseInputs(get: InputGetter): PrepareInputs {
  const model = get('model');
  return { config: get('config') || 'pinml.yaml', ...(model ? { model } : {}) };
}

export function run(get: InputGetter = runnerInput): Promise<void> {
  return runAction(async () => {
    const inputs = parseInputs(get);
    const root = workspace();
    const config = await readConfig(root, inputs.config);
    const include: { model: string; candidate: string }[] = [];
    const lines = [
      '| model | dataset | sha256 | rows | candidates |',
      '| --- | --- | --- | ---: | --- |',
    ];
    for (const model of selectModels(config, inputs.model)) {
      const dataset = await readModelDataset(root, model);
      for (const c of model.candidates) include.push({ model: model.name, candidate: c.name });
      lines.push(
        `| ${model.name} | \`${dataset.path}\` | \`${dataset.sha256.slice(0, 12)}\` | ${dataset.rows} | ${model.candidates.map((c) => c.name).join(', ')} |`,
      );
    }
    core.setOutput('matrix', JSON.stringify({ include }));
    core.setOutput('models', JSON.stringify([...new Set(include.map((i) => i.model))]));
    await writeSummary(`### pinml: datasets and candidates\n\n${lines.join('\n')}\n`);
  });
}
