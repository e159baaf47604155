/**
 * Vitest's global setup: the server's bundle, built once as `npm start` builds it
 * (`npm run build:serve`), into {@link serverBundleDir} for the tests that start the server in a
 * child process (`serve-process.ts`); and Node 24 (the runtime GitHub runs `node24` actions on) for the tests that
 * run the product on it, installed once with `npm install --prefix .pinml/node24` from the npm
 * registry — never as a dependency, whose `node` bin would shadow the machine's Node in every npm
 * script. Without it (no registry access), those tests are skipped with one line outside CI and
 * fail under `CI=true` (`runtimes.ts`).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

import { NODE24_PACKAGE, node24Path, repoRoot } from './runtimes.ts';
import { serverBundleDir } from './serve-process.ts';

export default async function setup(): Promise<void> {
  await promisify(execFile)('npm', ['run', '-s', 'build:serve', '--', '--out', serverBundleDir], {
    cwd: repoRoot,
    timeout: 120_000,
  });
  if (process.versions.node.startsWith('24.') || existsSync(node24Path)) return;
  const prefix = path.join(repoRoot, '.pinml', 'node24');
  process.stderr.write(
    `installing Node 24 for the node24 tests (once): npm install --prefix ${path.relative(repoRoot, prefix)} ${NODE24_PACKAGE}\n`,
  );
  try {
    await promisify(execFile)(
      'npm',
      ['install', '--prefix', prefix, '--no-save', '--no-audit', '--no-fund', NODE24_PACKAGE],
      { cwd: repoRoot, timeout: 600_000 },
    );
  } catch (err) {
    process.stderr.write(
      `Node 24 could not be installed (${(err as Error).message.split('\n')[0]}): the node24 tests ${process.env.CI === 'true' ? 'will fail' : 'are skipped'}\n`,
    );
  }
}
