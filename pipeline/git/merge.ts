/**
 * Merges as objects, with isomorphic-git's own `merge`: the fast-forward and up-to-date
 * decisions, the merge base, the merged tree and the merge commit are its. pinml asks it for
 * no ref move (`noUpdateBranch`), no working tree (no `dir`, `abortOnConflict`) and no
 * line-level merging: a merge driver that refuses makes any file both sides changed
 * differently a conflict, as a registry file merged line by line could end up valid JSON that
 * nobody wrote.
 */
import git from 'isomorphic-git';
import type { MergeDriverCallback } from 'isomorphic-git';
import { GitError } from '../errors.ts';
import { newCache, run, translate } from './context.ts';
import type { GitContext, ReadCache } from './context.ts';
import { errorCode, errorData } from './error-shape.ts';
import { diffTrees, loadCommit, resolveCommit, sameEntry } from './read.ts';
import type { GitIdentity, MergeResult } from './types.ts';
import { signatures } from './write.ts';

/** What `GitRepo.mergeCommit` takes. */
export interface MergeInput {
  ours: string;
  theirs: string;
  message: string;
  author?: GitIdentity;
  committer?: GitIdentity;
}

/**
 * Refuses every merge of two different contents. isomorphic-git calls it only when both sides
 * changed a file's content (one side's change, or the same change on both, merges without
 * it); what it returns is written as a blob even on a conflict, so it returns the empty one.
 */
const refuseContentMerge: MergeDriverCallback = () => ({ cleanMerge: false, mergedText: '' });

/** Merges `theirs` into `ours` (see `GitRepo.mergeCommit`). */
export async function mergeCommit(ctx: GitContext, input: MergeInput): Promise<MergeResult> {
  const cache = newCache(ctx);
  const ours = await resolveCommit(ctx, input.ours, cache);
  const theirs = await resolveCommit(ctx, input.theirs, cache);
  const { author, committer } = await signatures(ctx, input.author, input.committer);
  let merged: Awaited<ReturnType<typeof git.merge>>;
  try {
    merged = await git.merge({
      fs: ctx.fs,
      gitdir: ctx.gitdir,
      ours,
      theirs,
      fastForward: true,
      noUpdateBranch: true,
      abortOnConflict: true,
      message: input.message,
      author,
      committer,
      mergeDriver: refuseContentMerge,
      cache: cache.git,
    });
  } catch (err) {
    throw await mergeFailure(ctx, input, { ours, theirs }, err, cache);
  }
  if (merged.alreadyMerged === true) return { oid: ours, fastForward: false, upToDate: true };
  if (merged.fastForward === true) return { oid: theirs, fastForward: true, upToDate: false };
  if (merged.oid === undefined) {
    throw new GitError('other', `Merging ${input.theirs} into ${input.ours} wrote no commit.`, {
      ours,
      theirs,
    });
  }
  return { oid: merged.oid, fastForward: false, upToDate: false };
}

/** The GitError for a merge isomorphic-git refused. */
async function mergeFailure(
  ctx: GitContext,
  input: MergeInput,
  oids: { ours: string; theirs: string },
  err: unknown,
  cache: ReadCache,
): Promise<GitError> {
  const conflict = (paths: string[]): GitError =>
    new GitError(
      'conflict',
      `Cannot merge ${input.theirs} into ${input.ours}: both changed ${paths.join(', ')}. Rebuild the change on ${input.ours}.`,
      { ...oids, paths },
    );
  const code = errorCode(err);
  if (code === 'MergeConflictError') {
    const { filepaths } = errorData(err);
    return conflict(Array.isArray(filepaths) ? filepaths.map(String).sort() : []);
  }
  if (code === 'UnmergedPathsError') {
    const { filepaths } = errorData(err);
    const paths = Array.isArray(filepaths) ? filepaths.map(String).sort() : [];
    return new GitError(
      'dirty',
      `The index at ${ctx.dir} has unmerged paths (${paths.join(', ')}): finish or abort the merge in progress (git merge --abort), then retry.`,
      { paths },
    );
  }
  if (code !== 'MergeNotSupportedError') return translate(ctx, err, `merge ${input.theirs}`);
  // isomorphic-git says only "not supported": for no or several merge bases, for a file one
  // side made a folder while the other changed it, and for a submodule both sides changed.
  const bases = (await run(ctx, 'find the merge base', () =>
    git.findMergeBase({
      fs: ctx.fs,
      gitdir: ctx.gitdir,
      oids: [oids.ours, oids.theirs],
      cache: cache.git,
    }),
  )) as string[];
  const base = bases[0];
  if (base === undefined || bases.length > 1) {
    return new GitError(
      'conflict',
      base === undefined
        ? `${input.ours} and ${input.theirs} share no history: refusing to merge unrelated histories.`
        : `${input.ours} and ${input.theirs} have ${bases.length} merge bases (criss-cross merges): merge them with the git CLI.`,
      { ...oids, bases },
    );
  }
  const paths = await bothChanged(ctx, base, oids, cache);
  if (paths.length > 0) return conflict(paths);
  return new GitError(
    'conflict',
    `Cannot merge ${input.theirs} into ${input.ours}: both sides changed a submodule, which isomorphic-git cannot merge. Merge them with the git CLI.`,
    { ...oids, paths },
  );
}

/** The files both sides changed since `base`, and not in the same way. */
async function bothChanged(
  ctx: GitContext,
  base: string,
  oids: { ours: string; theirs: string },
  cache: ReadCache,
): Promise<string[]> {
  const tree = async (oid: string): Promise<string> => (await loadCommit(ctx, oid, cache)).tree;
  const baseTree = await tree(base);
  const ourChanges = await diffTrees(ctx, baseTree, await tree(oids.ours), cache);
  const theirChanges = await diffTrees(ctx, baseTree, await tree(oids.theirs), cache);
  const paths: string[] = [];
  for (const [path, { to }] of theirChanges) {
    const mine = ourChanges.get(path);
    if (mine !== undefined && !sameEntry(mine.to, to)) paths.push(path);
  }
  return paths.sort();
}
