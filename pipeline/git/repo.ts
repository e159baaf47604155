/**
 * The git adapter: every git operation pinml performs goes through this module, which wraps
 * isomorphic-git (pure JavaScript, so the pipeline, the actions and the server need no `git`
 * binary). Reads come from git objects at a ref, never from the working tree; commits are
 * written as objects first and only `updateBranch` moves a ref, so a caller can plan, write,
 * check and then publish.
 *
 * Laid out as isomorphic-git is: this facade checks arguments and delegates to one module per
 * concern, each taking a {@link GitContext}: `read.ts`, `write.ts`, `branch.ts` (moving a
 * ref), `worktree.ts`, `log.ts`, `merge.ts`, `revert.ts`, `remote.ts` and the pure
 * `remote-errors.ts`.
 *
 * File system and HTTP client are injected as `{ fs, http }` (node:fs and isomorphic-git's
 * fetch-based client by default, through the proxy `HTTPS_PROXY` names when it is set:
 * `http.ts`). A token authenticates HTTPS as GitHub expects
 * (`x-access-token:<token>`); it is never logged nor put in an error, and credentials in
 * URLs are stripped from every message.
 */
import type * as nodeFs from 'node:fs';
import git from 'isomorphic-git';
import { GitError } from '../errors.ts';
import { atomicGitFs, sweepTemporaries } from './atomic-fs.ts';
import { gitHttp } from './http.ts';
import { updateBranch } from './branch.ts';
import { newCache, run } from './context.ts';
import type { GitContext } from './context.ts';
import { splitCredentials } from './credentials.ts';
import { log } from './log.ts';
import { mergeCommit } from './merge.ts';
import type { MergeInput } from './merge.ts';
import * as read from './read.ts';
import { cloneRepository, fetchBranch, pushCommit, remoteRefCommit } from './remote.ts';
import { revertCommit } from './revert.ts';
import { createAnnotatedTag, listTags, pushTag, type TagRef } from './tags.ts';
import type { RevertOptions } from './revert.ts';
import type {
  DirEntry,
  FileChange,
  GitCommit,
  GitRepoOptions,
  MergeResult,
  WriteCommitInput,
} from './types.ts';
import { assertBranchName, assertPath, cleanPath } from './validate.ts';
import { writeCommit } from './write.ts';

export { stripCredentials } from './credentials.ts';
export { DEFAULT_IDENTITY } from './identity.ts';
export type {
  DirEntry,
  FileChange,
  GitCommit,
  GitFs,
  GitIdentity,
  GitRepoOptions,
  GitSignature,
  MergeResult,
  WriteCommitInput,
} from './types.ts';

/**
 * A git repository on disk, read and written through isomorphic-git.
 *
 * Create one with {@link GitRepo.init}, {@link GitRepo.clone} or {@link GitRepo.open}.
 * Every failure is a {@link GitError} whose `reason` a caller can branch on.
 */
export class GitRepo {
  /** The working tree (or, for a bare repository, the git directory). */
  readonly dir: string;
  /** The git directory (`<dir>/.git`, or `dir` when bare). */
  readonly gitdir: string;
  readonly bare: boolean;
  readonly #ctx: GitContext;

