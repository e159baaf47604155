/**
 * Reads from git objects, never from the working tree: refs to commits, commits, trees, files,
 * folder listings and the difference between two trees. Every call memoises what it parsed in
 * a {@link ReadCache}, so a walk reads each tree once.
 */
import git from 'isomorphic-git';
import type { TreeEntry } from 'isomorphic-git';
import { GitError } from '../errors.ts';
import { files, gitError, newCache, run, short, translate } from './context.ts';
import type { Entry, GitContext, ReadCache } from './context.ts';
import { errorCode } from './error-shape.ts';
import type { DirEntry, GitCommit, GitSignature } from './types.ts';
import { isOid } from './validate.ts';

/** One file that differs between two trees: its entry on each side (absent: no file there). */
export interface FileDiff {
  from?: Entry;
  to?: Entry;
}

/** The checked-out branch's short name (also before its first commit); undefined when detached. */
export async function currentBranch(ctx: GitContext): Promise<string | undefined> {
  const name = await run(ctx, 'read HEAD', () =>
    git.currentBranch({ fs: ctx.fs, gitdir: ctx.gitdir, fullname: false }),
  );
  return typeof name === 'string' ? name : undefined;
}

/** The commit a ref names (see `GitRepo.resolve`). */
export async function resolve(ctx: GitContext, ref: string): Promise<string> {
  return resolveCommit(ctx, ref, newCache(ctx));
}

/** Whether `ancestor` is `descendant` or one of its ancestors. */
export async function isAncestor(
  ctx: GitContext,
  ancestor: string,
  descendant: string,
): Promise<boolean> {
  const cache = newCache(ctx);
  const a = await resolveCommit(ctx, ancestor, cache);
  const d = await resolveCommit(ctx, descendant, cache);
  if (a === d) return true;
  return run(ctx, `compare ${short(a)} and ${short(d)}`, () =>
    git.isDescendent({
      fs: ctx.fs,
      gitdir: ctx.gitdir,
      oid: d,
      ancestor: a,
      depth: -1,
      cache: cache.git,
    }),
  );
}

/** Whether the repository is a shallow clone (`<gitdir>/shallow` lists its cut-off commits). */
export async function isShallow(ctx: GitContext): Promise<boolean> {
  try {
    const text = await files(ctx).readFile(`${ctx.gitdir}/shallow`, { encoding: 'utf8' });
    return String(text).trim() !== '';
  } catch {
    return false;
  }
}

/** Reads one commit. */
export async function readCommit(ctx: GitContext, commitish: string): Promise<GitCommit> {
  const cache = newCache(ctx);
  return loadCommit(ctx, await resolveCommit(ctx, commitish, cache), cache);
}

/** The bytes of the file at `path` in a commit; undefined when no file is there. */
export async function readFile(
  ctx: GitContext,
  commitish: string,
  path: string,
): Promise<Uint8Array | undefined> {
  const cache = newCache(ctx);
  const commit = await loadCommit(ctx, await resolveCommit(ctx, commitish, cache), cache);
  const entry = await entryAt(ctx, commit.tree, path, cache);
  if (entry?.type !== 'blob') return undefined;
  return loadBlob(ctx, entry.oid, cache);
}

/** The entries of the folder `path` (`''` for the root) at a commit; `[]` when there is none. */
export async function listDir(
  ctx: GitContext,
  commitish: string,
  path: string,
): Promise<DirEntry[]> {
  const cache = newCache(ctx);
  const commit = await loadCommit(ctx, await resolveCommit(ctx, commitish, cache), cache);
  const entry = await entryAt(ctx, commit.tree, path, cache);
  if (entry?.type !== 'tree') return [];
  const entries = await loadTree(ctx, entry.oid, cache);
  return entries.flatMap(([name, e]) =>
    e.type === 'commit' ? [] : [{ name, type: e.type } satisfies DirEntry],
  );
}

