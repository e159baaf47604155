/**
 * The content of a user's model repository for action tests: pinml.yaml reduced to fast
 * candidates, the Iris dataset (or a variant of it), and, for workflow tests, the workflows
 * and the actions with their committed bundles, as a repository using pinml's actions holds them.
 *
 * Test helper only.
 */
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { FAST_SHIPPED_CANDIDATES, shippedIrisConfig } from '../../pipeline/testing/iris.ts';
import { repoRoot } from './run-action.ts';

export { FAST_SHIPPED_CANDIDATES as FAST_CANDIDATES };

/** pinml.yaml of this repository with only `candidates` kept (and fewer bootstrap resamples). */
export function reducedConfig(
  candidates: readonly string[] = FAST_SHIPPED_CANDIDATES,
): Promise<string> {
  return shippedIrisConfig({ candidates, resamples: 500 });
}

/** data/iris.csv of this repository. */
export function irisCsv(): Promise<string> {
  return readFile(path.join(repoRoot, 'data', 'iris.csv'), 'utf8');
}

/** The dataset without the data rows numbered in `drop` (1-based, the header not counted). */
export function withoutRows(csv: string, drop: readonly number[]): string {
  const [header, ...rows] = csv.replace(/\n$/, '').split('\n');
  return [header, ...rows.filter((_, i) => !drop.includes(i + 1))].join('\n') + '\n';
}

/** pinml.yaml and the dataset: what the actions need in the workspace. */
export async function modelRepositoryFiles(): Promise<Record<string, string>> {
  return { 'pinml.yaml': await reducedConfig(), 'data/iris.csv': await irisCsv() };
}

/**
 * What a repository that runs pinml's workflows holds besides its models: the workflow files
 * and every action's action.yml and committed bundle (`uses: ./actions/<name>`).
 */
export async function workflowRepositoryFiles(): Promise<Record<string, string>> {
  const files: Record<string, string> = await modelRepositoryFiles();
  const workflows = path.join(repoRoot, '.github', 'workflows');
  for (const name of await readdir(workflows)) {
    files[`.github/workflows/${name}`] = await readFile(path.join(workflows, name), 'utf8');
  }
  for (const entry of await readdir(path.join(repoRoot, 'actions'), { withFileTypes: true })) {
    const dir = path.join(repoRoot, 'actions', entry.name);
    const metadata = await readFile(path.join(dir, 'action.yml'), 'utf8').catch(() => undefined);
    if (!entry.isDirectory() || metadata === undefined) continue;
    files[`actions/${entry.name}/action.yml`] = metadata;
    files[`actions/${entry.name}/dist/index.js`] = await readFile(
      path.join(dir, 'dist', 'index.js'),
      'utf8',
    );
  }
  return files;
}
