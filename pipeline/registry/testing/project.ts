/**
 * Test helpers for the registry: a small Iris configuration whose candidates train in a tenth
 * of a second, run folders trained once per test file, and throw-away project repositories made
 * with the real git CLI (the pinml CLI run in-process is `pipeline/testing/run-cli.ts`).
 *
 * Test helper only: product code never imports it.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readCodeVersion } from '../../code-version.ts';
import { parseConfig, selectModels, type ModelConfig } from '../../config.ts';
import { readDataset } from '../../dataset.ts';
import { gitCli, gitEnv, type GitCli } from '../../git/testing/git-cli.ts';
import { writeRunFolder } from '../../run-folder.ts';
import { IRIS_CSV, irisProject, irisTestConfig } from '../../testing/iris.ts';
import { trainModel, type TrainRun } from '../../train.ts';

export { IRIS_CSV };

/** Candidates of {@link irisConfigYaml}: each trains to its own training key. */
export type Candidate = 'forest-a' | 'forest-b' | 'forest-c' | 'logistic';

/** The fast Iris test configuration (`irisTestConfig`) with its four candidates, on `dataset`. */
export function irisConfigYaml(dataset = 'data/iris.csv'): string {
  return irisTestConfig({ dataset });
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
      const d = await irisProject(await dir('project'), { config: irisConfigYaml() });
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
