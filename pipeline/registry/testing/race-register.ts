/**
 * One registering process of the race test (`race.test.ts`): clones the remote into a folder of
 * its own and registers a run folder with `registerRun`. On its first attempt only, it waits at
 * a file barrier until every process of the race has planned, so they all plan the same version
 * on the same tip and all pushes but one are rejected and retried.
 *
 * Usage: node --import tsx race-register.ts URL CLONE_DIR RUN_DIR COMMIT BARRIER_DIR NAME PARTIES
 *
 * Prints the RegisterResult as JSON on stdout; on failure prints `{"error": …}` and exits 1.
 * Test helper only: product code never imports it.
 */
import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PinmlError } from '../../errors.ts';
import { GitRepo } from '../../git/repo.ts';
import { readRunFolder } from '../../run-folder.ts';
import { registerRun } from '../apply.ts';

const BARRIER_TIMEOUT_MS = 30_000;

async function waitAtBarrier(dir: string, name: string, parties: number): Promise<void> {
  await writeFile(path.join(dir, name), `${process.pid}\n`);
  const deadline = Date.now() + BARRIER_TIMEOUT_MS;
  while ((await readdir(dir)).length < parties) {
    if (Date.now() > deadline) {
      throw new Error(`barrier ${dir}: fewer than ${parties} processes planned within 30 s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function run(argv: readonly string[]): Promise<void> {
  const [url, cloneDir, runDir, commit, barrier, name, parties] = argv;
  if (!url || !cloneDir || !runDir || !commit || !barrier || !name || !parties) {
    throw new Error(
      'usage: race-register.ts URL CLONE_DIR RUN_DIR COMMIT BARRIER_DIR NAME PARTIES',
    );
  }
  const repo = await GitRepo.clone({ dir: cloneDir, url, branch: 'main' });
  const result = await registerRun(repo, {
    run: await readRunFolder(runDir),
    branch: 'main',
    remote: 'origin',
    commit,
    now: () => new Date(),
    beforePush: async (attempt) => {
      if (attempt === 1) await waitAtBarrier(barrier, name, Number(parties));
    },
  });
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

try {
  await run(process.argv.slice(2));
} catch (error) {
  const e =
    error instanceof PinmlError
      ? error.toJSON()
      : { message: error instanceof Error ? error.message : String(error) };
  process.stdout.write(`${JSON.stringify({ error: e })}\n`);
  process.exitCode = 1;
}
