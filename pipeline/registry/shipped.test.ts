/**
 * The shipped registry is current with the code: each production version in `registry/` at
 * HEAD was trained by the running code version, so `npm run pipeline` on a fresh clone answers
 * `unchanged`. When a change alters the code version this fails, naming the script that fixes it.
 */
import { describe, expect, it } from 'vitest';

import { readCodeVersion } from '../code-version.ts';
import { GitRepo } from '../git/repo.ts';
import { repoRoot } from '../testing/runtimes.ts';
import { pinmlOk } from '../testing/run-cli.ts';
import { staleModels } from './shipped.ts';
import { createWorkspace } from './testing/project.ts';

describe('the shipped registry', () => {
  it('was trained by the running code version (else: npm run registry:refresh)', async () => {
    const code = await readCodeVersion();
    const repo = GitRepo.open(repoRoot);
    const stale = await staleModels(repo, await repo.resolve('HEAD'), code.id);
    const message = stale
      .map(
        (s) =>
          `${s.model}: production v${s.production ?? '-'} was trained by ${s.trainedBy ?? 'nothing'}, the code is ${code.id}`,
      )
      .join('; ');
    expect(stale, `${message}: run npm run registry:refresh and commit`).toEqual([]);
  });

  it('names a model whose production version another code version trained, or none', async () => {
    const ws = await createWorkspace('shipped');
    const dir = await ws.project();
    const repo = GitRepo.open(dir);
    const code = await readCodeVersion();
    expect(await staleModels(repo, await repo.resolve('HEAD'), code.id)).toEqual([]);
    await pinmlOk(dir, 'pipeline');
    const registered = await repo.resolve('HEAD');
    // Registered, not yet promoted: stale.
    expect(await staleModels(repo, registered, code.id)).toEqual([
      { model: 'iris', production: null, trainedBy: null },
    ]);
    await pinmlOk(dir, 'promote', 'iris@1', '--merge');
    const promoted = await repo.resolve('HEAD');
    expect(await staleModels(repo, promoted, code.id)).toEqual([]);
    expect(await staleModels(repo, promoted, '0.0.0+other')).toEqual([
      { model: 'iris', production: 1, trainedBy: code.id },
    ]);
    await ws.remove();
  }, 120_000);
});
