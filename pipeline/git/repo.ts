/**
 * The git adapter: every git operation pinml performs goes through this module, which wraps
 * isomorphic-git (pure JavaScript, so the pipeline, the actions and the server need no `git`
 * binary). Reads come from git objects at a ref, never from the working tree; commits are
 * written as objects first and only `updateBranch` moves a ref, so a caller can plan, write,
 * check and then publish.
 *
 * File system and HTTP client are injected as `{ fs, http }` (node:fs and isomorphic-git's
 * Node client by default). A token authenticates HTTPS as GitHub expects
 * (`x-access-token:<token>`); it is never logged nor put in an error, and credentials in
 * URLs are stripped from every message.
 */
import * as nodeFs from 'node:fs';
import git from 'isomorphic-git';
import type { HttpClient, PromiseFsClient, TreeEntry } from 'isomorphic-git';
// The fetch-based client: the node one calls url.parse(), which Node 24 flags as a security
// deprecation (DEP0169) on every request. Node 20 and later have fetch.
import webHttp from 'isomorphic-git/http/web';
import { GitError } from '../errors.ts';
import type { GitFailure } from '../errors.ts';

/** A file system with node:fs's promise API (node:fs itself, or an in-memory one in tests). */
export type GitFs = PromiseFsClient;

/** Where a repository lives and how to reach its remotes. */
export interface GitRepoOptions {
  /** File system; node:fs by default. */
  fs?: GitFs;
  /** HTTP client for fetch, push and clone; isomorphic-git's Node client by default. */
  http?: HttpClient;
  /** HTTPS token (a GitHub token): sent as the password of user `x-access-token`. */
  token?: string;
  /** A bare repository: `dir` is the git directory and there is no working tree. */
  bare?: boolean;
  /**
   * isomorphic-git's object cache to share between calls of this repository (pass `{}`, one
   * per repository). Reads from packs get faster (a pack is loaded and indexed once), at the
   * cost of keeping the packs read in memory. By default each call starts with an empty one.
   */
  packCache?: object;
}

/** Who wrote or committed a commit; time and zone default to now and the local zone. */
export interface GitIdentity {
  name: string;
  email: string;
  /** Seconds since the epoch. */
  timestamp?: number;
  /** Minutes west of UTC, as `Date#getTimezoneOffset()` (so UTC+2 is -120). */
  timezoneOffset?: number;
}

/** A commit's author or committer as stored. */
export interface GitSignature {
  name: string;
  email: string;
  timestamp: number;
  timezoneOffset: number;
}

/** A commit as read by {@link GitRepo.log} and {@link GitRepo.readCommit}. */
export interface GitCommit {
  oid: string;
  tree: string;
  parents: string[];
  message: string;
  author: GitSignature;
  committer: GitSignature;
}

/** One file to write (`content`) or delete (`content: null`) in a new commit. */
export interface FileChange {
  /** Repository-relative path with `/` separators, such as `registry/iris/pins.json`. */
  path: string;
  content: string | Uint8Array | null;
  /** Mark the file executable; by default an existing file keeps its mode. */
  executable?: boolean;
}

/** What {@link GitRepo.writeCommit} writes. */
export interface WriteCommitInput {
  /** The commit whose tree the changes apply to (oid or ref); `null` for a root commit. */
  parent: string | null;
  changes: readonly FileChange[];
  message: string;
  author?: GitIdentity;
  /** Defaults to the author when one is given, else to the repository's identity. */
  committer?: GitIdentity;
  /** The commit's parents when they are not just `[parent]` (a merge commit). */
  parents?: readonly string[];
}

/** An entry of a folder at a commit. */
export interface DirEntry {
  name: string;
  type: 'blob' | 'tree';
}

/** The result of {@link GitRepo.mergeCommit}. */
export interface MergeResult {
  /** The commit the branch should point at. */
  oid: string;
  /** `ours` is an ancestor of `theirs`: `oid` is `theirs` and no commit was written. */
  fastForward: boolean;
  /** `theirs` is already contained in `ours`: `oid` is `ours` and no commit was written. */
  upToDate: boolean;
}

/** The identity used when none is given and the repository's config names none. */
export const DEFAULT_IDENTITY = {
  name: 'pinml',
  email: 'pinml@users.noreply.github.com',
} as const;

const TOKEN_USER = 'x-access-token';
const EMPTY_TREE = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';
const ZERO_OID = '0000000000000000000000000000000000000000';

/** An entry in a tree: a file (blob), a folder (tree) or a submodule (commit). */
interface Entry {
  mode: string;
  oid: string;
  type: 'blob' | 'tree' | 'commit';
}

/** A planned edit of one path: the new entry, or `null` to delete it. */
interface Edit {
  oid: string;
  /** Omitted: keep an existing file's mode, else a regular file. */
  mode?: string;
}

/** Per-call memo of objects read (isomorphic-git's pack cache plus parsed trees and commits). */
interface ReadCache {
  git: object;
  trees: Map<string, [string, Entry][]>;
  commits: Map<string, GitCommit>;
}

/** The subset of node:fs/promises this module calls itself (isomorphic-git types them loosely). */
interface DirectFs {
  readFile(path: string, options?: { encoding?: 'utf8' }): Promise<Uint8Array | string>;
  writeFile(
    path: string,
    data: Uint8Array | string,
    options?: { mode?: number; flag?: string },
  ): Promise<void>;
  unlink(path: string): Promise<void>;
  rmdir(path: string): Promise<void>;
  mkdir(path: string, options?: { recursive?: boolean }): Promise<unknown>;
  lstat(path: string): Promise<{ isDirectory(): boolean }>;
  symlink?(target: string, path: string): Promise<void>;
}

function errorCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    return typeof err.code === 'string' ? err.code : undefined;
  }
  return undefined;
}

