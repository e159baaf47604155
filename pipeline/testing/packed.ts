/**
 * The `pinml` package as another team gets it: `npm pack` of this repository installed into an
 * empty project (from npm's cache, as `npm ci` left it). Test helper only.
 */
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from './runtimes.ts';

const run = promisify(execFile);

export interface Installed {
  /** The installed `pinml` command (`node_modules/.bin/pinml`). */
  bin: string;
  /** What `npm pack --json` said: the tarball's name and its files. */
  packed: { filename: string; files: { path: string }[] };
}

/** Packs this repository into `root` and installs the tarball into `root/consumer`. */
export async function installPacked(root: string): Promise<Installed> {
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', root], {
    cwd: repoRoot,
  });
  const packed = (JSON.parse(stdout) as Installed['packed'][])[0] as Installed['packed'];
  const consumer = path.join(root, 'consumer');
  await mkdir(consumer);
  await writeFile(path.join(consumer, 'package.json'), '{ "name": "consumer", "private": true }\n');
  await run(
    'npm',
    ['install', path.join(root, packed.filename), '--no-audit', '--no-fund', '--prefer-offline'],
    { cwd: consumer },
  );
  return { bin: path.join(consumer, 'node_modules', '.bin', 'pinml'), packed };
}

/** `pinml init`'s model arguments for the bundled Iris dataset. */
export const IRIS_INIT_ARGS: readonly string[] = [
  '--model',
  'iris',
  '--dataset',
  'data/iris.csv',
  '--features',
  'sepal_length,sepal_width,petal_length,petal_width',
  '--label',
  'species',
];
