/**
 * `npm run registry:refresh`: brings the shipped registry up to the running code version. When
 * a change alters the code version (any training source, a learning library), every model's
 * production version becomes stale: `npm run pipeline` on a fresh clone would register a new
 * version instead of answering `unchanged`, and `pipeline/registry/shipped.test.ts` fails,
 * naming this script. It runs the real CLI, as a user would: `pinml pipeline` (trains every
 * model and registers what is new, one commit each), then `pinml promote MODEL@N --merge` for
 * each stale model. It refuses a working tree with uncommitted changes to tracked files: the
 * cards record the commit of the code that trained them.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { readCodeVersion } from '../code-version.ts';
import { GitRepo } from '../git/repo.ts';
import { productionVersion, readModelState } from './registry.ts';
import { staleModels } from './shipped.ts';

const run = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const pinml = (...args: string[]) =>
  run(process.execPath, [path.join(root, 'pipeline/bin/pinml.js'), ...args], { cwd: root });

const code = await readCodeVersion();
const repo = GitRepo.open(root);
const stale = await staleModels(repo, await repo.resolve('HEAD'), code.id);
if (stale.length === 0) {
  console.log(`registry/ is current: every production version was trained by ${code.id}`);
  process.exit(0);
}
const { stdout: dirty } = await run('git', ['status', '--porcelain', '--untracked-files=no'], {
  cwd: root,
});
if (dirty.trim() !== '') {
  console.error(
    `registry:refresh: commit your changes first (the cards record the commit that trained them):\n${dirty}`,
  );
  process.exit(1);
}
for (const s of stale) {
  console.log(`${s.model}: production v${s.production ?? '-'} was trained by ${s.trainedBy ?? 'nothing'}, not ${code.id}`);
}
const trained = await pinml('pipeline');
process.stdout.write(trained.stdout);
for (const s of stale) {
  const state = await readModelState(repo, await repo.resolve('HEAD'), s.model);
  const newest = state.cards.find((c) => c.code.id === code.id && c.version !== productionVersion(state));
  if (newest === undefined) {
    console.error(`registry:refresh: no ${s.model} version trained by ${code.id} was registered`);
    process.exit(1);
  }
  const promoted = await pinml('promote', `${s.model}@${newest.version}`, '--merge');
  process.stdout.write(promoted.stdout);
}
const left = await staleModels(repo, await repo.resolve('HEAD'), code.id);
if (left.length > 0) {
  console.error(`registry:refresh: still stale: ${left.map((s) => s.model).join(', ')}`);
  process.exit(1);
}
console.log(`registry/ is current with ${code.id}`);
