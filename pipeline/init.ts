/**
 * `pinml init`: scaffolds pinml into another repository: a `pinml.yaml` to edit, the
 * workflows (using the published actions instead of this repository's local ones), the
 * registry's README and schemas, and a note for the data folder. Planned as a list of files,
 * then written; an existing file is left alone unless `force` is set.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where pinml's own files are (the package root). */
const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface InitOptions {
  /** The repository the workflows take the actions from, e.g. `acme/pinml`. */
  actionsRepo: string;
  /** The tag or commit of those actions, e.g. `v1`. */
  actionsRef: string;
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
# Reference: https://github.com/${o.actionsRepo}#configuration
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

/** The files `pinml init` writes (pure apart from reading pinml's own templates). */
export async function planInit(options: InitOptions): Promise<PlannedFile[]> {
  const read = (p: string): Promise<string> => readFile(path.join(packageRoot, p), 'utf8');
  const uses = (text: string): string =>
    text.replace(
      /uses: \.\/actions\/([\w-]+)/g,
      `uses: ${options.actionsRepo}/actions/$1@${options.actionsRef}`,
    );
  return [
    { path: 'pinml.yaml', content: STARTER(options) },
    {
      path: '.github/workflows/train.yml',
      content: uses(await read('.github/workflows/train.yml')),
    },
    {
      path: '.github/workflows/rollback.yml',
      content: uses(await read('.github/workflows/rollback.yml')),
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