/** The file paths that differ between two commits (`from: null` means "all of `to`"), sorted. */
export async function changedPaths(
  ctx: GitContext,
  from: string | null,
  to: string,
): Promise<string[]> {
  const cache = newCache(ctx);
  const fromTree = from === null ? null : await treeOf(ctx, from, cache);
  const toTree = await treeOf(ctx, to, cache);
  const diff = await diffTrees(ctx, fromTree, toTree, cache);
  return [...diff.keys()].sort();
}

/** The oid a full ref points at, or null when there is no such ref. */
export async function tryResolveRef(ctx: GitContext, ref: string): Promise<string | null> {
  try {
    return await git.resolveRef({ fs: ctx.fs, gitdir: ctx.gitdir, ref });
  } catch (err) {
    if (errorCode(err) === 'NotFoundError') return null;
    throw translate(ctx, err, `read ${ref}`);
  }
}

/**
 * The commit a ref names: a branch, a full ref, a remote branch, a tag (annotated tags are
 * peeled), `HEAD`, or a full or abbreviated oid; else a GitError `not-found`.
 */
export async function resolveCommit(
  ctx: GitContext,
  ref: string,
  cache: ReadCache,
): Promise<string> {
  const notFound = async (): Promise<GitError> => {
    const isRepo = await files(ctx)
      .lstat(`${ctx.gitdir}/HEAD`)
      .then(
        () => true,
        () => false,
      );
    return gitError(
      ctx,
      'not-found',
      isRepo
        ? `"${ref}" names no commit in ${ctx.dir}: give a branch, tag, remote branch (origin/main) or commit oid that exists here (fetch first if it is on the remote).`
        : `${ctx.dir} is not a git repository (${ctx.gitdir}/HEAD is missing): clone or initialise it first.`,
      { ref },
    );
  };
  if (ref.trim() === '') throw await notFound();
  let oid: string | null = null;
  if (isOid(ref)) oid = ref;
  else {
    oid = await tryResolveRef(ctx, ref);
    if (oid === null && /^[0-9a-f]{4,39}$/.test(ref)) {
      try {
        oid = await git.expandOid({ fs: ctx.fs, gitdir: ctx.gitdir, oid: ref, cache: cache.git });
      } catch (err) {
        if (errorCode(err) === 'AmbiguousError') {
          throw gitError(ctx, 'not-found', `"${ref}" is ambiguous: give more of the oid.`, {
            ref,
          });
        }
        oid = null;
      }
    }
  }
  if (oid === null) throw await notFound();
  // Peel annotated tags down to the commit they name.
  for (let hops = 0; hops < 10; hops++) {
    let type: string;
    let object: unknown;
    try {
      ({ type, object } = await git.readObject({
        fs: ctx.fs,
        gitdir: ctx.gitdir,
        oid,
        format: 'parsed',
        cache: cache.git,
      }));
    } catch (err) {
      if (errorCode(err) === 'NotFoundError') throw await notFound();
      throw translate(ctx, err, `read ${ref}`);
    }
    if (type === 'commit') return oid;
    if (type === 'tag') {
      oid = (object as { object: string }).object;
      continue;
    }
    throw gitError(ctx, 'not-found', `"${ref}" names a ${type}, not a commit.`, { ref, type });
  }
  throw await notFound();
}

/** The tree of the commit a ref names. */
export async function treeOf(ctx: GitContext, ref: string, cache: ReadCache): Promise<string> {
  return (await loadCommit(ctx, await resolveCommit(ctx, ref, cache), cache)).tree;
}

/** Reads and parses one commit by oid. */
export async function loadCommit(
  ctx: GitContext,
  oid: string,
  cache: ReadCache,
): Promise<GitCommit> {
  const hit = cache.commits.get(oid);
  if (hit !== undefined) return hit;
  const { commit } = await run(ctx, `read commit ${short(oid)}`, () =>
    git.readCommit({ fs: ctx.fs, gitdir: ctx.gitdir, oid, cache: cache.git }),
  );
  const out: GitCommit = {
    oid,
    tree: commit.tree,
    parents: [...commit.parent],
    message: commit.message,
    author: toSignature(commit.author),
    committer: toSignature(commit.committer),
  };
  cache.commits.set(oid, out);
  return out;
}

