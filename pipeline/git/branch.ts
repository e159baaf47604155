/**
 * Publishes a commit: moves `refs/heads/<branch>` under git's own lock file
 * (`<ref>.lock`, as the git CLI takes it; one a killed pinml process left is removed,
 * `lock.ts`), optionally as a compare-and-set, brings the working
 * tree along when the branch is checked out (`worktree.ts`), then renames the lock, which holds
 * the new value, over the ref, as git does.
 */
import { GitError } from '../errors.ts';
import { dirname, files, newCache, run, short } from './context.ts';
import type { GitContext } from './context.ts';
import { takeLock, type LockFs } from './lock.ts';
import { currentBranch, resolveCommit, tryResolveRef } from './read.ts';
import { syncWorkingTree } from './worktree.ts';

/**
 * Moves `refs/heads/<branch>` to `oid` (see `GitRepo.updateBranch`). `expected` is an oid or
 * ref, `null` for "must not exist", or undefined for no check.
 */
export async function updateBranch(
  ctx: GitContext,
  branch: string,
  oid: string,
  expected: string | null | undefined,
): Promise<void> {
  const cache = newCache(ctx);
  const target = await resolveCommit(ctx, oid, cache);
  const ref = `refs/heads/${branch}`;
  const fsp = files(ctx);
  const file = `${ctx.gitdir}/${ref}`;
  await fsp.mkdir(dirname(file), { recursive: true });
  const lock = await run(ctx, `lock branch ${branch}`, () =>
    takeLock(
      fsp as unknown as LockFs,
      file,
      `${target}\n`,
      (path) =>
        `Branch ${branch} is locked by another git process (${ref}.lock exists). Retry; if no git process is running, delete ${path}.`,
      { branch },
    ),
  );
  try {
    const current = await tryResolveRef(ctx, ref);
    if (expected !== undefined) {
      const want = expected === null ? null : await resolveCommit(ctx, expected, cache);
      if (current !== want) {
        throw new GitError(
          'conflict',
          `Branch ${branch} moved: ${current === null ? 'it does not exist' : `it is at ${short(current)}`}, but was expected ${want === null ? 'not to exist' : `at ${short(want)}`}. Read it again and redo the change on what it is now.`,
          { branch, expected: want, actual: current },
        );
      }
    }
    if (current !== target && !ctx.bare && (await currentBranch(ctx)) === branch) {
      await syncWorkingTree(ctx, current, target, cache);
    }
    // The lock already holds the new value: renaming it over the ref is git's own update, so a
    // kill leaves the ref at the old commit or the new one, never empty.
    await run(ctx, `update ${ref}`, () => lock.publish());
  } finally {
    await lock.release();
  }
}
