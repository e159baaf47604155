/**
 * Where the registry comes from: a local repository read in place, or a remote cloned shallow
 * and single-branch into a cache folder and fetched again on every reconcile. Either way the
 * server reads git objects at a commit, never a working tree.
 */
import { access, mkdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';

import { GitRepo, stripCredentials } from '../../pipeline/git/repo.ts';

/** The ref's commit now, and the repository to read it from. */
export interface SourceHead {
  commit: string;
  repo: GitRepo;
}

/** A registry to follow. */
export interface RegistrySource {
  /** The repository path or URL (never with credentials), for logs and `/health`. */
  readonly location: string;
  readonly ref: string;
  /** Updates the local copy (fetches a remote) and resolves the ref. */
  head(): Promise<SourceHead>;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * A repository on this machine (a clone with a working tree, or a bare one). Each call opens it
 * afresh with a new object cache, so packs written by a `git gc` or a fetch are seen and
 * nothing read stays in memory between reconciles.
 */
export function localSource(dir: string, ref: string): RegistrySource {
  return {
    location: dir,
    ref,
    async head() {
      const bare = !(await exists(join(dir, '.git'))) && (await exists(join(dir, 'HEAD')));
      const repo = GitRepo.open(dir, { bare, packCache: {} });
      return { commit: await repo.resolve(ref), repo };
    },
  };
}

/**
 * A remote over HTTPS: cloned bare, `depth` 1 and single-branch into `cacheDir` on the first
 * call (or reused when an earlier run left it there), then fetched (`depth` 1) on every call.
 * The token authenticates as GitHub expects; it never appears in a log or an error.
 */
export function remoteSource(options: {
  url: string;
  ref: string;
  cacheDir: string;
  token?: string | undefined;
}): RegistrySource {
  const { url, ref, cacheDir, token } = options;
  const repoOptions = (): { bare: true; packCache: object; token?: string } => ({
    bare: true,
    packCache: {},
    ...(token ? { token } : {}),
  });
  let cloned = false;
  return {
    location: stripCredentials(url),
    ref,
    async head() {
      if (!cloned && !(await exists(join(cacheDir, 'HEAD')))) {
        // Clone beside the cache folder and rename it into place, so a clone cut short by a
        // restart never leaves a half-written repository that looks usable.
        const partial = `${cacheDir}.partial-${process.pid}`;
        await rm(partial, { recursive: true, force: true });
        await mkdir(dirname(cacheDir), { recursive: true });
        const repo = await GitRepo.clone({
          ...repoOptions(),
          dir: partial,
          url,
          branch: ref,
          depth: 1,
          singleBranch: true,
          noCheckout: true,
        });
        const commit = await repo.resolve(`refs/heads/${ref}`);
        await rename(partial, cacheDir);
        cloned = true;
        return { commit, repo: GitRepo.open(cacheDir, repoOptions()) };
      }
      cloned = true;
      const repo = GitRepo.open(cacheDir, repoOptions());
      const commit = await repo.fetch({ branch: ref, depth: 1 });
      return { commit, repo };
    },
  };
}