/** {@link loadCommit}, or undefined when the commit is not here (beyond a shallow clone). */
export async function tryLoadCommit(
  ctx: GitContext,
  oid: string,
  cache: ReadCache,
): Promise<GitCommit | undefined> {
  try {
    return await loadCommit(ctx, oid, cache);
  } catch (err) {
    if (err instanceof GitError && err.reason === 'not-found') return undefined;
    throw err;
  }
}

/** The bytes of a blob. */
export async function loadBlob(
  ctx: GitContext,
  oid: string,
  cache: ReadCache,
): Promise<Uint8Array> {
  const { blob } = await run(ctx, `read blob ${short(oid)}`, () =>
    git.readBlob({ fs: ctx.fs, gitdir: ctx.gitdir, oid, cache: cache.git }),
  );
  return blob;
}

/** A tree's entries as `[name, entry]`, in tree order. */
export async function loadTree(
  ctx: GitContext,
  oid: string,
  cache: ReadCache,
): Promise<[string, Entry][]> {
  const hit = cache.trees.get(oid);
  if (hit !== undefined) return hit;
  const { tree } = await run(ctx, `read tree ${short(oid)}`, () =>
    git.readTree({ fs: ctx.fs, gitdir: ctx.gitdir, oid, cache: cache.git }),
  );
  const entries = tree.map((e: TreeEntry): [string, Entry] => [
    e.path,
    { mode: e.mode, oid: e.oid, type: e.type },
  ]);
  cache.trees.set(oid, entries);
  return entries;
}

/** The entry at `path` under the tree `treeOid` (`''` is the tree itself). */
export async function entryAt(
  ctx: GitContext,
  treeOid: string,
  path: string,
  cache: ReadCache,
): Promise<Entry | undefined> {
  let entry: Entry = { mode: '040000', oid: treeOid, type: 'tree' };
  if (path === '') return entry;
  for (const name of path.split('/')) {
    if (entry.type !== 'tree') return undefined;
    const found = (await loadTree(ctx, entry.oid, cache)).find(([n]) => n === name);
    if (found === undefined) return undefined;
    entry = found[1];
  }
  return entry;
}

/** Every file (non-tree entry) that differs between two trees, with its two sides. */
export async function diffTrees(
  ctx: GitContext,
  a: string | null,
  b: string | null,
  cache: ReadCache,
): Promise<Map<string, FileDiff>> {
  const out = new Map<string, FileDiff>();
  const walk = async (x: string | null, y: string | null, prefix: string): Promise<void> => {
    if (x === y) return;
    const xs = new Map(x === null ? [] : await loadTree(ctx, x, cache));
    const ys = new Map(y === null ? [] : await loadTree(ctx, y, cache));
    const names = [...new Set([...xs.keys(), ...ys.keys()])].sort();
    for (const name of names) {
      const ex = xs.get(name);
      const ey = ys.get(name);
      const path = prefix + name;
      const fx = ex !== undefined && ex.type !== 'tree' ? ex : undefined;
      const fy = ey !== undefined && ey.type !== 'tree' ? ey : undefined;
      if ((fx || fy) && !sameEntry(fx, fy)) {
        out.set(path, { ...(fx ? { from: fx } : {}), ...(fy ? { to: fy } : {}) });
      }
      const tx = ex?.type === 'tree' ? ex.oid : null;
      const ty = ey?.type === 'tree' ? ey.oid : null;
      if ((tx !== null || ty !== null) && tx !== ty) await walk(tx, ty, `${path}/`);
    }
  };
  await walk(a, b, '');
  return out;
}

/** Whether two entries are the same object with the same mode (both absent counts). */
export function sameEntry(a: Entry | undefined, b: Entry | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.oid === b.oid && a.mode === b.mode;
}

function toSignature(s: GitSignature): GitSignature {
  return { name: s.name, email: s.email, timestamp: s.timestamp, timezoneOffset: s.timezoneOffset };
}
