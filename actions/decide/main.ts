/**
 * decide: merges the candidates' run folders (one per matrix job) into the run of the model,
 * applies the gate, compares the winner with production on the same hold-out rows and decides
 * promote, hold or reject. Writes the merged run folder (with `assessment.json`, which register
 * records in the card) and the promotion report.
 */
import * as core from '@actions/core';
import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  compareRun,
  defaultReportDir,
  readRunDataset,
  writeReportFiles,
} from '../../pipeline/compare-run.ts';
import { RunFolderError } from '../../pipeline/errors.ts';
import { GitRepo } from '../../pipeline/git/repo.ts';
import { canonicalJson } from '../../pipeline/json.ts';
import { renderReportMarkdown } from '../../pipeline/report.ts';
import {
  ASSESSMENT_FILE,
  mergeRuns,
  readRunFolder,
  writeRunFolder,
} from '../../pipeline/run-folder.ts';
import { renderGate } from '../../pipeline/run-summary.ts';
import {
  required,
  runnerInput,
  runAction,
  workspace,
  writeSummary,
  type InputGetter,
} from '../common/action.ts';

export interface DecideInputs {
  model: string;
  runs: string;
  out?: string;
  base: string;
  remote: string;
  token: string;
}

export function parseInputs(get: InputGetter): DecideInputs {
  const out = get('out');
  return {
    model: required(get, 'model'),
    runs: required(get, 'runs'),
    ...(out ? { out } : {}),
    base: get('base') || 'main',
    remote: get('remote') || 'origin',
    token: get('github-token'),
  };
}

/** Run folders under `dir` (itself, or its sub-folders as download-artifact lays them out). */
async function findRunFolders(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => {
    throw new RunFolderError(
      `${dir} does not exist: download the candidates' run folders there first`,
    );
  });
  if (entries.some((e) => e.isFile() && e.name === 'run.json')) return [dir];
  return entries
    .filter((e) => e.isDirectory())
    .map((e) => path.join(dir, e.name))
    .sort();
}

export function run(
  get: InputGetter = runnerInput,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  return runAction(async () => {
    const inputs = parseInputs(get);
    if (inputs.token) core.setSecret(inputs.token);
    const root = workspace(env);
    const runs = [];
    for (const dir of await findRunFolders(path.resolve(root, inputs.runs))) {
      const folder = await readRunFolder(dir);
      if (folder.record.model === inputs.model) runs.push({ dir, run: folder });
    }
    if (runs.length === 0)
      throw new RunFolderError(`no run folder of model "${inputs.model}" under ${inputs.runs}`);
    const merged = mergeRuns(runs);
    const out = path.resolve(root, inputs.out ?? path.join('.pinml', 'runs', inputs.model));
    await writeRunFolder(out, merged);
    const { record } = merged;
    core.setOutput('run-dir', path.relative(root, out));
    core.setOutput('chosen', record.chosen.name);
    core.setOutput('gate', record.gate.passed ? 'passed' : 'failed');
    if (!record.gate.passed) {
      core.setOutput('decision', 'reject');
      core.warning(
        `${inputs.model}: ${record.chosen.name} failed the gate: ${record.gate.reasons.join('; ')}`,
      );
      await writeSummary(
        `### pinml: ${inputs.model} not registered: the gate failed\n\n\`\`\`\n${renderGate(record.gate)}\n\`\`\`\n`,
      );
      return;
    }
    const repo = GitRepo.open(root, inputs.token ? { token: inputs.token } : {});
    const tip = await repo.fetch({ remote: inputs.remote, branch: inputs.base });
    const result = await compareRun({
      repo,
      at: tip,
      run: merged,
      dataset: await readRunDataset(root, record),
      commit: env.GITHUB_SHA ?? null,
    });
    if (result.assessment)
      await writeFile(path.join(out, ASSESSMENT_FILE), canonicalJson(result.assessment));
    const files = await writeReportFiles(defaultReportDir(root, inputs.model), result.report);
    core.setOutput('decision', result.decision.action);
    core.setOutput('production', result.production === null ? '' : String(result.production));
    core.setOutput('report', path.relative(root, files.markdown));
    core.setOutput('report-json', path.relative(root, files.json));
    core.info(`${inputs.model}: ${result.decision.action}: ${result.decision.reasons.join('; ')}`);
    await writeSummary(renderReportMarkdown(result.report));
  });
}
