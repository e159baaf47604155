/**
 * Writes objects: blobs, the trees that changed, and commit objects. Nothing here moves a ref
 * or touches a working tree, so a caller can write, check and only then publish
 * (`branch.ts`).
 */
import git from 'isomorphic-git';
import { GitError } from '../errors.ts';
import { run, short } from './context.ts';
import type { GitContext, ReadCache } from './context.ts';
import { defaultIdentity, type IdentityRole } from './identity.ts';
import { loadCommit, loadTree, resolveCommit } from './read.ts';
import type { GitIdentity, GitSignature, WriteCommitInput } from './types.ts';

/** git's empty tree. */
const EMPTY_TREE = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';

/** A planned edit of one path: the new entry, or `null` to delete it. */
export interface Edit {
  oid: string;
  /** Omitted: keep an existing file's mode, else a regular file. */
  mode?: string;
}

/**
 * Writes a commit whose tree is `parent`'s tree with `changes` applied and returns its oid.
 * The facade has checked and normalised the paths and refused a path changed twice.
 */
export async function writeCommit(
  ctx: GitContext,
  cache: ReadCache,
  input: WriteCommitInput,
): Promise<string> {
  const parent = input.parent === null ? null : await resolveCommit(ctx, input.parent, cache);
  const parents =
    input.parents === undefined
      ? parent === null
        ? []
        : [parent]
      : await Promise.all(input.parents.map((p) => resolveCommit(ctx, p, cache)));
  if (input.parents !== undefined && parent !== null && parents[0] !== parent) {
    throw new GitError(
      'other',
      `writeCommit: parents[0] must be the parent whose tree is changed (${short(parent)}).`,
      { parent, parents },
    );
  }
  const edits = new Map<string, Edit | null>();
  for (const change of input.changes) {
    const { path } = change;
    if (change.content === null) {
      edits.set(path, null);
      continue;
    }
    const blob =
      typeof change.content === 'string'
        ? new TextEncoder().encode(change.content)
        : change.content;
    const oid = await run(ctx, `write ${path}`, () =>
      git.writeBlob({ fs: ctx.fs, gitdir: ctx.gitdir, blob }),
    );
    const mode =
      change.executable === undefined ? undefined : change.executable ? '100755' : '100644';
    edits.set(path, mode === undefined ? { oid } : { oid, mode });
  }
  const baseTree = parent === null ? null : (await loadCommit(ctx, parent, cache)).tree;
  const tree = await writeTree(ctx, baseTree, edits, cache);
  return writeCommitObject(ctx, {
    tree,
    parents,
    message: input.message,
    author: input.author,
    committer: input.committer,
  });
}

/**
 * Applies `edits` (repository paths) to the tree `base` and writes the trees that changed;
 * returns the new root tree (git's empty tree when nothing is left, written as an object like
 * any other, since a commit of no files needs it).
 */
export async function writeTree(
  ctx: GitContext,
  base: string | null,
  edits: Map<string, Edit | null>,
  cache: ReadCache,
): Promise<string> {
  const tree = await buildTree(ctx, base, edits, '', cache);
  if (tree !== null) return tree;
  return run(ctx, 'write the empty tree', () =>
    git.writeTree({ fs: ctx.fs, gitdir: ctx.gitdir, tree: [] }),
  );
}

/**
 * Applies `edits` (paths relative to `prefix`) to the tree `base` and writes the trees that
 * changed; returns the new tree's oid, or null when it ends up empty.
 */
