/**
 * `pinml init`: scaffolds pinml into another repository: a `pinml.yaml` to edit, the
 * workflows (using the published actions instead of this repository's local ones), the
 * registry's README and schemas, and a note for the data folder. Planned as a list of files,
 * then written; an existing file is left alone unless `force` is set.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import type { HttpClient } from 'isomorphic-git';

import { UsageError } from './errors.ts';
import { GitRepo } from './git/repo.ts';
import { assertBranchName } from './git/validate.ts';
import { addPaths, uncoveredByAny } from './workflow-paths.ts';

/** Where pinml's own files are (the package root). */
const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface InitOptions {
  /** The repository the workflows take the actions from, e.g. `acme/pinml`. */
  actionsRepo: string;
  /**
   * The full commit SHA of those actions: the workflows pin pinml's actions as they pin every
   * third-party action ({@link resolveActions} turns a tag into one).
   */
  actionsCommit: string;
  /** The version that commit is, for the comment beside each pin (`# v1.2.0`). */
  actionsVersion: string;
  /** The repository's default branch: the one `train.yml` trains on. */
  branch: string;
  /** First model's name, dataset path, features and label for the starter pinml.yaml. */
  model: string;
  dataset: string;
  features: string[];
  label: string;
}

export interface PlannedFile {
  path: string;
  content: string;
}

const STARTER = (
  o: InitOptions,
): string => `# pinml.yaml: what the pipeline trains, how it judges candidates, and when it promotes.
# Reference: https://github.com/${o.actionsRepo}#configuration-pinmlyaml
version: 1
models:
  ${o.model}:
    dataset: ${o.dataset}
    features: [${o.features.join(', ')}]
    label: ${o.label}
    split: { holdout: 0.3, folds: 5, seed: 42 }
    candidates:
      - name: forest
        algorithm: random-forest
        params: { trees: 100, maxDepth: 10 }
      - name: logistic
        algorithm: logistic-regression
    gate: { minAccuracy: 0.8, minMacroF1: 0.8 }
    compare: { policy: non-inferiority, tolerance: 0.02 }
`;

const DATA_NOTE = `# data/

Datasets pinml trains on: CSV files with a header row, named by \`dataset:\` in pinml.yaml.
A push that changes a file here trains the models that use it. Files are hashed byte for byte
(\`.gitattributes\` keeps git from converting their line endings). Document each file here:
its source, licence, columns and units.
`;

const FULL_SHA = /^[0-9a-f]{40}$/;

/**
 * The commit and version of `owner/repo@ref` for the pins: a full SHA stays as it is (its
 * version is `version`, else the SHA); a tag or branch is looked up on the server
 * (`git ls-remote`, `serverUrl` default `GITHUB_SERVER_URL` else https://github.com).
 */
export async function resolveActions(
  repo: string,
  ref: string,
  options: { version?: string; serverUrl?: string; http?: HttpClient } = {},
): Promise<{ commit: string; version: string }> {
  if (FULL_SHA.test(ref)) return { commit: ref, version: options.version ?? ref };
  const server = (options.serverUrl ?? 'https://github.com').replace(/\/+$/, '');
  const url = `${server}/${repo}.git`;
  const commit = await GitRepo.remoteRefCommit(url, ref, options.http).catch((err: unknown) => {
    throw new UsageError(
      `cannot look up ${repo}@${ref} (${(err as Error).message}): pass the commit SHA ` +
        `(--actions ${repo}@<40 hex digits>) and --actions-version ${ref}`,
    );
  });
  if (commit === undefined) {
    throw new UsageError(
      `${url} has no tag or branch "${ref}": name a release tag of ${repo} (--actions ${repo}@v1.2.0)`,
    );
  }
  return { commit, version: options.version ?? ref };
}

/** The files `pinml init` writes (pure apart from reading pinml's own templates). */
export async function planInit(options: InitOptions): Promise<PlannedFile[]> {
  const read = (p: string): Promise<string> => readFile(path.join(packageRoot, p), 'utf8');
  if (!FULL_SHA.test(options.actionsCommit)) {
    throw new UsageError(
      `the actions must be pinned to a full commit SHA (40 hex digits), not "${options.actionsCommit}"`,
    );
  }
  assertBranchName(options.branch);
  const uses = (text: string): string =>
    text
      .replace(
        /uses: \.\/actions\/([\w-]+)/g,
        `uses: ${options.actionsRepo}/actions/$1@${options.actionsCommit} # ${options.actionsVersion}`,
      )
      .replace(/^(\s+branches: )\[main\]$/m, `$1[${options.branch}]`);
  const train = uses(await read('.github/workflows/train.yml'));
  const missing = uncoveredByAny(train, ['pinml.yaml', options.dataset]);
  const report = uses(await read('.github/workflows/report.yml'));
  const reportMissing = uncoveredByAny(report, ['pinml.yaml', options.dataset]);
  return [
    { path: 'pinml.yaml', content: STARTER(options) },
    // A dataset outside data/ joins the paths: filter, so a push that changes it trains.
    { path: '.github/workflows/train.yml', content: addPaths(train, missing) },
    {
      path: '.github/workflows/rollback.yml',
      content: uses(await read('.github/workflows/rollback.yml')),
    },
    // The report on a pull request that changes data, before it is merged (fork-safe: the
    // pull request's run has no write token and no secret; the comment is written from main).
    { path: '.github/workflows/report.yml', content: addPaths(report, reportMissing) },
    {
      path: '.github/workflows/report-comment.yml',
      content: uses(await read('.github/workflows/report-comment.yml')),
    },
    // GTO's tags of production changes (opt-in: the variable PINML_GTO_TAGS = true).
    {
      path: '.github/workflows/registry.yml',
      content: uses(await read('.github/workflows/registry.yml')),
    },
    { path: 'registry/README.md', content: await read('registry/README.md') },
    { path: 'registry/card.schema.json', content: await read('registry/card.schema.json') },
    { path: 'registry/pins.schema.json', content: await read('registry/pins.schema.json') },
    { path: 'data/README.md', content: DATA_NOTE },
    { path: '.gitattributes', content: 'data/** -text\nregistry/** -text\n' },
  ];
}

export type InitOutcome = 'created' | 'unchanged' | 'kept' | 'overwritten';

/** Writes the plan under `root`; an existing different file is kept unless `force`. */
export async function applyInit(
  root: string,
  files: readonly PlannedFile[],
  force = false,
): Promise<{ path: string; outcome: InitOutcome }[]> {
  const results: { path: string; outcome: InitOutcome }[] = [];
  for (const file of files) {
    const target = path.join(root, file.path);
    const existing = await readFile(target, 'utf8').catch(() => undefined);
    let outcome: InitOutcome;
    if (existing === file.content) outcome = 'unchanged';
    else if (existing !== undefined && !force) outcome = 'kept';
    else {
      await mkdir(path.dirname(target), { recursive: true });
      await writeFile(target, file.content);
      outcome = existing === undefined ? 'created' : 'overwritten';
    }
    results.push({ path: file.path, outcome });
  }
  return results;
}
