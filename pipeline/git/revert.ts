/**
 * `git revert` as objects: a commit on top of another that undoes what a commit changed
 * relative to one of its parents. isomorphic-git has no revert, so this is pinml's own: a
 * three-way check per path (what the commit left, what it replaced, what is there now).
 */
import { GitError } from '../errors.ts';
import { newCache, short } from './context.ts';
import type { GitContext } from './context.ts';
import { diffTrees, entryAt, loadCommit, resolveCommit, sameEntry } from './read.ts';
import type { GitIdentity } from './types.ts';
import { writeCommitObject, writeTree } from './write.ts';
import type { Edit } from './write.ts';

/** What `GitRepo.revertCommit` takes besides the commit. */
export interface RevertOptions {
  onto: string;
  mainline?: number;
  message?: string;
  author?: GitIdentity;
  committer?: GitIdentity;
}

/** Writes the revert of `commitish` on top of `options.onto` (see `GitRepo.revertCommit`). */
export async function revertCommit(
  ctx: GitContext,
  commitish: string,
  options: RevertOptions,
): Promise<string> {
  const cache = newCache(ctx);
  const commit = await loadCommit(ctx, await resolveCommit(ctx, commitish, cache), cache);
  const onto = await loadCommit(ctx, await resolveCommit(ctx, options.onto, cache), cache);
  const mainline = options.mainline ?? 1;
  if (commit.parents.length > 1 && (mainline < 1 || mainline > commit.parents.length)) {
    throw new GitError(
      'other',
      `Commit ${short(commit.oid)} is a merge of ${commit.parents.length} parents: mainline must be 1..${commit.parents.length}, not ${mainline}.`,
      { commit: commit.oid, mainline },
    );
  }
  if (commit.parents.length <= 1 && mainline !== 1) {
    throw new GitError(
      'other',
      `Commit ${short(commit.oid)} is not a merge commit, so it has no mainline ${mainline}: leave mainline out.`,
      { commit: commit.oid, mainline },
    );
  }
  const parentOid = commit.parents[mainline - 1];
  const parentTree =
    parentOid === undefined ? null : (await loadCommit(ctx, parentOid, cache)).tree;
  const diff = await diffTrees(ctx, parentTree, commit.tree, cache);
  const edits = new Map<string, Edit | null>();
  const conflicts: string[] = [];
  for (const [path, { from, to }] of diff) {
    const now = await entryAt(ctx, onto.tree, path, cache);
    if (sameEntry(now, to)) edits.set(path, from === undefined ? null : from);
    else if (!sameEntry(now, from)) conflicts.push(path);
  }
  if (conflicts.length > 0) {
    throw new GitError(
      'conflict',
      `Cannot revert ${short(commit.oid)} onto ${short(onto.oid)}: ${conflicts.join(', ')} changed since. Revert the later changes first, or make the change by hand.`,
      { commit: commit.oid, onto: onto.oid, paths: conflicts },
    );
  }
  if (edits.size === 0) {
    throw new GitError(
      'conflict',
      `Reverting ${short(commit.oid)} onto ${short(onto.oid)} changes nothing: what it changed is already undone there.`,
      { commit: commit.oid, onto: onto.oid, paths: [], empty: true },
    );
  }
  const tree = await writeTree(ctx, onto.tree, edits, cache);
  const reversing =
    commit.parents.length > 1 && parentOid !== undefined
      ? `, reversing\nchanges made to ${parentOid}`
      : '';
  const message =
    options.message ??
    `Revert "${subject(commit.message)}"\n\nThis reverts commit ${commit.oid}${reversing}.\n`;
  return writeCommitObject(ctx, {
    tree,
    parents: [onto.oid],
    message,
    author: options.author,
    committer: options.committer,
  });
}

/** A commit message's subject: its first paragraph's first line, as `git revert` quotes it. */
function subject(message: string): string {
  const paragraph = message.replace(/^\s+/, '').split(/\n\s*\n/)[0] ?? '';
  return paragraph.split('\n')[0]?.trim() ?? '';
}
