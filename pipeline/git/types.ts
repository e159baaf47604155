/**
 * The shapes the git adapter takes and returns. `repo.ts` re-exports every one of them, so
 * callers import from there.
 */
import type { HttpClient, PromiseFsClient } from 'isomorphic-git';

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
  /**
   * The environment git's identity is read from when a commit names no author or committer:
   * `GIT_AUTHOR_*`, `GIT_COMMITTER_*`, `EMAIL`, and `HOME`, `XDG_CONFIG_HOME` and
   * `GIT_CONFIG_GLOBAL` for the global configuration. `process.env` by default.
   */
  env?: Readonly<Record<string, string | undefined>>;
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

/** A commit as read by `GitRepo.log` and `GitRepo.readCommit`. */
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

/** What `GitRepo.writeCommit` writes. */
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

/** The result of `GitRepo.mergeCommit`. */
export interface MergeResult {
  /** The commit the branch should point at. */
  oid: string;
  /** `ours` is an ancestor of `theirs`: `oid` is `theirs` and no commit was written. */
  fastForward: boolean;
  /** `theirs` is already contained in `ours`: `oid` is `ours` and no commit was written. */
  upToDate: boolean;
}