function errorData(err: unknown): Record<string, unknown> {
  if (typeof err === 'object' && err !== null && 'data' in err) {
    const { data } = err;
    if (typeof data === 'object' && data !== null) return data as Record<string, unknown>;
  }
  return {};
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Removes `user:password@` from every URL in a text. */
export function stripCredentials(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/gi, '$1');
}

/** A URL without its `user:password@`, and the password (or a lone user name) as a token. */
function splitCredentials(url: string): { url: string; token?: string } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { url };
  }
  if (parsed.username === '' && parsed.password === '') return { url };
  const secret = decodeURIComponent(parsed.password || parsed.username);
  parsed.username = '';
  parsed.password = '';
  return { url: parsed.toString(), token: secret };
}

/** `owner/name` of a clone URL, for messages that say which repository needs a permission. */
function repoName(url: string): string {
  try {
    const path = new URL(url).pathname.replace(/^\/+|\/+$/g, '').replace(/\.git$/, '');
    return path === '' ? stripCredentials(url) : path;
  } catch {
    return stripCredentials(url);
  }
}

function isOid(text: string): boolean {
  return /^[0-9a-f]{40}$/.test(text);
}

function short(oid: string): string {
  return oid.slice(0, 7);
}

/** Splits and checks a repository-relative path; refuses what git would refuse to store. */
function splitPath(path: string): string[] {
  const parts = path.split('/');
  for (const part of parts) {
    if (part === '' || part === '.' || part === '..' || part.toLowerCase() === '.git') {
      throw new GitError(
        'other',
        `"${path}" is not a valid repository path: use a relative path with "/" separators, no empty, "." or ".." segments and no ".git" folder.`,
        { path },
      );
    }
    if (part.includes('\0')) {
      throw new GitError('other', `"${path}" contains a NUL character.`, { path });
    }
  }
  return parts;
}

/** Normalises a path argument: no leading or trailing slash, `''` for the root. */
function cleanPath(path: string): string {
  return path.replace(/^\/+|\/+$/g, '');
}

/** Checks a branch name against the rules of `git check-ref-format --branch`. */
function assertBranchName(branch: string): void {
  const bad =
    branch === '' ||
    branch === 'HEAD' ||
    branch.startsWith('-') ||
    branch.startsWith('refs/') ||
    branch.startsWith('/') ||
    branch.endsWith('/') ||
    branch.endsWith('.') ||
    branch.endsWith('.lock') ||
    branch.includes('..') ||
    branch.includes('//') ||
    branch.includes('@{') ||
    branch.split('/').some((part) => part.startsWith('.')) ||
    /[\s~^:?*[\\]/.test(branch) ||
    [...branch].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f);
  if (bad) {
    throw new GitError(
      'other',
      `"${branch}" is not a valid branch name: give a short name such as "main" or "pinml/promote-iris" (no "refs/heads/" prefix, spaces, "..", "~", "^", ":" or "\\").`,
      { branch },
    );
  }
}

function sameEntry(a: Entry | undefined, b: Entry | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.oid === b.oid && a.mode === b.mode;
}

function subject(message: string): string {
  const paragraph = message.replace(/^\s+/, '').split(/\n\s*\n/)[0] ?? '';
  return paragraph.split('\n')[0]?.trim() ?? '';
}

function toSignature(s: {
  name: string;
  email: string;
  timestamp: number;
  timezoneOffset: number;
}): GitSignature {
  return { name: s.name, email: s.email, timestamp: s.timestamp, timezoneOffset: s.timezoneOffset };
}

