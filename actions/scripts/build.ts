/**
 * Bundles every action (`actions/<name>/index.ts` → `actions/<name>/dist/index.js`) with
 * esbuild: one ESM file per action, for Node 20 and 24, with the code version of the source
 * built in (the training sources are not beside the bundle at run time).
 *
 *   npm run build:actions            rebuild the bundles
 *   npm run build:actions -- --check rebuild in memory and fail when a committed bundle differs
 */
import { readFile, readdir, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { readCodeVersion } from '../../pipeline/code-version.ts';

const actionsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const check = process.argv.includes('--check');

// @actions/* are ESM-only but pull CommonJS modules that `require` Node built-ins.
const banner =
  "import { createRequire as __pinmlCreateRequire } from 'node:module';\nconst require = __pinmlCreateRequire(import.meta.url);";

const names = [];
for (const entry of await readdir(actionsDir, { withFileTypes: true })) {
  if (!entry.isDirectory()) continue;
  try {
    await readFile(path.join(actionsDir, entry.name, 'action.yml'));
    names.push(entry.name);
  } catch {
    // not an action (common/, scripts/)
  }
}
names.sort();

const code = await readCodeVersion();
let stale = 0;
for (const name of names) {
  const result = await build({
    entryPoints: [path.join(actionsDir, name, 'index.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    banner: { js: banner },
    define: { __PINML_CODE_VERSION__: JSON.stringify(code) },
    legalComments: 'none',
    minifyWhitespace: true,
    minifySyntax: true,
    // Module paths end up in the bundle: resolve them as written, not through a symlinked
    // node_modules, so every checkout builds the same bytes.
    preserveSymlinks: true,
    write: false,
    logLevel: 'warning',
  });
  const text = result.outputFiles[0]?.text ?? '';
  const target = path.join(actionsDir, name, 'dist', 'index.js');
  if (check) {
    const committed = await readFile(target, 'utf8').catch(() => '');
    if (committed !== text) {
      stale++;
      console.error(
        `actions/${name}/dist/index.js is stale: run npm run build:actions and commit it`,
      );
    } else
      console.log(
        `actions/${name}/dist/index.js is up to date (${(text.length / 1024).toFixed(0)} KiB)`,
      );
  } else {
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, text);
    console.log(
      `wrote actions/${name}/dist/index.js (${(text.length / 1024).toFixed(0)} KiB), code ${code.id}`,
    );
  }
}
if (stale > 0) process.exit(1);
