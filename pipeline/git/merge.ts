/**
 * Merges as objects: the fast-forward and up-to-date decisions, and otherwise a merge commit
 * whose tree is `ours` plus what `theirs` changed since the merge base. No ref moves and no
 * working tree is written.
 */
import git from 'isomorphic-git';
import { GitError } from '../errors.ts';
import { newCache, run } from './context.ts';
import type { GitContext } from './context.ts';
import { diffTrees, loadCommit, resolveCommit, sameEntry } from './read.ts';
import type { GitIdentity, MergeResult } from './types.ts';
import { writeCommitObject, writeTree } from './write.ts';
import type { Edit } from './write.ts';

/** What `GitRepo.mergeCommit` takes. */
export interface MergeInput {
  ours: string;
  theirs: string;
  message: string;
  author?: GitIdentity;
  committer?: GitIdentity;
}

/** Merges `theirs` into `ours` (see `GitRepo.mergeCommit`). */
export async function mergeCommit(ctx: GitContext, input: MergeInput): Promise<MergeResult> {
  const cache = newCache(ctx);
  const ours = await resolveCommit(ctx, input.ours, cache);
  const theirs = await resolveCommit(ctx, input.theirs, cache);
  if (ours === theirs) return { oid: ours, fastForward: false, upToDate: true };
  const descends = (oid: string, ancestor: string): Promise<boolean> =>
    run(ctx, 'walk history', () =>
      git.isDescendent({
        fs: ctx.fs,
        gitdir: ctx.gitdir,
        oid,
        ancestor,
        depth: -1,
        cache: cache.git,
      }),
    );
  if (await descends(theirs, ours)) return { oid: theirs, fastForward: true, upToDate: false };
  if (await descends(ours, theirs)) return { oid: ours, fastForward: false, upToDate: true };
  const bases = (await run(ctx, 'find the merge base', () =>
    git.findMergeBase({ fs: ctx.fs, gitdir: ctx.gitdir, oids: [ours, theirs], cache: cache.git }),
  )) as string[];
  const base = bases[0];
  if (base === undefined || bases.length > 1) {
    throw new GitError(
      'conflict',
      base === undefined
        ? `${input.ours} and ${input.theirs} share no history: refusing to merge unrelated histories.`
        : `${input.ours} and ${input.theirs} have ${bases.length} merge bases (criss-cross merges): merge them with the git CLI.`,
      { ours, theirs, bases },
    );
  }
  const baseTree = (await loadCommit(ctx, base, cache)).tree;
  const oursTree = (await loadCommit(ctx, ours, cache)).tree;
  const theirsTree = (await loadCommit(ctx, theirs, cache)).tree;
  const theirChanges = await diffTrees(ctx, baseTree, theirsTree, cache);
  const ourChanges = await diffTrees(ctx, baseTree, oursTree, cache);
  const edits = new Map<string, Edit | null>();
  const conflicts: string[] = [];
  for (const [path, { to }] of theirChanges) {
    const mine = ourChanges.get(path);
    if (mine === undefined) edits.set(path, to ?? null);
    else if (!sameEntry(mine.to, to)) conflicts.push(path);
  }
  if (conflicts.length > 0) {
    throw new GitError(
      'conflict',
      `Cannot merge ${input.theirs} into ${input.ours}: both changed ${conflicts.join(', ')}. Rebuild the change on ${input.ours}.`,
      { ours, theirs, paths: conflicts },
    );
  }
  const tree = await writeTree(ctx, oursTree, edits, cache);
  const oid = await writeCommitObject(ctx, {
    tree,
    parents: [ours, theirs],
    message: input.message,
    author: input.author,
    committer: input.committer,
  });
  return { oid, fastForward: false, upToDate: false };
}