function dirname(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

/** A max-heap of commits by committer time; ties keep the order they were found in. */
class CommitQueue {
  #items: { commit: GitCommit; seq: number }[] = [];
  #seq = 0;
  get size(): number {
    return this.#items.length;
  }
  #before(a: { commit: GitCommit; seq: number }, b: { commit: GitCommit; seq: number }): boolean {
    const ta = a.commit.committer.timestamp;
    const tb = b.commit.committer.timestamp;
    return ta > tb || (ta === tb && a.seq < b.seq);
  }
  push(commit: GitCommit): void {
    const items = this.#items;
    items.push({ commit, seq: this.#seq++ });
    let i = items.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const item = items[i];
      const parent = items[p];
      if (!item || !parent || !this.#before(item, parent)) break;
      items[i] = parent;
      items[p] = item;
      i = p;
    }
  }
  pop(): GitCommit | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (top === undefined || last === undefined) return undefined;
    if (items.length > 0) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let best = i;
        const bi = items[best];
        const li = items[l];
        const ri = items[r];
        if (li && bi && this.#before(li, bi)) best = l;
        const bb = items[best];
        if (ri && bb && this.#before(ri, bb)) best = r;
        if (best === i) break;
        const moving = items[best];
        if (!moving || !bi) break;
        items[i] = moving;
        items[best] = bi;
        i = best;
      }
    }
    return top.commit;
  }
}

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
  readonly #fs: GitFs;
  readonly #http: HttpClient;
  readonly #token: string | undefined;
  readonly #packCache: object | undefined;

  private constructor(dir: string, options: GitRepoOptions = {}) {
    this.dir = dir.replace(/\/+$/, '') || '/';
    this.bare = options.bare ?? false;
    this.gitdir = this.bare ? this.dir : `${this.dir}/.git`;
    this.#fs = options.fs ?? nodeFs;
    this.#http = options.http ?? webHttp;
    this.#token = options.token;
    this.#packCache = options.packCache;
  }

  #newCache(): ReadCache {
    return { git: this.#packCache ?? {}, trees: new Map(), commits: new Map() };
  }

  /** Opens an existing repository (no I/O until the first call). */
  static open(dir: string, options: GitRepoOptions = {}): GitRepo {
    return new GitRepo(dir, options);
  }

  /** Creates a repository (or re-initialises an existing one, leaving its history). */
  static async init(
    dir: string,
    options: GitRepoOptions & { defaultBranch?: string } = {},
  ): Promise<GitRepo> {
    const { defaultBranch = 'main', ...rest } = options;
    assertBranchName(defaultBranch);
    const repo = new GitRepo(dir, rest);
    await repo.#run(`initialise a repository in ${dir}`, () =>
      git.init({
        fs: repo.#fs,
        dir: repo.dir,
        gitdir: repo.gitdir,
        bare: repo.bare,
        defaultBranch,
      }),
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
    await repo.#remoteCall({ action: 'clone', url, branch }, () =>
      git.clone({
        fs: repo.#fs,
        http: repo.#http,
        dir: repo.dir,
        gitdir: repo.gitdir,
        url,
        ...(branch !== undefined ? { ref: branch } : {}),
        ...(depth !== undefined ? { depth } : {}),
        singleBranch,
        noCheckout: noCheckout || repo.bare,
        noTags: singleBranch,
        ...repo.#authCallbacks(),
      }),
    );
    if (repo.bare) {
      // isomorphic-git's clone initialises a non-bare repository even when dir is the gitdir.
      await repo.#run('mark the clone bare', () =>
        git.setConfig({ fs: repo.#fs, gitdir: repo.gitdir, path: 'core.bare', value: true }),
      );
    }
    return repo;
  }

  /** The checked-out branch's short name (also before its first commit); undefined when detached. */
  async currentBranch(): Promise<string | undefined> {
    const name = await this.#run('read HEAD', () =>
      git.currentBranch({ fs: this.#fs, gitdir: this.gitdir, fullname: false }),
    );
    return typeof name === 'string' ? name : undefined;
  }

  /**
   * The commit a ref names: a branch (`main`), a full ref (`refs/remotes/origin/main`), a
   * remote branch (`origin/main`), a tag (annotated tags are peeled), `HEAD`, or a full or
   * abbreviated oid. Anything that does not name a commit is a GitError `not-found`.
   */
  async resolve(ref: string): Promise<string> {
    return this.#resolve(ref, this.#newCache());
  }

  /** Whether `ancestor` is `descendant` or one of its ancestors. */
  async isAncestor(ancestor: string, descendant: string): Promise<boolean> {
    const cache = this.#newCache();
    const a = await this.#resolve(ancestor, cache);
    const d = await this.#resolve(descendant, cache);
    if (a === d) return true;
    return this.#run(`compare ${short(a)} and ${short(d)}`, () =>
      git.isDescendent({
        fs: this.#fs,
        gitdir: this.gitdir,
        oid: d,
        ancestor: a,
        depth: -1,
        cache: cache.git,
      }),
    );
  }

  /** Reads one commit. */
  async readCommit(commitish: string): Promise<GitCommit> {
    const cache = this.#newCache();
    return this.#readCommit(await this.#resolve(commitish, cache), cache);
  }

  /** The bytes of the file at `path` in the commit `commitish`; undefined when no file is there. */
  async readFile(commitish: string, path: string): Promise<Uint8Array | undefined> {
    const cache = this.#newCache();
    const commit = await this.#readCommit(await this.#resolve(commitish, cache), cache);
    const entry = await this.#entryAt(commit.tree, cleanPath(path), cache);
    if (entry?.type !== 'blob') return undefined;
    return this.#readBlob(entry.oid, cache);
  }

  /** {@link readFile} decoded as UTF-8. */
  async readText(commitish: string, path: string): Promise<string | undefined> {
    const bytes = await this.readFile(commitish, path);
    return bytes === undefined ? undefined : new TextDecoder().decode(bytes);
  }

  /** The entries of the folder `path` (`''` for the root) at a commit; `[]` when there is none. */
  async listDir(commitish: string, path: string): Promise<DirEntry[]> {
    const cache = this.#newCache();
    const commit = await this.#readCommit(await this.#resolve(commitish, cache), cache);
    const entry = await this.#entryAt(commit.tree, cleanPath(path), cache);
    if (entry?.type !== 'tree') return [];
    const entries = await this.#readTree(entry.oid, cache);
    return entries.flatMap(([name, e]) =>
      e.type === 'commit' ? [] : [{ name, type: e.type } satisfies DirEntry],
    );
  }

  /**
   * Writes a commit whose tree is `parent`'s tree with `changes` applied (folders are created
   * and emptied folders removed) and returns its oid. Moves no ref and touches no working tree.
   */
  async writeCommit(input: WriteCommitInput): Promise<string> {
    const cache = this.#newCache();
    const parent = input.parent === null ? null : await this.#resolve(input.parent, cache);
    const parents =
      input.parents === undefined
        ? parent === null
          ? []
          : [parent]
        : await Promise.all(input.parents.map((p) => this.#resolve(p, cache)));
    if (input.parents !== undefined && parent !== null && parents[0] !== parent) {
      throw new GitError(
        'other',
        `writeCommit: parents[0] must be the parent whose tree is changed (${short(parent)}).`,
        { parent, parents },
      );
    }
    const seen = new Set<string>();
    const edits = new Map<string, Edit | null>();
    for (const change of input.changes) {
      const path = cleanPath(change.path);
      splitPath(path);
      if (seen.has(path)) {
        throw new GitError('other', `writeCommit: "${path}" is changed twice in one commit.`, {
          path,
        });
      }
      seen.add(path);
      if (change.content === null) {
        edits.set(path, null);
        continue;
      }
      const blob =
        typeof change.content === 'string'
          ? new TextEncoder().encode(change.content)
          : change.content;
      const oid = await this.#run(`write ${path}`, () =>
        git.writeBlob({ fs: this.#fs, gitdir: this.gitdir, blob }),
      );
      const mode =
        change.executable === undefined ? undefined : change.executable ? '100755' : '100644';
      edits.set(path, mode === undefined ? { oid } : { oid, mode });
    }
    const baseTree = parent === null ? null : (await this.#readCommit(parent, cache)).tree;
    const tree =
      (await this.#buildTree(baseTree, edits, '', cache)) ?? (await this.#writeEmptyTree());
    return this.#writeCommitObject({
      tree,
      parents,
      message: input.message,
      author: input.author,
      committer: input.committer,
    });
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
    const cache = this.#newCache();
    const target = await this.#resolve(oid, cache);
    const ref = `refs/heads/${branch}`;
    const fsp = this.#fs.promises as unknown as DirectFs;
    const lock = `${this.gitdir}/${ref}.lock`;
    await fsp.mkdir(dirname(lock), { recursive: true });
    try {
      await fsp.writeFile(lock, `${target}\n`, { flag: 'wx' });
    } catch (err) {
      if (errorCode(err) === 'EEXIST') {
        throw new GitError(
          'conflict',
          `Branch ${branch} is locked by another git process (${ref}.lock exists). Retry; if no git process is running, delete ${lock}.`,
          { branch, lock },
        );
      }
      throw this.#translate(err, `lock branch ${branch}`);
    }
    try {
      const current = await this.#tryResolveRef(ref);
      if (options.expected !== undefined) {
        const expected =
          options.expected === null ? null : await this.#resolve(options.expected, cache);
        if (current !== expected) {
          throw new GitError(
            'conflict',
            `Branch ${branch} moved: ${current === null ? 'it does not exist' : `it is at ${short(current)}`}, but was expected ${expected === null ? 'not to exist' : `at ${short(expected)}`}. Read it again and redo the change on what it is now.`,
            { branch, expected, actual: current },
          );
        }
      }
      if (current !== target && !this.bare && (await this.currentBranch()) === branch) {
        await this.#syncWorkingTree(current, target, cache);
      }
      await this.#run(`update ${ref}`, () =>
        git.writeRef({ fs: this.#fs, gitdir: this.gitdir, ref, value: target, force: true }),
      );
    } finally {
      await fsp.unlink(lock).catch(() => undefined);
    }
  }

  /** The file paths that differ between two commits (`from: null` means "all of `to`"), sorted. */
  async changedPaths(from: string | null, to: string): Promise<string[]> {
    const cache = this.#newCache();
    const fromTree =
      from === null ? null : (await this.#readCommit(await this.#resolve(from, cache), cache)).tree;
    const toTree = (await this.#readCommit(await this.#resolve(to, cache), cache)).tree;
    const diff = await this.#diff(fromTree, toTree, cache);
    return [...diff.keys()].sort();
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
    const cache = this.#newCache();
    const path = options.path === undefined ? '' : cleanPath(options.path);
    if (path !== '') splitPath(path);
    const limit = options.depth ?? Number.POSITIVE_INFINITY;
    const shallow = await this.#shallowCommits();
    const start = await this.#resolve(ref, cache);
    const queue = new CommitQueue();
    const queued = new Set<string>([start]);
    queue.push(await this.#readCommit(start, cache));
    const out: GitCommit[] = [];
    while (queue.size > 0 && out.length < limit) {
      const commit = queue.pop();
      if (commit === undefined) break;
      const parents = shallow.has(commit.oid) ? [] : commit.parents;
      const followed = options.firstParent ? parents.slice(0, 1) : parents;
      const parentCommits: GitCommit[] = [];
      for (const p of followed) {
        const parent = await this.#tryReadCommit(p, cache);
        if (parent !== undefined) parentCommits.push(parent);
      }
      if (path === '') {
        out.push(commit);
      } else {
        const mine = await this.#entryAt(commit.tree, path, cache);
        const first = parentCommits.find((c) => c.oid === parents[0]);
        const theirs =
          first === undefined ? undefined : await this.#entryAt(first.tree, path, cache);
        if (!sameEntry(mine, theirs)) out.push(commit);
      }
      for (const parent of parentCommits) {
        if (queued.has(parent.oid)) continue;
        queued.add(parent.oid);
        queue.push(parent);
      }
    }
    return out;
  }

  /**
   * Writes a commit on top of `onto` that undoes what `commit` changed relative to its
   * `mainline` parent (1-based, as `git revert -m`), and returns its oid without moving a ref.
   * A path whose content at `onto` is neither what `commit` left nor what it replaced is a
   * GitError `conflict`; a path already back to its old content is left alone. When nothing
   * is left to undo the call fails with `conflict` (`data.empty: true`) as `git revert` does.
   */
  async revertCommit(
    commitish: string,
    options: {
      onto: string;
      mainline?: number;
      message?: string;
      author?: GitIdentity;
      committer?: GitIdentity;
    },
  ): Promise<string> {
    const cache = this.#newCache();
    const commit = await this.#readCommit(await this.#resolve(commitish, cache), cache);
    const onto = await this.#readCommit(await this.#resolve(options.onto, cache), cache);
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
      parentOid === undefined ? null : (await this.#readCommit(parentOid, cache)).tree;
    const diff = await this.#diff(parentTree, commit.tree, cache);
    const edits = new Map<string, Edit | null>();
    const conflicts: string[] = [];
    for (const [path, { from, to }] of diff) {
      const now = await this.#entryAt(onto.tree, path, cache);
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
    const tree =
      (await this.#buildTree(onto.tree, edits, '', cache)) ?? (await this.#writeEmptyTree());
    const reversing =
      commit.parents.length > 1 && parentOid !== undefined
        ? `, reversing\nchanges made to ${parentOid}`
        : '';
    const message =
      options.message ??
      `Revert "${subject(commit.message)}"\n\nThis reverts commit ${commit.oid}${reversing}.\n`;
    return this.#writeCommitObject({
      tree,
      parents: [onto.oid],
      message,
      author: options.author,
      committer: options.committer,
    });
  }

  /**
   * Merges `theirs` into `ours` without touching a ref or working tree. When `ours` is an
   * ancestor of `theirs` the answer is `theirs` (`fastForward`); when `theirs` is already in
   * `ours` it is `ours` (`upToDate`); otherwise a merge commit with parents `[ours, theirs]`
   * whose tree is `ours` plus what `theirs` changed since the merge base. A path both sides
   * changed differently is a GitError `conflict` naming it.
   */
  async mergeCommit(input: {
    ours: string;
    theirs: string;
    message: string;
    author?: GitIdentity;
    committer?: GitIdentity;
  }): Promise<MergeResult> {
    const cache = this.#newCache();
    const ours = await this.#resolve(input.ours, cache);
    const theirs = await this.#resolve(input.theirs, cache);
    if (ours === theirs) return { oid: ours, fastForward: false, upToDate: true };
    const descends = (oid: string, ancestor: string): Promise<boolean> =>
      this.#run('walk history', () =>
        git.isDescendent({
          fs: this.#fs,
          gitdir: this.gitdir,
          oid,
          ancestor,
          depth: -1,
          cache: cache.git,
        }),
      );
    if (await descends(theirs, ours)) return { oid: theirs, fastForward: true, upToDate: false };
    if (await descends(ours, theirs)) return { oid: ours, fastForward: false, upToDate: true };
    const bases = (await this.#run('find the merge base', () =>
      git.findMergeBase({
        fs: this.#fs,
        gitdir: this.gitdir,
        oids: [ours, theirs],
        cache: cache.git,
      }),
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
    const baseTree = (await this.#readCommit(base, cache)).tree;
    const oursTree = (await this.#readCommit(ours, cache)).tree;
    const theirsTree = (await this.#readCommit(theirs, cache)).tree;
    const theirChanges = await this.#diff(baseTree, theirsTree, cache);
    const ourChanges = await this.#diff(baseTree, oursTree, cache);
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
    const tree =
      (await this.#buildTree(oursTree, edits, '', cache)) ?? (await this.#writeEmptyTree());
    const oid = await this.#writeCommitObject({
      tree,
      parents: [ours, theirs],
      message: input.message,
      author: input.author,
      committer: input.committer,
    });
    return { oid, fastForward: false, upToDate: false };
  }

  /**
   * Fetches `branch` from `remote` into `refs/remotes/<remote>/<branch>` and returns the
   * remote tip. A missing remote branch is a GitError `not-found`.
   */
  async fetch(options: { branch: string; remote?: string; depth?: number }): Promise<string> {
    const { branch, remote = 'origin', depth } = options;
    assertBranchName(branch);
    const url = await this.#remoteUrl(remote);
    const result = await this.#remoteCall({ action: 'fetch', url, branch }, () =>
      git.fetch({
        fs: this.#fs,
        http: this.#http,
        gitdir: this.gitdir,
        remote,
        ref: branch,
        remoteRef: branch,
        singleBranch: true,
        tags: false,
        ...(depth !== undefined ? { depth } : {}),
        ...this.#authCallbacks(),
      }),
    );
    const tip = result.fetchHead ?? (await this.#tryResolveRef(`refs/remotes/${remote}/${branch}`));
    if (tip === null || tip === ZERO_OID) {
      throw new GitError(
        'not-found',
        `${stripCredentials(url)} has no branch ${branch}: check the branch name, or push it first.`,
        { remote, branch },
      );
    }
    return tip;
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
    const { branch, remote = 'origin', force = false } = options;
    assertBranchName(branch);
    const oid = await this.#resolve(options.oid, this.#newCache());
    const url = await this.#remoteUrl(remote);
    const messages: string[] = [];
    await this.#remoteCall({ action: 'push', url, branch, oid, messages }, () =>
      git.push({
        fs: this.#fs,
        http: this.#http,
        gitdir: this.gitdir,
        remote,
        ref: oid,
        remoteRef: `refs/heads/${branch}`,
        force,
        onMessage: (line: string) => {
          messages.push(line);
        },
        ...this.#authCallbacks(),
      }),
    );
  }

  // ---------------------------------------------------------------- internals

  #authCallbacks(): { onAuth?: () => { username: string; password: string } } {
    const token = this.#token;
    if (token === undefined || token === '') return {};
    // No onAuthFailure: a refused token then surfaces as HTTP 401 instead of a retry loop.
    return { onAuth: () => ({ username: TOKEN_USER, password: token }) };
  }

  /** Redacts the token and URL credentials from a text that may end up in a message. */
  #redact(text: string): string {
    let out = stripCredentials(text);
    const token = this.#token;
    if (token !== undefined && token.length > 0) out = out.split(token).join('***');
    return out;
  }

  #gitError(reason: GitFailure, message: string, data: Record<string, unknown> = {}): GitError {
    const safe = JSON.parse(this.#redact(JSON.stringify(data))) as Record<string, unknown>;
    return new GitError(reason, this.#redact(message), safe);
  }

  /** Maps an isomorphic-git or Node error to a GitError (never keeping the raw error). */
  #translate(err: unknown, doing: string): GitError {
    if (err instanceof GitError) return err;
    const code = errorCode(err);
    const message = errorMessage(err).replace(/\.+$/, '');
    const reason = code === 'NotFoundError' ? 'not-found' : 'other';
    return this.#gitError(reason, `Could not ${doing}: ${message}.`, { code });
  }

  async #run<T>(doing: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw this.#translate(err, doing);
    }
  }

  async #remoteUrl(remote: string): Promise<string> {
    const url: unknown = await this.#run(`read remote ${remote}`, () =>
      git.getConfig({ fs: this.#fs, gitdir: this.gitdir, path: `remote.${remote}.url` }),
    );
    if (typeof url !== 'string' || url === '') {
      throw new GitError(
        'not-found',
        `The repository at ${this.dir} has no remote "${remote}": clone it, or add the remote (git remote add ${remote} <url>).`,
        { remote },
      );
    }
    return url;
  }

  async #remoteCall<T>(
    ctx: {
      action: 'clone' | 'fetch' | 'push';
      url: string;
      branch?: string | undefined;
      oid?: string;
      messages?: string[];
    },
    fn: () => Promise<T>,
  ): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      // isomorphic-git hands sideband lines to onMessage without awaiting them: let them land.
      await new Promise((resolve) => setImmediate(resolve));
      throw this.#remoteError(err, ctx);
    }
  }

  #remoteError(
    err: unknown,
    ctx: {
      action: 'clone' | 'fetch' | 'push';
      url: string;
      branch?: string | undefined;
      oid?: string;
      messages?: string[];
    },
  ): GitError {
    if (err instanceof GitError) return err;
    const url = stripCredentials(ctx.url);
    const repo = repoName(ctx.url);
    const branch = ctx.branch ?? 'the default branch';
    const code = errorCode(err);
    const data = errorData(err);
    const what =
      ctx.action === 'push'
        ? `Push of ${ctx.oid === undefined ? 'a commit' : short(ctx.oid)} to ${branch} on ${url}`
        : ctx.action === 'fetch'
          ? `Fetch of ${branch} from ${url}`
          : `Clone of ${url}`;
    const remoteSaid = (ctx.messages ?? [])
      .map((line) => line.replace(/\s+$/, ''))
      .filter((line) => line !== '');
    const said = remoteSaid.length > 0 ? ` The server said: "${remoteSaid.join(' ')}".` : '';
    const grant =
      ctx.action === 'push'
        ? `the token needs contents: write on ${repo}, and ${branch} may be a protected branch: allow the pusher or open a pull request.`
        : `the token needs contents: read on ${repo}.`;
    const base = { action: ctx.action, url, branch: ctx.branch, code };

    if (code === 'PushRejectedError') {
      const reason = typeof data.reason === 'string' ? data.reason : 'not-fast-forward';
      return this.#gitError(
        'not-fast-forward',
        `${what} was rejected: ${branch} on the remote has commits that ${ctx.oid === undefined ? 'the commit' : short(ctx.oid)} does not contain (${reason}). Fetch ${branch}, redo the change on its new tip, and push again.`,
        base,
      );
    }
    if (code === 'GitPushError') {
      const result = (data.result ?? {}) as {
        ok?: boolean;
        error?: string;
        refs?: Record<string, { ok?: boolean; error?: string }>;
      };
      const refErrors = Object.entries(result.refs ?? {})
        .filter(([, r]) => r.ok !== true)
        .map(([ref, r]) => `${ref}: ${r.error ?? 'refused'}`);
      const detail = [result.ok === false ? (result.error ?? 'unpack failed') : '', ...refErrors]
        .filter((s) => s !== '')
        .join('; ');
      if (
        /non-fast-forward|fetch first|stale info|cannot lock ref|failed to (update|lock)/i.test(
          detail,
        )
      ) {
        return this.#gitError(
          'not-fast-forward',
          `${what} was rejected because ${branch} moved on the remote (${detail}). Fetch ${branch}, redo the change on its new tip, and push again.${said}`,
          { ...base, refused: detail },
        );
      }
      if (result.ok === false) {
        return this.#gitError(
          'other',
          `${what} failed: the server could not store the objects (${detail}).${said}`,
          { ...base, refused: detail },
        );
      }
      return this.#gitError(
        'permission',
        `${what} was refused by the server (${detail}).${said} ${capitalise(grant)}`,
        { ...base, refused: detail, remoteMessages: remoteSaid },
      );
    }
    if (code === 'HttpError') {
      const status = typeof data.statusCode === 'number' ? data.statusCode : 0;
      if (status === 401) {
        return this.#gitError(
          'auth',
          this.#token
            ? `${what} failed: the server did not accept the token (HTTP 401). Check that it is valid, not expired, and has access to ${repo}.`
            : `${what} failed: the server needs credentials (HTTP 401). Pass a token (in GitHub Actions, the GITHUB_TOKEN).`,
          { ...base, status },
        );
      }
      if (status === 403) {
        return this.#gitError('permission', `${what} was forbidden (HTTP 403): ${grant}`, {
          ...base,
          status,
        });
      }
      if (status === 404) {
        return this.#gitError(
          'not-found',
          `${what} failed: there is no repository at ${url} (HTTP 404). Check the URL${this.#token ? ', and that the token has access to it' : ''}.`,
          { ...base, status },
        );
      }
      return this.#gitError(
        status >= 500 || status === 429 ? 'network' : 'other',
        `${what} failed: the server answered HTTP ${status}. Retry later; if it persists, check the server.`,
        { ...base, status },
      );
    }
    if (code === 'UserCanceledError') {
      return this.#gitError(
        'auth',
        `${what} failed: the server did not accept the credentials. Check the token.`,
        base,
      );
    }
    if (code === 'NotFoundError') {
      return this.#gitError(
        'not-found',
        ctx.branch === undefined
          ? `${what} failed: ${errorMessage(err)}. Check the URL.`
          : `${what} failed: the remote has no branch ${ctx.branch}. Check the branch name, or push it first.`,
        base,
      );
    }
    if (code === 'SmartHttpError') {
      return this.#gitError(
        'other',
        `${what} failed: the server did not answer as a git smart-HTTP server. Check the URL (it usually ends in .git).`,
        base,
      );
    }
    const netCode = networkCode(err);
    if (netCode !== undefined) {
      return this.#gitError(
        'network',
        `${what} failed: could not connect (${netCode}). Check the URL and the network, then retry.`,
        { ...base, code: netCode },
      );
    }
    return this.#gitError('other', `${what} failed: ${errorMessage(err)}`, base);
  }

  async #tryResolveRef(ref: string): Promise<string | null> {
    try {
      return await git.resolveRef({ fs: this.#fs, gitdir: this.gitdir, ref });
    } catch (err) {
      if (errorCode(err) === 'NotFoundError') return null;
      throw this.#translate(err, `read ${ref}`);
    }
  }

  async #resolve(ref: string, cache: ReadCache): Promise<string> {
    const notFound = async (): Promise<GitError> => {
      const isRepo = await (this.#fs.promises as unknown as DirectFs)
        .lstat(`${this.gitdir}/HEAD`)
        .then(
          () => true,
          () => false,
        );
      return this.#gitError(
        'not-found',
        isRepo
          ? `"${ref}" names no commit in ${this.dir}: give a branch, tag, remote branch (origin/main) or commit oid that exists here (fetch first if it is on the remote).`
          : `${this.dir} is not a git repository (${this.gitdir}/HEAD is missing): clone or initialise it first.`,
        { ref },
      );
    };
    if (ref.trim() === '') throw await notFound();
    let oid: string | null = null;
    if (isOid(ref)) oid = ref;
    else {
      oid = await this.#tryResolveRef(ref);
      if (oid === null && /^[0-9a-f]{4,39}$/.test(ref)) {
        try {
          oid = await git.expandOid({
            fs: this.#fs,
            gitdir: this.gitdir,
            oid: ref,
            cache: cache.git,
          });
        } catch (err) {
          if (errorCode(err) === 'AmbiguousError') {
            throw this.#gitError('not-found', `"${ref}" is ambiguous: give more of the oid.`, {
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
          fs: this.#fs,
          gitdir: this.gitdir,
          oid,
          format: 'parsed',
          cache: cache.git,
        }));
      } catch (err) {
        if (errorCode(err) === 'NotFoundError') throw await notFound();
        throw this.#translate(err, `read ${ref}`);
      }
      if (type === 'commit') return oid;
      if (type === 'tag') {
        oid = (object as { object: string }).object;
        continue;
      }
      throw this.#gitError('not-found', `"${ref}" names a ${type}, not a commit.`, { ref, type });
    }
    throw await notFound();
  }

  async #tryReadCommit(oid: string, cache: ReadCache): Promise<GitCommit | undefined> {
    try {
      return await this.#readCommit(oid, cache);
    } catch (err) {
      if (err instanceof GitError && err.reason === 'not-found') return undefined;
      throw err;
    }
  }

  async #readCommit(oid: string, cache: ReadCache): Promise<GitCommit> {
    const hit = cache.commits.get(oid);
    if (hit !== undefined) return hit;
    const { commit } = await this.#run(`read commit ${short(oid)}`, () =>
      git.readCommit({ fs: this.#fs, gitdir: this.gitdir, oid, cache: cache.git }),
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

  async #readBlob(oid: string, cache: ReadCache): Promise<Uint8Array> {
    const { blob } = await this.#run(`read blob ${short(oid)}`, () =>
      git.readBlob({ fs: this.#fs, gitdir: this.gitdir, oid, cache: cache.git }),
    );
    return blob;
  }

  /** A tree's entries as `[name, entry]`, in tree order. */
  async #readTree(oid: string, cache: ReadCache): Promise<[string, Entry][]> {
    const hit = cache.trees.get(oid);
    if (hit !== undefined) return hit;
    const { tree } = await this.#run(`read tree ${short(oid)}`, () =>
      git.readTree({ fs: this.#fs, gitdir: this.gitdir, oid, cache: cache.git }),
    );
    const entries = tree.map((e: TreeEntry): [string, Entry] => [
      e.path,
      { mode: e.mode, oid: e.oid, type: e.type },
    ]);
    cache.trees.set(oid, entries);
    return entries;
  }

  /** The entry at `path` under the tree `treeOid` (`''` is the tree itself). */
  async #entryAt(treeOid: string, path: string, cache: ReadCache): Promise<Entry | undefined> {
    let entry: Entry = { mode: '040000', oid: treeOid, type: 'tree' };
    if (path === '') return entry;
    for (const name of path.split('/')) {
      if (entry.type !== 'tree') return undefined;
      const found = (await this.#readTree(entry.oid, cache)).find(([n]) => n === name);
      if (found === undefined) return undefined;
      entry = found[1];
    }
    return entry;
  }

  /** Every file (non-tree entry) that differs between two trees, with its two sides. */
  async #diff(
    a: string | null,
    b: string | null,
    cache: ReadCache,
  ): Promise<Map<string, { from?: Entry; to?: Entry }>> {
    const out = new Map<string, { from?: Entry; to?: Entry }>();
    const walk = async (x: string | null, y: string | null, prefix: string): Promise<void> => {
      if (x === y) return;
      const xs = new Map(x === null ? [] : await this.#readTree(x, cache));
      const ys = new Map(y === null ? [] : await this.#readTree(y, cache));
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

  /**
   * Applies `edits` (paths relative to `prefix`) to the tree `base` and writes the trees that
   * changed; returns the new tree's oid, or null when it ends up empty.
   */
  async #buildTree(
    base: string | null,
    edits: Map<string, Edit | null>,
    prefix: string,
    cache: ReadCache,
  ): Promise<string | null> {
    const entries = new Map(base === null ? [] : await this.#readTree(base, cache));
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
      const oid = await this.#buildTree(existing?.oid ?? null, sub, `${prefix}${name}/`, cache);
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
    return this.#run(`write tree ${prefix || '/'}`, () =>
      git.writeTree({ fs: this.#fs, gitdir: this.gitdir, tree }),
    );
  }

  /** Writes git's empty tree, which a commit of no files needs as an object like any other. */
  async #writeEmptyTree(): Promise<string> {
    return this.#run('write the empty tree', () =>
      git.writeTree({ fs: this.#fs, gitdir: this.gitdir, tree: [] }),
    );
  }

  async #identity(given: GitIdentity | undefined): Promise<GitSignature> {
    let name = given?.name;
    let email = given?.email;
    if (name === undefined || email === undefined) {
      const read = async (path: string): Promise<string | undefined> => {
        const value: unknown = await git
          .getConfig({ fs: this.#fs, gitdir: this.gitdir, path })
          .catch(() => undefined);
        return typeof value === 'string' && value !== '' ? value : undefined;
      };
      name ??= (await read('user.name')) ?? DEFAULT_IDENTITY.name;
      email ??= (await read('user.email')) ?? DEFAULT_IDENTITY.email;
    }
    const timestamp = given?.timestamp ?? Math.floor(Date.now() / 1000);
    const timezoneOffset = given?.timezoneOffset ?? new Date(timestamp * 1000).getTimezoneOffset();
    return { name, email, timestamp, timezoneOffset };
  }

  async #writeCommitObject(input: {
    tree: string;
    parents: string[];
    message: string;
    author: GitIdentity | undefined;
    committer: GitIdentity | undefined;
  }): Promise<string> {
    const author = await this.#identity(input.author);
    const committer =
      input.committer !== undefined
        ? await this.#identity(input.committer)
        : input.author !== undefined
          ? author
          : await this.#identity(undefined);
    return this.#run('write the commit', () =>
      git.writeCommit({
        fs: this.#fs,
        gitdir: this.gitdir,
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

  async #shallowCommits(): Promise<Set<string>> {
    const fsp = this.#fs.promises as unknown as DirectFs;
    try {
      const text = await fsp.readFile(`${this.gitdir}/shallow`, { encoding: 'utf8' });
      return new Set(String(text).split('\n').filter(isOid));
    } catch {
      return new Set();
    }
  }

  /**
   * Brings the working tree and index from `from` to `to` for the paths that differ, after
   * checking that none of them has uncommitted changes.
   */
  async #syncWorkingTree(from: string | null, to: string, cache: ReadCache): Promise<void> {
    const fromTree = from === null ? null : (await this.#readCommit(from, cache)).tree;
    const toTree = (await this.#readCommit(to, cache)).tree;
    const diff = await this.#diff(fromTree, toTree, cache);
    if (diff.size === 0) return;
    const paths = [...diff.keys()].sort();
    const rows = await this.#run('check the working tree', () =>
      git.statusMatrix({
        fs: this.#fs,
        dir: this.dir,
        gitdir: this.gitdir,
        ref: from ?? 'HEAD',
        filepaths: paths,
        ignored: true,
        cache: cache.git,
      }),
    );
    // Rows are [path, HEAD, workdir, stage]; [1, 1, 1] is a clean tracked file.
    const dirty = rows
      .filter(([, head, workdir, stage]) => !(head === 1 && workdir === 1 && stage === 1))
      .map(([path]) => path);
    if (dirty.length > 0) {
      throw new GitError(
        'dirty',
        `The working tree at ${this.dir} has uncommitted changes to ${dirty.join(', ')}, which the new commit also changes. Commit or discard them (git stash), then retry.`,
        { paths: dirty },
      );
    }
    const fsp = this.#fs.promises as unknown as DirectFs;
    // Deletions first: a folder may be replaced by a file of the same name, or the reverse.
    for (const [path, { to }] of diff) {
      if (to !== undefined) continue;
      await fsp.unlink(`${this.dir}/${path}`).catch(() => undefined);
      await this.#run(`unstage ${path}`, () =>
        git.updateIndex({
          fs: this.#fs,
          dir: this.dir,
          gitdir: this.gitdir,
          filepath: path,
          remove: true,
          force: true,
        }),
      );
      for (let parent = dirname(path); parent !== ''; parent = dirname(parent)) {
        const removed = await fsp.rmdir(`${this.dir}/${parent}`).then(
          () => true,
          () => false,
        );
        if (!removed) break;
      }
    }
    for (const [path, { to }] of diff) {
      if (to === undefined || to.type === 'commit') continue;
      const file = `${this.dir}/${path}`;
      const blob = await this.#readBlob(to.oid, cache);
      await fsp.unlink(file).catch(() => undefined);
      await fsp.mkdir(`${this.dir}/${dirname(path)}`, { recursive: true });
      if (to.mode === '120000' && fsp.symlink) {
        await fsp.symlink(new TextDecoder().decode(blob), file);
      } else {
        await fsp.writeFile(file, blob, { mode: to.mode === '100755' ? 0o755 : 0o644 });
      }
      const oid = await this.#run(`stage ${path}`, () =>
        git.updateIndex({
          fs: this.#fs,
          dir: this.dir,
          gitdir: this.gitdir,
          filepath: path,
          add: true,
        }),
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
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** The Node network error code in an error (or in one of an AggregateError's errors). */
function networkCode(err: unknown): string | undefined {
  const codes = new Set([
    'ECONNREFUSED',
    'ECONNRESET',
    'ENOTFOUND',
    'EAI_AGAIN',
    'ETIMEDOUT',
    'EHOSTUNREACH',
    'ENETUNREACH',
    'EPIPE',
    'UND_ERR_SOCKET',
    'UND_ERR_CONNECT_TIMEOUT',
  ]);
  const queue: unknown[] = [err];
  for (let i = 0; i < queue.length && i < 20; i++) {
    const e = queue[i];
    const code = errorCode(e);
    if (code !== undefined && codes.has(code)) return code;
    if (e instanceof AggregateError) queue.push(...(e.errors as unknown[]));
    if (e instanceof Error && e.cause !== undefined) queue.push(e.cause);
  }
  return undefined;
}
