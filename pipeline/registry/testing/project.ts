/**
 * Test helpers for the registry: a small Iris configuration whose candidates train in a tenth
 * of a second, run folders trained once per test file, and throw-away project repositories made
 * with the real git CLI (the pinml CLI run in-process is `pipeline/testing/run-cli.ts`).
 *
 * Test helper only: product code never imports it.
 */
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readCodeVersion } from '../../code-version.ts';
import { parseConfig, selectModels, type ModelConfig } from '../../config.ts';
import { readDataset } from '../../dataset.ts';
import { gitCli, gitEnv, type GitCli } from '../../git/testing/git-cli.ts';
import { writeRunFolder } from '../../run-folder.ts';
import { repoRoot } from '../../testing/runtimes.ts';
import { trainModel, type TrainRun } from '../../train.ts';

/** The bundled Iris dataset. */
export const IRIS_CSV = path.join(repoRoot, 'data', 'iris.csv');

/** Candidates of {@link irisConfigYaml}: each trains to its own training key. */
export type Candidate = 'forest-a' | 'forest-b' | 'forest-c' | 'logistic';

/**
 * The bundled Iris model with small candidates (10 trees, 3 folds) so that tests train fast.
 * The three forests differ only in their seed, which is enough to give distinct training keys.
 */
export function irisConfigYaml(dataset = 'data/iris.csv'): string {
  return `version: 1
models:
  iris:
    dataset: ${dataset}
    features: [sepal_length, sepal_width, petal_length, petal_width]
    label: species
    classes: [setosa, versicolor, virginica]
    split: { holdout: 0.3, folds: 3, seed: 42 }
    candidates:
      - { name: forest-a, algorithm: random-forest, params: { trees: 10, maxDepth: 3 } }
      - { name: forest-b, algorithm: random-forest, seed: 7, params: { trees: 10, maxDepth: 3 } }
      - { name: forest-c, algorithm: random-forest, seed: 8, params: { trees: 10, maxDepth: 3 } }
      - { name: logistic, algorithm: ml-logistic-regression, params: { steps: 100, learningRate: 4 } }
    gate: { minAccuracy: 0.85, minMacroF1: 0.85 }
`;
}

/** The Iris model of {@link irisConfigYaml}, training on `dataset`. */
export function irisModel(dataset = 'data/iris.csv'): ModelConfig {
  return selectModels(parseConfig(irisConfigYaml(dataset)), 'iris')[0] as ModelConfig;
}

/**
 * Trains one candidate on `dataset` (relative to `root`, as committed in a project) and writes
 * its run folder to `out`.
 */
export async function trainRunFolder(
  root: string,
  out: string,
  options: { candidate: Candidate; dataset?: string },
): Promise<TrainRun> {
  const model = irisModel(options.dataset);
  const dataset = await readDataset(root, {
    path: model.dataset,
    features: model.features,
    label: model.label,
    ...(model.classes ? { classes: model.classes } : {}),
    minRowsPerClass: model.split.folds,
  });
  const run = trainModel({
    model,
    dataset,
    code: await readCodeVersion(),
    only: [options.candidate],
  });
  await writeRunFolder(out, run);
  return run;
}

/** A temp folder for one test file, the real git CLI with a fixed identity, and projects in it. */
export interface Workspace {
  root: string;
  git: GitCli['git'];
  gitStatus: GitCli['gitStatus'];
  /** A new empty folder under the workspace. */
  dir(name: string): Promise<string>;
  /**
   * A new git repository (branch `main`) whose first commit holds `pinml.yaml`,
   * `data/iris.csv` and `files`.
   */
  project(files?: Record<string, string>): Promise<string>;
  remove(): Promise<void>;
}

export async function createWorkspace(prefix: string): Promise<Workspace> {
  const root = await mkdtemp(path.join(tmpdir(), `pinml-${prefix}-`));
  const { git, gitStatus } = gitCli(() => gitEnv(root));
  let seq = 0;
  const dir = async (name: string): Promise<string> => {
    seq += 1;
    const d = path.join(root, `${name}-${seq}`);
    await mkdir(d, { recursive: true });
    return d;
  };
  return {
    root,
    git,
    gitStatus,
    dir,
    async project(files = {}) {
      const d = await dir('project');
      await mkdir(path.join(d, 'data'), { recursive: true });
      await copyFile(IRIS_CSV, path.join(d, 'data', 'iris.csv'));
      await writeFile(path.join(d, 'pinml.yaml'), irisConfigYaml());
      for (const [name, content] of Object.entries(files)) {
        await mkdir(path.dirname(path.join(d, name)), { recursive: true });
        await writeFile(path.join(d, name), content);
      }
      await git(d, 'init', '--quiet', '--initial-branch=main');
      await git(d, 'add', '--all');
      await git(d, 'commit', '--quiet', '-m', 'Initial commit');
      return d;
    },
    remove: () => rm(root, { recursive: true, force: true }),
  };
}

/**
 * A workspace with a run folder per candidate (`<root>/run-a`, `run-b`, …), each trained on a
 * project of the workspace: what the registry tests start from.
 */
export async function createTrainedWorkspace<const C extends readonly Candidate[]>(
  prefix: string,
  candidates: C,
): Promise<{ ws: Workspace; runs: { [K in keyof C]: string } }> {
  const ws = await createWorkspace(prefix);
  const source = await ws.project();
  const runs: string[] = [];
  for (const [i, candidate] of candidates.entries()) {
    const out = path.join(ws.root, `run-${String.fromCharCode(97 + i)}`);
    await trainRunFolder(source, out, { candidate });
    runs.push(out);
  }
  return { ws, runs: runs as { [K in keyof C]: string } };
}

/** Every ref of a repository and HEAD, as `git for-each-ref` prints them. */
export async function allRefs(git: GitCli['git'], dir: string): Promise<string> {
  const refs = await git(dir, 'for-each-ref', '--format=%(refname) %(objectname)');
  const head = await git(dir, 'symbolic-ref', '--quiet', 'HEAD');
  return `HEAD -> ${head}\n${refs}`;
}

/** Iris rows (without the header) and the header, to build other datasets from. */
export async function irisRows(): Promise<{ header: string; rows: string[] }> {
  const [header, ...rows] = (await readFile(IRIS_CSV, 'utf8')).trimEnd().split('\n');
  return { header: header ?? '', rows };
}
