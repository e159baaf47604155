/**
 * register: commits the run folder's model as the next registry version and pushes it,
 * fetching, re-planning and retrying when the branch moved. Idempotent by training key.
 */
import * as core from '@actions/core';
import path from 'node:path';
import { UsageError } from '../../pipeline/errors.ts';
import type { GitRepo } from '../../pipeline/git/repo.ts';
import { requestAutoMerge } from '../../pipeline/github/pulls.ts';
import { commitThroughApi } from '../../pipeline/github/git-database.ts';
import { proposeRegistration } from '../../pipeline/propose.ts';
import { registerRunFolder, type RegisterOptions } from '../../pipeline/registry/apply.ts';
import { readReportBody } from '../../pipeline/report-files.ts';
import { readAssessment, readRunFolder } from '../../pipeline/run-folder.ts';
import { syncGtoTags } from '../../pipeline/registry/gto-sync.ts';
import { ref } from '../../pipeline/registry/messages.ts';
import * as action from '../common/action.ts';
import * as branch from '../common/branch.ts';

export interface RegisterInputs {
  runDir: string;
  branch: string;
  remote: string;
  token: string;
  commit?: string;
  gtoTags: boolean;
  /**
   * `git` (push), `api` (GitHub's git database: a commit GitHub signs) or `pull-request` (the
   * registration commit on `pinml/register-<model>` and its pull request).
   */
  commitVia: 'git' | 'api' | 'pull-request';
  /** The decide step's report (report.json), for the registration pull request's body. */
  report?: string;
}

export function parseInputs(get: action.InputGetter): RegisterInputs {
  return {
    runDir: action.required(get, 'run-dir'),
    branch: get('branch') || action.defaultBranch(),
    remote: get('remote') || 'origin',
    token: get('github-token'),
    ...action.optional(get, 'commit', 'commit'),
    gtoTags: action.boolean(get, 'gto-tags'),
    commitVia: commitVia(get('commit-via') || 'git'),
    ...action.optional(get, 'report', 'report'),
  };
}

function commitVia(value: string): RegisterInputs['commitVia'] {
  if (value !== 'git' && value !== 'api' && value !== 'pull-request')
    throw new UsageError(
      `input "commit-via" must be git, api or pull-request, got ${JSON.stringify(value)}`,
    );
  return value;
}

/** Registration through GitHub's git database API (`commit-via: api`). */
function apiPublisher(
  repo: GitRepo,
  token: string,
  env: NodeJS.ProcessEnv,
): NonNullable<RegisterOptions['publish']> {
  const github = action.githubClient(token, env);
  return async ({ tip, files, message, branch: target }) =>
    commitThroughApi(github, {
      ...branch.repository(env),
      branch: target,
      parent: tip,
      parentTree: (await repo.readCommit(tip)).tree,
      files,
      message,
    });
}

/** `commit-via: pull-request`: the registration as its pull request; merging it registers. */
async function registerByPullRequest(
  inputs: RegisterInputs,
  env: NodeJS.ProcessEnv,
): Promise<void> {
  const dir = path.resolve(action.workspace(env), inputs.runDir);
  const run = await readRunFolder(dir);
  const model = run.record.model;
  const { root, input } = await branch.proposeInput(
    {
      model,
      base: inputs.branch,
      remote: inputs.remote,
      labels: ['pinml', 'registration'],
      token: inputs.token,
    },
    env,
  );
  const assessment = await readAssessment(dir);
  const reportFile = inputs.report === undefined ? undefined : path.resolve(root, inputs.report);
  const commit = await input.repo.resolve(inputs.commit ?? env.GITHUB_SHA ?? 'HEAD');
  const proposal = await proposeRegistration({
    ...input,
    run,
    commit,
    now: () => new Date(),
    ...(assessment ? { assessment } : {}),
    body: (version) =>
      reportFile === undefined
        ? Promise.resolve(
            `Registers ${ref(model, version)} (training key \`${run.record.chosen.trainingKey.slice(0, 12)}\`).\n`,
          )
        : readReportBody(reportFile, version),
  });
  if (proposal.status === 'unchanged') {
    action.setOutputs({ status: 'unchanged' });
    core.info(proposal.reason);
    return action.writeSummary(`### pinml: ${proposal.reason}\n`);
  }
  const target = ref(model, proposal.version);
  const { outputs, link } = branch.proposalOutputs(proposal);
  // Merged by GitHub once the ruleset's requirements pass, where the repository allows it.
  const nodeId = proposal.pullRequest?.nodeId;
  const refusedAutoMerge =
    nodeId === undefined
      ? 'no pull request'
      : await requestAutoMerge(action.githubClient(inputs.token, env), nodeId);
  if (refusedAutoMerge !== undefined)
    action.warn(
      `auto-merge of the registration pull request not requested (${refusedAutoMerge}): merge it to register ${target}`,
    );
  action.setOutputs({
    ...outputs,
    status: 'proposed',
    version: proposal.version,
    ref: target,
    'auto-merge': refusedAutoMerge === undefined ? 'requested' : 'unavailable',
  });
  await action.writeSummary(
    `### pinml: ${target} proposed for registration (${proposal.operation}): ${link}. Merging it registers ${target}; registry.yml then proposes its promotion.\n\n${refusedAutoMerge === undefined ? 'Auto-merge requested: GitHub merges it once the ruleset allows.' : `Auto-merge not requested: ${refusedAutoMerge}.`}\n`,
  );
}

export function run(get = action.runnerInput, env = process.env): Promise<void> {
  return action.runAction(async () => {
    const inputs = parseInputs(get);
    action.useCommitIdentity(get, env);
    if (inputs.commitVia === 'pull-request') return registerByPullRequest(inputs, env);
    const { root, repo } = action.openRepository(inputs.token, env);
    const publish = inputs.commitVia === 'api' ? apiPublisher(repo, inputs.token, env) : undefined;
    const result = await registerRunFolder(repo, {
      ...(publish ? { publish } : {}),
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
