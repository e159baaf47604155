/**
 * Keeps a checked-out working tree and index in step when its branch moves: only the paths
 * that differ between the old and the new tip are written or deleted, and only after checking
 * that none of them has uncommitted changes (a path already as the new tip has it, left by an
 * update a kill cut short, is not one). Each file is written to a temporary file and renamed
 * into place. Other paths are never touched.
 */
import git from 'isomorphic-git';
import { GitError } from '../errors.ts';
import { worktreeTemporary } from './atomic-fs.ts';
import { dirname, files, run } from './context.ts';
import { errorCode } from './error-shape.ts';
import type { GitContext, ReadCache } from './context.ts';
import { diffTrees, loadBlob, loadCommit } from './read.ts';

/**
 * Brings the working tree and index from the commit `from` (null: none yet) to `to` for the
 * paths that differ; a GitError `dirty` naming them, touching nothing, when any has
 * uncommitted changes (an untracked file the new commit adds counts).
 */
export async function syncWorkingTree(
  ctx: GitContext,
  from: string | null,
  to: string,
  cache: ReadCache,
): Promise<void> {
  const fromTree = from === null ? null : (await loadCommit(ctx, from, cache)).tree;
  const toTree = (await loadCommit(ctx, to, cache)).tree;
  const diff = await diffTrees(ctx, fromTree, toTree, cache);
  if (diff.size === 0) return;
  const paths = [...diff.keys()].sort();
  const rows = await run(ctx, 'check the working tree', () =>
    git.statusMatrix({
      fs: ctx.fs,
      dir: ctx.dir,
      gitdir: ctx.gitdir,
      ref: from ?? 'HEAD',
      filepaths: paths,
      ignored: true,
      cache: cache.git,
    }),
  );
  // Rows are [path, HEAD, workdir, stage]; [1, 1, 1] is a clean tracked file. A path already
  // as the new commit has it (an update cut short by a kill) is not a change of the user's.
  const dirty: string[] = [];
  for (const [path, head, workdir, stage] of rows) {
    if (head === 1 && workdir === 1 && stage === 1) continue;
    if (stage !== 3 && (await alreadyThere(ctx, path, diff.get(path)?.to))) continue;
    dirty.push(path);
  }
  if (dirty.length > 0) {
    throw new GitError(
      'dirty',
      `The working tree at ${ctx.dir} has uncommitted changes to ${dirty.join(', ')}, which the new commit also changes. Commit or discard them (git stash), then retry.`,
      { paths: dirty },
    );
  }
  const fsp = files(ctx);
  // Deletions first: a folder may be replaced by a file of the same name, or the reverse.
  for (const [path, { to }] of diff) {
    if (to !== undefined) continue;
    await fsp.unlink(`${ctx.dir}/${path}`).catch(() => undefined);
    await run(ctx, `unstage ${path}`, () =>
      git.updateIndex({
        fs: ctx.fs,
        dir: ctx.dir,
        gitdir: ctx.gitdir,
        filepath: path,
        remove: true,
        force: true,
      }),
    );
    for (let parent = dirname(path); parent !== ''; parent = dirname(parent)) {
      const removed = await fsp.rmdir(`${ctx.dir}/${parent}`).then(
        () => true,
        () => false,
      );
      if (!removed) break;
    }
  }
  for (const [path, { to }] of diff) {
    if (to === undefined || to.type === 'commit') continue;
    const file = `${ctx.dir}/${path}`;
    const blob = await loadBlob(ctx, to.oid, cache);
    await fsp.mkdir(`${ctx.dir}/${dirname(path)}`, { recursive: true });
    if (to.mode === '120000' && fsp.symlink) {
      await fsp.unlink(file).catch(() => undefined);
      await fsp.symlink(new TextDecoder().decode(blob), file);
    } else {
      // Written beside the git directory's files and renamed into place, so a kill leaves the
      // old file or the new one, and any temporary file where the next run sweeps it.
      const temporary = worktreeTemporary(ctx.gitdir, file);
      await fsp.writeFile(temporary, blob, { mode: to.mode === '100755' ? 0o755 : 0o644 });
      await fsp.rename(temporary, file).catch(async (err: unknown) => {
        await fsp.unlink(temporary).catch(() => undefined);
        if (errorCode(err) !== 'EXDEV') throw err;
        await fsp.writeFile(file, blob, { mode: to.mode === '100755' ? 0o755 : 0o644 });
      });
    }
    const oid = await run(ctx, `stage ${path}`, () =>
      git.updateIndex({ fs: ctx.fs, dir: ctx.dir, gitdir: ctx.gitdir, filepath: path, add: true }),
    );
    if (oid !== to.oid) {
      throw new GitError(
        'other',
        `Wrote ${path} but the index records ${String(oid)} instead of ${to.oid}: the file system changed the content.`,
        { path },
      );
    }
  }
}

/**
 * Whether the working-tree file at `path` already is what the new commit has there (`to`;
 * undefined: no file), so writing it again changes nothing the user wrote.
 */
async function alreadyThere(
  ctx: GitContext,
  path: string,
  to: { oid: string; type: string } | undefined,
): Promise<boolean> {
  const bytes = await files(ctx)
    .readFile(`${ctx.dir}/${path}`)
    .then(
      (b) => (typeof b === 'string' ? new TextEncoder().encode(b) : b),
      () => undefined,
    );
  if (to === undefined || bytes === undefined) return to === undefined && bytes === undefined;
  if (to.type !== 'blob') return false;
  const { oid } = await git.hashBlob({ object: bytes });
  return oid === to.oid;
}
