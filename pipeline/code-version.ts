/**
 * The code version that goes into every training key: the package version plus a hash of the
 * training source and of the versions of the learning libraries. It is not the commit, which
 * changes with every registration; it changes only when training could produce other bytes.
 */
import { readFile, readdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { sha256 } from './json.ts';

export interface CodeVersion {
  /** `package.json` version. */
  package: string;
  /** First 16 hex digits of the SHA-256 over the training source and library versions. */
  source: string;
  /** `<package>+<source>`, as printed and recorded. */
  id: string;
}

/** Files whose content decides what training produces (relative to `pipeline/`). */
export const TRAINING_SOURCES = ['dataset.ts', 'split.ts', 'metrics.ts', 'train.ts', 'json.ts'];
/** Libraries whose version decides what training produces. */
export const TRAINING_LIBRARIES = [
  'ml-random-forest',
  'ml-logistic-regression',
  'ml-matrix',
  'simple-statistics',
];

const pipelineDir = path.dirname(fileURLToPath(import.meta.url));

/** Computes the code version from a source tree (pure over the file contents it is given). */
export function codeVersionOf(
  packageVersion: string,
  sources: ReadonlyMap<string, string>,
  libraries: ReadonlyMap<string, string>,
): CodeVersion {
  const lines: string[] = [];
  for (const name of [...sources.keys()].sort()) {
    // Line endings are normalised so a Windows checkout hashes the same.
    lines.push(`file ${name} ${sha256((sources.get(name) ?? '').replace(/\r\n/g, '\n'))}`);
  }
  for (const name of [...libraries.keys()].sort())
    lines.push(`lib ${name} ${libraries.get(name) ?? ''}`);
  const source = sha256(lines.join('\n')).slice(0, 16);
  return { package: packageVersion, source, id: `${packageVersion}+${source}` };
}

/** Walks up from a resolved entry file to the package's manifest (some packages do not export it). */
async function libraryVersion(entry: string, name: string): Promise<string> {
  for (let dir = path.dirname(entry); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    try {
      const manifest = JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (manifest.name === name && manifest.version) return manifest.version;
    } catch {
      // no manifest at this level: keep walking up
    }
  }
  return 'unknown';
}

/**
 * Files under `models/` that training never runs (relative to `pipeline/`), so a change to them
 * keeps every training key.
 */
export const NOT_TRAINING_SOURCES: readonly string[] = [
  // compilePredictor: hands a loaded artifact to its family's compiled predictor.
  'models/predictor.ts',
  // The build script of the WebAssembly walk; the bytes it writes (forest-walk.wasm.ts) count.
  'models/random-forest/wasm/build.ts',
];

/**
 * The model families' source files, relative to `pipeline/` (`models/ml-random-forest.ts`,
 * `models/random-forest/wasm/forest-walk.wasm.ts`, …): every `.ts` file under `models/`, at any
 * depth, but tests (`*.test.ts`), test fixtures (any `fixtures/` folder) and
 * {@link NOT_TRAINING_SOURCES}. `dir` is a `pipeline/` folder (by default this one).
 */
export async function modelSourceFiles(dir = pipelineDir): Promise<string[]> {
  const files: string[] = [];
  const walk = async (folder: string): Promise<void> => {
    for (const entry of await readdir(path.join(dir, folder), { withFileTypes: true })) {
      const name = `${folder}/${entry.name}`;
      if (entry.isDirectory()) {
        if (entry.name !== 'fixtures') await walk(name);
      } else if (
        entry.isFile() &&
        entry.name.endsWith('.ts') &&
        !entry.name.endsWith('.test.ts') &&
        !NOT_TRAINING_SOURCES.includes(name)
      ) {
        files.push(name);
      }
    }
  };
  await walk('models');
  return files.sort();
}

/**
 * The code version of the source tree at `dir` (a `pipeline/` folder beside its package's
 * `package.json`), with the learning libraries' versions this process resolves.
 */
export async function codeVersionAt(dir: string): Promise<CodeVersion> {
  const require = createRequire(import.meta.url);
  const pkg = JSON.parse(await readFile(path.join(dir, '..', 'package.json'), 'utf8')) as {
    version: string;
  };
  const sources = new Map<string, string>();
  for (const name of [...TRAINING_SOURCES, ...(await modelSourceFiles(dir))]) {
    sources.set(name, await readFile(path.join(dir, name), 'utf8'));
  }
  const libraries = new Map<string, string>();
  for (const lib of TRAINING_LIBRARIES) {
    libraries.set(lib, await libraryVersion(require.resolve(lib), lib));
  }
  return codeVersionOf(pkg.version, sources, libraries);
}

let cached: Promise<CodeVersion> | undefined;

/**
 * Set by the action bundler (esbuild `define`): a bundle carries the code version of the
 * source it was built from, since the source files are not beside it at run time.
 */
declare const __PINML_CODE_VERSION__: CodeVersion | undefined;

/** Reads the running code's version from its own files (cached for the process). */
export function readCodeVersion(): Promise<CodeVersion> {
  if (typeof __PINML_CODE_VERSION__ !== 'undefined') return Promise.resolve(__PINML_CODE_VERSION__);
  cached ??= codeVersionAt(pipelineDir);
  return cached;
}
