/**
 * predict: scores a file of the workspace with the version a ref pins (or one named), as
 * `pinml predict` does, and puts the summary in the job summary.
 */
import { availableParallelism } from 'node:os';
import path from 'node:path';
import * as core from '@actions/core';
import { UsageError } from '../../pipeline/errors.ts';
import { formatOf, predictFile, versionAt } from '../../pipeline/predict/file.ts';
import { parseModelRef, ref } from '../../pipeline/registry/messages.ts';
import * as action from '../common/action.ts';

export interface PredictInputs {
  model: string;
  version?: number;
  ref: string;
  input: string;
  output: string;
  format: string;
  outputFormat: string;
  idColumn?: string;
  labelColumn?: string;
  proba: boolean;
  onError: 'fail' | 'skip';
  rejects?: string;
}

export function parseInputs(get: action.InputGetter): PredictInputs {
  const target = action.required(get, 'model');
  const parsed = parseModelRef(target);
  if (!parsed) throw new UsageError(`model "${target}": write it as iris or iris@3`);
  const onError = get('on-error') || 'fail';
  if (onError !== 'fail' && onError !== 'skip') {
    throw new UsageError(`on-error ${onError}: write fail or skip`);
  }
  const proba = get('proba') || 'false';
  if (proba !== 'true' && proba !== 'false') {
    throw new UsageError(`proba ${proba}: write true or false`);
  }
  return {
    model: parsed.model,
    ...(parsed.version !== undefined ? { version: parsed.version } : {}),
    ref: get('ref') || 'HEAD',
    input: action.required(get, 'input'),
    output: action.required(get, 'output'),
    format: get('format'),
    outputFormat: get('output-format'),
    ...action.optional(get, 'id-column', 'idColumn'),
    ...action.optional(get, 'label-column', 'labelColumn'),
    proba: proba === 'true',
    onError,
    ...action.optional(get, 'rejects', 'rejects'),
  };
}

export function run(get = action.runnerInput, env = process.env): Promise<void> {
  return action.runAction(async () => {
    const inputs = parseInputs(get);
    const root = action.workspace(env);
    const { repo } = action.openRepository('', env);
    const version = await versionAt(repo, inputs.ref, inputs.model, inputs.version);
    const inputFormat = formatOf(inputs.format, inputs.input, 'csv');
    const summary = await predictFile({
      version,
      input: path.resolve(root, inputs.input),
      inputName: inputs.input,
      output: path.resolve(root, inputs.output),
      inputFormat,
      outputFormat: formatOf(inputs.outputFormat, inputs.output, inputFormat),
      idColumn: inputs.idColumn,
      labelColumn: inputs.labelColumn,
      proba: inputs.proba,
      onError: inputs.onError,
      rejects: inputs.rejects === undefined ? undefined : path.resolve(root, inputs.rejects),
      threads: availableParallelism(),
    });
    const scored = ref(summary.model, summary.version);
    action.setOutputs({
      version: scored,
      rows: summary.rows,
      rejected: summary.rejected,
      accuracy: summary.metrics?.accuracy,
      'macro-f1': summary.metrics?.macroF1,
    });
    const m = summary.metrics;
    const lines = [
      `### pinml: scored ${summary.rows} rows of \`${inputs.input}\` with **${scored}**`,
      '',
      `Commit \`${summary.commit.slice(0, 12)}\`, into \`${inputs.output}\`` +
        (summary.rejected > 0 ? `; ${summary.rejected} rows rejected` : '') +
        '.',
      '',
      '| class | predicted |',
      '| --- | ---: |',
      ...Object.entries(summary.predicted).map(([c, n]) => `| ${c} | ${n} |`),
    ];
    if (m !== undefined) {
      lines.push(
        '',
        `Against \`${inputs.labelColumn ?? ''}\`: accuracy **${m.accuracy}**, macro-F1 **${m.macroF1}** on ${m.rows} rows.`,
        '',
        `| true \\ predicted | ${m.classes.join(' | ')} |`,
        `| --- | ${m.classes.map(() => '---:').join(' | ')} |`,
        ...m.confusion.map((row, t) => `| ${m.classes[t] ?? ''} | ${row.join(' | ')} |`),
      );
    }
    core.info(
      `scored ${summary.rows} rows with ${scored}${summary.rejected ? `, ${summary.rejected} rejected` : ''}`,
    );
    await action.writeSummary(`${lines.join('\n')}\n`);
  });
}
