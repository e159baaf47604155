/**
 * train: cross-validates one candidate (a matrix job) or all of a model's candidates, and writes
 * the run folder the workflow uploads as an artifact.
 */
import * as core from '@actions/core';
import path from 'node:path';
import { renderRun } from '../../pipeline/run-summary.ts';
import type { TrainEvent } from '../../pipeline/train.ts';
import { parseThreads, trainOneModel } from '../../pipeline/workspace.ts';
import * as action from '../common/action.ts';

export interface TrainInputs {
  config: string;
  model?: string;
  candidate?: string;
  out?: string;
}

export function parseInputs(get: action.InputGetter): TrainInputs {
  return {
    config: get('config') || 'pinml.yaml',
    ...action.optional(get, 'model', 'model'),
    ...action.optional(get, 'candidate', 'candidate'),
    ...action.optional(get, 'out', 'out'),
  };
}

/** A log line per candidate trained. */
function logCandidate(e: TrainEvent): void {
  if (e.type !== 'candidate-done') return;
  const f1 = e.result.cv.mean.macroF1.toFixed(4);
  core.info(`${e.result.name}: cv macro-F1 ${f1} (${e.seconds.toFixed(1)} s)`);
}

export function run(get = action.runnerInput): Promise<void> {
  return action.runAction(async () => {
    const { candidate, out, ...inputs } = parseInputs(get);
    const root = action.workspace();
    const runDir = (name: string): string => (candidate ? `${name}-${candidate}` : name);
    const { model, run, ...trained } = await trainOneModel(root, {
      ...inputs,
      ...(candidate ? { only: [candidate] } : {}),
      out: (m) => path.resolve(root, out ?? path.join('.pinml', 'runs', runDir(m.name))),
      onEvent: () => logCandidate,
      choose: 'set the "model" input',
      threads: parseThreads(process.env.PINML_TRAIN_THREADS),
    });
    const { chosen, gate } = run.record;
    action.setOutputs({
      'run-dir': path.relative(root, trained.out),
      model: model.name,
      chosen: chosen.name,
      accuracy: String(chosen.holdout.accuracy),
      'macro-f1': String(chosen.holdout.macroF1),
      gate: gate.passed ? 'passed' : 'failed',
      'training-key': chosen.trainingKey,
    });
    const summary = `### pinml: trained ${model.name}\n\n\`\`\`\n${renderRun(run.record)}\`\`\`\n`;
    await action.writeSummary(summary);
  });
}