async function buildTree(
  ctx: GitContext,
  base: string | null,
  edits: Map<string, Edit | null>,
  prefix: string,
  cache: ReadCache,
): Promise<string | null> {
  const entries = new Map(base === null ? [] : await loadTree(ctx, base, cache));
  const direct = new Map<string, Edit | null>();
  const nested = new Map<string, Map<string, Edit | null>>();
  for (const [path, edit] of edits) {
    const slash = path.indexOf('/');
    if (slash < 0) {
      direct.set(path, edit);
      continue;
    }
    const name = path.slice(0, slash);
    let sub = nested.get(name);
    if (sub === undefined) nested.set(name, (sub = new Map<string, Edit | null>()));
    sub.set(path.slice(slash + 1), edit);
  }
  let changed = false;
  // Deletions, then folders, then files: a file may replace a folder emptied in the same
  // commit, and a folder may replace a deleted file.
  for (const [name, edit] of direct) {
    if (edit === null && entries.delete(name)) changed = true;
  }
  for (const [name, sub] of nested) {
    const existing = entries.get(name);
    if (existing !== undefined && existing.type !== 'tree') {
      throw new GitError(
        'conflict',
        `${prefix}${name} is a file, so nothing can be written under ${prefix}${name}/: delete it in the same commit.`,
        { path: prefix + name },
      );
    }
    const oid = await buildTree(ctx, existing?.oid ?? null, sub, `${prefix}${name}/`, cache);
    if (oid === (existing?.oid ?? null)) continue;
    changed = true;
    if (oid === null) entries.delete(name);
    else entries.set(name, { mode: '040000', oid, type: 'tree' });
  }
  for (const [name, edit] of direct) {
    if (edit === null) continue;
    const existing = entries.get(name);
    if (existing?.type === 'tree') {
      throw new GitError(
        'conflict',
        `${prefix}${name} is a folder, so a file cannot be written there: delete the files in it in the same commit.`,
        { path: prefix + name },
      );
    }
    const mode = edit.mode ?? (existing?.mode === '100755' ? '100755' : '100644');
    if (existing?.oid !== edit.oid || existing.mode !== mode) {
      entries.set(name, { mode, oid: edit.oid, type: mode === '160000' ? 'commit' : 'blob' });
      changed = true;
    }
  }
  if (!changed) return base === EMPTY_TREE ? null : base;
  if (entries.size === 0) return null;
  const tree = [...entries].map(([path, e]) => ({
    path,
    mode: e.mode,
    oid: e.oid,
    type: e.type,
  }));
  return run(ctx, `write tree ${prefix || '/'}`, () =>
    git.writeTree({ fs: ctx.fs, gitdir: ctx.gitdir, tree }),
  );
}

/**
 * A commit's author and committer: the committer defaults to the author when one is given,
 * else each is read as git reads it (the environment, the repository's config, the global
 * config; `identity.ts`), else pinml.
 */
export async function signatures(
  ctx: GitContext,
  author: GitIdentity | undefined,
  committer: GitIdentity | undefined,
): Promise<{ author: GitSignature; committer: GitSignature }> {
  const authorSig = await identity(ctx, author, 'author');
  const committerSig =
    committer !== undefined
      ? await identity(ctx, committer, 'committer')
      : author !== undefined
        ? authorSig
        : await identity(ctx, undefined, 'committer');
  return { author: authorSig, committer: committerSig };
}

/** Writes a commit object and returns its oid. */
export async function writeCommitObject(
  ctx: GitContext,
  input: {
    tree: string;
    parents: string[];
    message: string;
    author: GitIdentity | undefined;
    committer: GitIdentity | undefined;
  },
): Promise<string> {
  const { author, committer } = await signatures(ctx, input.author, input.committer);
  return run(ctx, 'write the commit', () =>
    git.writeCommit({
      fs: ctx.fs,
      gitdir: ctx.gitdir,
      commit: {
        tree: input.tree,
        parent: input.parents,
        author,
        committer,
        message: input.message,
      },
    }),
  );
}

async function identity(
  ctx: GitContext,
  given: GitIdentity | undefined,
  role: IdentityRole,
): Promise<GitSignature> {
  const { name, email } = given ?? (await defaultIdentity(ctx, role));
  const timestamp = given?.timestamp ?? Math.floor(Date.now() / 1000);
  const timezoneOffset = given?.timezoneOffset ?? new Date(timestamp * 1000).getTimezoneOffset();
  return { name, email, timestamp, timezoneOffset };
}
