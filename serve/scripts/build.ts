/**
 * Bundles the server with esbuild, as the actions are bundled: `serve/start.ts` →
 * `serve/dist/pinml-serve.js`, and the prediction log's thread (`pipeline/log/thread-entry.ts`)
 * → `serve/dist/log-thread.js` beside it. The packages stay in `node_modules` (imported as they
 * are, so a container image carries the production dependencies only); pinml's TypeScript is
 * compiled here, so the process that serves runs no compiler (tsx's loader thread and its
 * compile cache cost ~40 MB of resident memory, `npm run bench:serve`), and the bundle runs from
 * a read-only filesystem. `npm start` builds it first (≈ 0.2 s; `prestart`); the folder is not
 * committed.
 *
 *   npm run build:serve [-- --out DIR]
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

import { build } from 'esbuild';

import { LOG_THREAD_BUNDLE } from '../../pipeline/log/thread.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The server's bundle's file name in its folder. */
export const SERVER_BUNDLE = 'pinml-serve.js';

/** Writes the server's bundle into `outDir`; resolves to the entry point's path. */
export async function buildServer(outDir = path.join(root, 'serve', 'dist')): Promise<string> {
  const pkg = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as {
    version: string;
  };
  await build({
    entryPoints: {
      [SERVER_BUNDLE.replace(/\.js$/, '')]: path.join(root, 'serve', 'start.ts'),
      [LOG_THREAD_BUNDLE.replace(/\.js$/, '')]: path.join(
        root,
        'pipeline',
        'log',
        'thread-entry.ts',
      ),
    },
    outdir: outDir,
    bundle: true,
    // why: every package is imported from node_modules as it is; only pinml's sources are bundled.
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    define: { __PINML_PACKAGE_VERSION__: JSON.stringify(pkg.version) },
    legalComments: 'none',
    logLevel: 'warning',
  });
  return path.join(outDir, SERVER_BUNDLE);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({ options: { out: { type: 'string' } } });
  const entry = await buildServer(values.out === undefined ? undefined : path.resolve(values.out));
  console.log(`wrote ${path.relative(process.cwd(), entry)} (and ${LOG_THREAD_BUNDLE} beside it)`);
}