  private constructor(dir: string, options: GitRepoOptions = {}) {
    this.dir = dir.replace(/\/+$/, '') || '/';
    this.bare = options.bare ?? false;
    this.gitdir = this.bare ? this.dir : `${this.dir}/.git`;
    this.#ctx = {
      fs: options.fs ?? atomicGitFs(this.gitdir),
      http: options.http ?? gitHttp,
      dir: this.dir,
      gitdir: this.gitdir,
      bare: this.bare,
      token: options.token,
      packCache: options.packCache,
      env: options.env ?? process.env,
    };
  }

  /** Opens an existing repository (no I/O until the first call). */
  static open(dir: string, options: GitRepoOptions = {}): GitRepo {
    return new GitRepo(dir, options);
  }

  /**
   * The commit a remote's tag or branch points at (`git ls-remote`), annotated tags peeled;
   * undefined when it has neither. Needs no repository.
   */
  static remoteRefCommit(
    url: string,
    name: string,
    http: GitRepoOptions['http'] = gitHttp,
  ): Promise<string | undefined> {
    return remoteRefCommit(url, name, http ?? gitHttp);
  }

  /** Creates a repository (or re-initialises an existing one, leaving its history). */
  static async init(
    dir: string,
    options: GitRepoOptions & { defaultBranch?: string } = {},
  ): Promise<GitRepo> {
    const { defaultBranch = 'main', ...rest } = options;
    assertBranchName(defaultBranch);
    const repo = new GitRepo(dir, rest);
    const ctx = repo.#ctx;
    await run(ctx, `initialise a repository in ${dir}`, () =>
      git.init({ fs: ctx.fs, dir: ctx.dir, gitdir: ctx.gitdir, bare: ctx.bare, defaultBranch }),
    );
    return repo;
  }

  /**
   * Clones `url` into `dir` (which must be missing or empty) and checks `branch` out.
   * `depth` makes a shallow clone; `singleBranch` fetches only `branch`.
   */
  static async clone(
    options: GitRepoOptions & {
      dir: string;
      url: string;
      branch?: string;
      depth?: number;
      singleBranch?: boolean;
      /** Fetch the objects and set the branch, but write no working tree. */
      noCheckout?: boolean;
    },
  ): Promise<GitRepo> {
    const { dir, branch, depth, singleBranch = false, noCheckout = false, ...rest } = options;
    if (branch !== undefined) assertBranchName(branch);
    // Credentials in the URL become the token, so the remote URL saved in .git/config has none.
    const { url, token } = splitCredentials(options.url);
    const repo = new GitRepo(dir, { ...rest, token: rest.token ?? token });
    await cloneRepository(repo.#ctx, { url, branch, depth, singleBranch, noCheckout });
    return repo;
  }

  /** The checked-out branch's short name (also before its first commit); undefined when detached. */
  async currentBranch(): Promise<string | undefined> {
    return read.currentBranch(this.#ctx);
  }

  /**
   * The commit a ref names: a branch (`main`), a full ref (`refs/remotes/origin/main`), a
   * remote branch (`origin/main`), a tag (annotated tags are peeled), `HEAD`, or a full or
   * abbreviated oid. Anything that does not name a commit is a GitError `not-found`.
   */
  async resolve(ref: string): Promise<string> {
    return read.resolve(this.#ctx, ref);
  }

  /** Whether `ancestor` is `descendant` or one of its ancestors. */
  async isAncestor(ancestor: string, descendant: string): Promise<boolean> {
    return read.isAncestor(this.#ctx, ancestor, descendant);
  }

  /** Whether this is a shallow clone (its history stops at the commits `.git/shallow` lists). */
  async isShallow(): Promise<boolean> {
    return read.isShallow(this.#ctx);
  }

  /**
   * Removes what a killed pinml process left in the git directory: temporary files it wrote
   * before renaming them into place (`atomic-fs.ts`). Stale branch locks are removed when the
   * branch is next updated (`lock.ts`). Returns the paths removed.
   */
  async recover(): Promise<string[]> {
    return sweepTemporaries(this.gitdir, this.#ctx.fs.promises as typeof nodeFs.promises);
  }

  /** Reads one commit. */
  async readCommit(commitish: string): Promise<GitCommit> {
    return read.readCommit(this.#ctx, commitish);
  }

  /** The bytes of the file at `path` in the commit `commitish`; undefined when no file is there. */
  async readFile(commitish: string, path: string): Promise<Uint8Array | undefined> {
    return read.readFile(this.#ctx, commitish, cleanPath(path));
  }

  /** {@link readFile} decoded as UTF-8. */
  async readText(commitish: string, path: string): Promise<string | undefined> {
    const bytes = await this.readFile(commitish, path);
    return bytes === undefined ? undefined : new TextDecoder().decode(bytes);
  }

  /** The entries of the folder `path` (`''` for the root) at a commit; `[]` when there is none. */
  async listDir(commitish: string, path: string): Promise<DirEntry[]> {
    return read.listDir(this.#ctx, commitish, cleanPath(path));
  }

  /**
   * Writes a commit whose tree is `parent`'s tree with `changes` applied (folders are created
   * and emptied folders removed) and returns its oid. Moves no ref and touches no working tree.
   */
  async writeCommit(input: WriteCommitInput): Promise<string> {
    const seen = new Set<string>();
    const changes: FileChange[] = input.changes.map((change) => {
      const path = cleanPath(change.path);
      assertPath(path);
      if (seen.has(path)) {
        throw new GitError('other', `writeCommit: "${path}" is changed twice in one commit.`, {
          path,
        });
      }
      seen.add(path);
      return { ...change, path };
    });
    return writeCommit(this.#ctx, newCache(this.#ctx), { ...input, changes });
  }

  /**
   * Moves `refs/heads/<branch>` to `oid`. With `expected` (an oid, or `null` for "must not
   * exist") the move is a compare-and-set: a branch elsewhere is a GitError `conflict`.
   *
   * When the branch is checked out, the paths that differ between its old and new tip are
   * written to (or deleted from) the working tree and index, so `git status` stays clean;
   * if any of those paths has uncommitted changes nothing is touched and the call fails with
   * GitError `dirty` naming them. Other paths are never touched.
   */
  async updateBranch(
    branch: string,
    oid: string,
    options: { expected?: string | null } = {},
  ): Promise<void> {
    assertBranchName(branch);
    await updateBranch(this.#ctx, branch, oid, options.expected);
  }

  /** The file paths that differ between two commits (`from: null` means "all of `to`"), sorted. */
  async changedPaths(from: string | null, to: string): Promise<string[]> {
    return read.changedPaths(this.#ctx, from, to);
  }

  /**
   * The history of `ref`, newest first (by committer time, as `git log`). With `path`, only
   * the commits whose tree differs at `path` from their first parent's (a root commit counts
   * when `path` exists in it); merge commits are compared with their first parent too.
   * `firstParent` follows only first parents (`git log --first-parent`): the history of a
   * branch as merges landed on it. `depth` caps the number of commits returned.
   */
  async log(
    ref: string,
    options: { path?: string; depth?: number; firstParent?: boolean } = {},
  ): Promise<GitCommit[]> {
    const path = options.path === undefined ? '' : cleanPath(options.path);
    if (path !== '') assertPath(path);
    return log(this.#ctx, ref, {
      path,
      depth: options.depth ?? Number.POSITIVE_INFINITY,
      firstParent: options.firstParent ?? false,
    });
  }

  /**
   * Writes a commit on top of `onto` that undoes what `commit` changed relative to its
   * `mainline` parent (1-based, as `git revert -m`), and returns its oid without moving a ref.
   * A path whose content at `onto` is neither what `commit` left nor what it replaced is a
   * GitError `conflict`; a path already back to its old content is left alone. When nothing
   * is left to undo the call fails with `conflict` (`data.empty: true`) as `git revert` does.
   */
  async revertCommit(commitish: string, options: RevertOptions): Promise<string> {
    return revertCommit(this.#ctx, commitish, options);
  }

  /**
   * Merges `theirs` into `ours` without touching a ref or working tree. When `ours` is an
   * ancestor of `theirs` the answer is `theirs` (`fastForward`); when `theirs` is already in
   * `ours` it is `ours` (`upToDate`); otherwise a merge commit with parents `[ours, theirs]`
   * whose tree is `ours` plus what `theirs` changed since the merge base. A file both sides
   * changed differently is a GitError `conflict` naming it; so are unrelated histories and
   * several merge bases. `message` must not be empty.
   */
  async mergeCommit(input: MergeInput): Promise<MergeResult> {
    if (input.message === '') {
      throw new GitError('other', 'mergeCommit: give the merge commit a message.', {
        ours: input.ours,
        theirs: input.theirs,
      });
    }
    return mergeCommit(this.#ctx, input);
  }

  /**
   * Fetches `branch` from `remote` into `refs/remotes/<remote>/<branch>` and returns the
   * remote tip. A missing remote branch is a GitError `not-found`.
   */
  async fetch(options: {
    branch: string;
    remote?: string;
    depth?: number;
    /** Also the tags that point into the branch. */
    tags?: boolean;
  }): Promise<string> {
    assertBranchName(options.branch);
    return fetchBranch(this.#ctx, {
      branch: options.branch,
      remote: options.remote ?? 'origin',
      depth: options.depth,
      tags: options.tags ?? false,
    });
  }

  /** Every tag, with the commit it names (`tags.ts`). */
  async listTags(): Promise<TagRef[]> {
    return listTags(this.#ctx);
  }

  /** Writes the annotated tag `name` on `commit` (the committer identity as tagger). */
  async createTag(input: { name: string; commit: string; message: string }): Promise<void> {
    return createAnnotatedTag(this.#ctx, input);
  }

  /** Pushes the tag `name` to `remote` (never moving one the remote has). */
  async pushTag(name: string, remote = 'origin'): Promise<void> {
    return pushTag(this.#ctx, { name, remote });
  }

  /**
   * Pushes the commit `oid` to `refs/heads/<branch>` on `remote` (and records it in
   * `refs/remotes/<remote>/<branch>`). Without `force` the remote branch must be an ancestor
   * of `oid`, else GitError `not-fast-forward` (fetch, redo, retry). A refusal by the server
   * (a protected branch, a hook) is `permission`; bad credentials are `auth`.
   */
  async push(options: {
    oid: string;
    branch: string;
    remote?: string;
    force?: boolean;
  }): Promise<void> {
    assertBranchName(options.branch);
    await pushCommit(this.#ctx, {
      oid: options.oid,
      branch: options.branch,
      remote: options.remote ?? 'origin',
      force: options.force ?? false,
    });
  }
}
