/**
 * train: cross-validates one candidate (a matrix job) or all of a model's candidates, and writes
 * the run folder the workflow uploads as an artifact.
 */
import * as core from '@actions/core';
import path from 'node:path';
import { selectModels } from '../../pipeline/config.ts';
import { UsageError } from '../../pipeline/errors.ts';
import { writeRunFolder } from '../../pipeline/run-folder.ts';
import { renderRun } from '../../pipeline/run-summary.ts';
import { parseThreads, readConfig, trainWorkspaceModel } from '../../pipeline/workspace.ts';
import {
  runnerInput,
  runAction,
  workspace,
  writeSummary,
  type InputGetter,
} from '../common/action.ts';

export interface TrainInputs {
  config: string;
  model?: string;
  candidate?: string;
  out?: string;
}

export function parseInputs(get: InputGetter): TrainInputs {
  const [model, candidate, out] = [get('model'), get('candidate'), get('out')];
  return {
    config: get('config') || 'pinml.yaml',
    ...(model ? { model } : {}),
    ...(candidate ? { candidate } : {}),
    ...(out ? { out } : {}),
  };
}

export function run(get: InputGetter = runnerInput): Promise<void> {
  return runAction(async () => {
    const inputs = parseInputs(get);
    const root = workspace();
    const models = selectModels(await readConfig(root, inputs.config), inputs.model);
    const model = models[0];
    if (!model || models.length > 1) {
      throw new UsageError(
        `pinml.yaml defines several models (${models.map((m) => m.name).join(', ')}): set the "model" input`,
      );
    }
    const out = path.resolve(
      root,
      inputs.out ??
        path.join(
          '.pinml',
          'runs',
          inputs.candidate ? `${model.name}-${inputs.candidate}` : model.name,
        ),
    );
    const run = await trainWorkspaceModel(root, model, {
      ...(inputs.candidate ? { only: [inputs.candidate] } : {}),
      threads: parseThreads(process.env.PINML_TRAIN_THREADS),
      onEvent: (e) => {
        if (e.type === 'candidate-done') {
          core.info(
            `${e.result.name}: cv macro-F1 ${e.result.cv.mean.macroF1.toFixed(4)} (${e.seconds.toFixed(1)} s)`,
          );
        }
      },
    });
    await writeRunFolder(out, run);
    const { chosen, gate } = run.record;
    core.setOutput('run-dir', path.relative(root, out));
    core.setOutput('model', model.name);
    core.setOutput('chosen', chosen.name);
    core.setOutput('accuracy', String(chosen.holdout.accuracy));
    core.setOutput('macro-f1', String(chosen.holdout.macroF1));
    core.setOutput('gate', gate.passed ? 'passed' : 'failed');
    core.setOutput('training-key', chosen.trainingKey);
    await writeSummary(
      `### pinml: trained ${model.name}\n\n\`\`\`\n${renderRun(run.record)}\`\`\`\n`,
    );
  });
}
