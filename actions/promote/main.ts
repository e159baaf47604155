/**
 * promote: pins a registered version as production on the standing branch
 * `pinml/promote-<model>` and opens (or updates) its one pull request, with the report as body.
 */
import * as core from '@actions/core';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { GitError, UsageError } from '../../pipeline/errors.ts';
import type { GitRepo } from '../../pipeline/git/repo.ts';
import { parseModelRef, ref } from '../../pipeline/registry/messages.ts';
import { planPromotion } from '../../pipeline/registry/plan.ts';
import { paths } from '../../pipeline/registry/paths.ts';
import {
  cardOf,
  parseEntry,
  readArtifact,
  readModelState,
} from '../../pipeline/registry/registry.ts';
import { pinsSchema } from '../../pipeline/registry/schema.ts';
import { renderReportMarkdown, type PromotionReport } from '../../pipeline/report.ts';
import { renderCard } from '../../pipeline/registry/render.ts';
import {
  required,
  runnerInput,
  runAction,
  writeSummary,
  type InputGetter,
} from '../common/action.ts';
import { openBase, parseBranchInputs, propose, type BranchInputs } from '../common/branch-pr.ts';

export interface PromoteInputs extends BranchInputs {
  model: string;
  version: number;
  report?: string;
}

export function parseInputs(get: InputGetter): PromoteInputs {
  const target = required(get, 'target');
  const parsed = parseModelRef(target);
  if (parsed?.version === undefined)
    throw new UsageError(`input "target" must be model@version (iris@3), not "${target}"`);
  const report = get('report');
  return {
    model: parsed.model,
    version: parsed.version,
    ...(report ? { report } : {}),
    ...parseBranchInputs(get, 'pinml,promotion'),
  };
}

/** The version the standing promotion branch on the remote pins, if the branch exists. */
async function proposedVersion(
  repo: GitRepo,
  remote: string,
  branch: string,
  model: string,
): Promise<number | undefined> {
  let tip: string;
  try {
    tip = await repo.fetch({ remote, branch });
  } catch (e) {
    if (e instanceof GitError && e.reason === 'not-found') return undefined;
    throw e;
  }
  const text = await repo.readText(tip, paths.pins(model));
  return text === undefined
    ? undefined
    : (parseEntry(pinsSchema, text, paths.pins(model), tip).production ?? undefined);
}

/**
 * The pull request body: the report as decide wrote it. From its JSON form it is rendered
 * again with the version number register gave the candidate.
 */
async function reportBody(file: string, version: number): Promise<string> {
  const text = await readFile(file, 'utf8');
  if (!file.endsWith('.json')) return text;
  const report = JSON.parse(text) as PromotionReport;
  return renderReportMarkdown({ ...report, candidate: { ...report.candidate, version } });
}

export function run(
  get: InputGetter = runnerInput,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  return runAction(async () => {
    const inputs = parseInputs(get);
    const { root, repo, tip } = await openBase(inputs, env);
    const state = await readModelState(repo, tip, inputs.model);
    // Never propose an artifact that would not load: check its hash before pinning it.
    await readArtifact(repo, tip, cardOf(state, inputs.version));
    const plan = planPromotion(state, inputs.version);
    if ('status' in plan) {
      core.setOutput('operation', 'unchanged');
      core.info(plan.reason);
      await writeSummary(`### pinml: ${plan.reason}\n`);
      return;
    }
    // A stale or out-of-order run must not take the standing pull request back to an older version.
    const proposed = await proposedVersion(repo, inputs.remote, plan.branch, inputs.model);
    if (
      proposed !== undefined &&
      proposed > inputs.version &&
      proposed !== state.pins?.production
    ) {
      const reason = `the promotion pull request already proposes ${ref(inputs.model, proposed)}, newer than ${ref(inputs.model, inputs.version)}`;
      core.setOutput('operation', 'unchanged');
      core.info(reason);
      await writeSummary(`### pinml: ${reason}\n`);
      return;
    }
    const body = inputs.report
      ? await reportBody(path.resolve(root, inputs.report), inputs.version)
      : `## ${plan.title}\n\n\`\`\`\n${renderCard(cardOf(state, inputs.version), false)}\`\`\`\n`;
    const result = await propose({ repo, inputs, plan, body, env });
    core.setOutput('branch', plan.branch);
    core.setOutput('commit', result.commit);
    await writeSummary(
      `### pinml: ${ref(inputs.model, inputs.version)} proposed for production (${result.operation}): [#${result.number}](${result.url})\n`,
    );
  });
}
