/**
 * What every command of the adapter is handed: the repository's file system, HTTP client,
 * folders and token (as isomorphic-git's commands take `{ fs, http, dir, gitdir }`), a per-call
 * read cache, and the one way a foreign error becomes a {@link GitError}.
 */
import type { HttpClient } from 'isomorphic-git';
import { GitError } from '../errors.ts';
import type { GitFailure } from '../errors.ts';
import { damagedObjects } from './atomic-fs.ts';
import { redact } from './credentials.ts';
import { errorCode, errorMessage } from './error-shape.ts';
import type { GitCommit, GitFs } from './types.ts';

/** One repository as the commands see it. */
export interface GitContext {
  fs: GitFs;
  http: HttpClient;
  /** The working tree (or, for a bare repository, the git directory). */
  dir: string;
  /** The git directory (`<dir>/.git`, or `dir` when bare). */
  gitdir: string;
  bare: boolean;
  token: string | undefined;
  /** isomorphic-git's object cache shared between calls, if the caller gave one. */
  packCache: object | undefined;
  /** The environment a commit's default identity is read from, as git reads it (`identity.ts`). */
  env: Readonly<Record<string, string | undefined>>;
}

/** An entry in a tree: a file (blob), a folder (tree) or a submodule (commit). */
export interface Entry {
  mode: string;
  oid: string;
  type: 'blob' | 'tree' | 'commit';
}

/** Per-call memo of objects read (isomorphic-git's pack cache plus parsed trees and commits). */
export interface ReadCache {
  git: object;
  trees: Map<string, [string, Entry][]>;
  commits: Map<string, GitCommit>;
}

/** The subset of node:fs/promises the adapter calls itself (isomorphic-git types them loosely). */
export interface DirectFs {
  readFile(path: string, options?: { encoding?: 'utf8' }): Promise<Uint8Array | string>;
  writeFile(
    path: string,
    data: Uint8Array | string,
    options?: { mode?: number; flag?: string },
  ): Promise<void>;
  unlink(path: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  rmdir(path: string): Promise<void>;
  mkdir(path: string, options?: { recursive?: boolean }): Promise<unknown>;
  lstat(path: string): Promise<{ isDirectory(): boolean }>;
  symlink?(target: string, path: string): Promise<void>;
}

/** A fresh read cache for one call (sharing the repository's pack cache, if any). */
export function newCache(ctx: GitContext): ReadCache {
  return { git: ctx.packCache ?? {}, trees: new Map(), commits: new Map() };
}

/** The repository's file system, for the few calls the adapter makes itself. */
export function files(ctx: GitContext): DirectFs {
  return ctx.fs.promises as unknown as DirectFs;
}

/** A GitError whose message and data have the token and URL credentials redacted. */
export function gitError(
  ctx: GitContext,
  reason: GitFailure,
  message: string,
  data: Record<string, unknown> = {},
): GitError {
  const safe = JSON.parse(redact(JSON.stringify(data), ctx.token)) as Record<string, unknown>;
  return new GitError(reason, redact(message, ctx.token), safe);
}

/** The file-system error codes {@link translate} explains, with what to do. */
const FS_FAILURES: Record<string, (where: string, ctx: GitContext) => string> = {
  EACCES: (where, ctx) =>
    `permission denied at ${where}. Check that you own ${ctx.gitdir} and can write to it (a git command run with sudo leaves files owned by root: sudo chown -R "$(id -un)" ${ctx.gitdir})`,
  EPERM: (where, ctx) => FS_FAILURES.EACCES!(where, ctx),
  ENOSPC: (where) =>
    `no space left on the disk that holds ${where}. Free some space and run again: nothing was published, and the repository is as it was`,
  EDQUOT: (where) =>
    `the disk quota is exceeded at ${where}. Free some space and run again: nothing was published`,
  EROFS: (where) => `${where} is on a read-only file system. Run in a writable clone`,
};

/** Where a file-system error happened, as a user should look: a temporary file's folder. */
function failedPath(err: unknown): string | undefined {
  const path =
    typeof err === 'object' && err !== null && 'path' in err && typeof err.path === 'string'
      ? err.path
      : undefined;
  if (path === undefined) return undefined;
  const slash = path.lastIndexOf('/');
  const base = path.slice(slash + 1);
  return /^tmp_obj_|\.pinml-[0-9a-f]{8}-\d+/.test(base) ? path.slice(0, slash) : path;
}

/** What a damaged object reads as when isomorphic-git inflates or hashes it. */
const DAMAGED =
  /invalid compressed buffer|incorrect header check|unexpected end of file|invalid stored block|invalid distance|SHA check failed|buffer error|compressed data was not valid/i;

/** Whether an error is a git object that does not inflate or does not hash to its id. */
export function isDamagedObject(err: unknown): boolean {
  return DAMAGED.test(errorMessage(err));
}

/**
 * Maps an isomorphic-git or Node error to a GitError (never keeping the raw error). A file
 * system error names the path that failed and what to do; `damaged`, when given, lists the
 * loose objects found damaged (see {@link run}).
 */
export function translate(
  ctx: GitContext,
  err: unknown,
  doing: string,
  damaged?: readonly string[],
): GitError {
  if (err instanceof GitError) return err;
  const code = errorCode(err);
  const message = errorMessage(err).replace(/\.+$/, '');
  const where = failedPath(err);
  const explain = code === undefined ? undefined : FS_FAILURES[code];
  if (explain !== undefined && where !== undefined) {
    return gitError(ctx, 'other', `Could not ${doing}: ${explain(where, ctx)} (${code}).`, {
      code,
      path: where,
    });
  }
  if (damaged !== undefined) {
    const files = damaged.length > 0 ? damaged.join(', ') : 'none of the loose objects';
    const advice =
      damaged.length > 0
        ? `Move ${damaged.length === 1 ? 'it' : 'them'} aside (or delete ${damaged.length === 1 ? 'it' : 'them'}) and run again: pinml writes the objects it needs again, and git fetch restores one that came from the remote`
        : 'Run git fsck --full to find the damaged object or pack, then git fetch to restore it';
    return gitError(
      ctx,
      'other',
      `Could not ${doing}: a git object is damaged (${message}); damaged: ${files}. ${advice}.`,
      { code, damaged: [...damaged] },
    );
  }
  const reason = code === 'NotFoundError' ? 'not-found' : 'other';
  return gitError(ctx, reason, `Could not ${doing}: ${message}.`, { code });
}

/** Runs one isomorphic-git call, translating what it throws. */
export async function run<T>(ctx: GitContext, doing: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (!(err instanceof GitError) && isDamagedObject(err)) {
      throw translate(ctx, err, doing, await damagedObjects(ctx.gitdir));
    }
    throw translate(ctx, err, doing);
  }
}

/** An oid as messages show it. */
export function short(oid: string): string {
  return oid.slice(0, 7);
}

/** The folder of a repository path (`''` at the root). */
export function dirname(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}
