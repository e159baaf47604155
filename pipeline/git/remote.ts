/**
 * Clone, fetch and push over HTTPS (isomorphic-git speaks no other transport), with the token
 * as GitHub expects it. Every failure goes through {@link translateRemoteError}.
 */
import git, { type HttpClient } from 'isomorphic-git';
import { GitError } from '../errors.ts';
import { damagedObjects } from './atomic-fs.ts';
import { gitError, isDamagedObject, newCache, run, translate } from './context.ts';
import type { GitContext } from './context.ts';
import { authCallbacks, stripCredentials } from './credentials.ts';
import { resolveCommit, tryResolveRef } from './read.ts';
import { translateRemoteError } from './remote-errors.ts';
import type { RemoteAttempt } from './remote-errors.ts';

const ZERO_OID = '0000000000000000000000000000000000000000';

/** What `GitRepo.clone` fetches and checks out; `url` has no credentials left in it. */
export interface CloneOptions {
  url: string;
  branch: string | undefined;
  depth: number | undefined;
  singleBranch: boolean;
  noCheckout: boolean;
}

/** Clones into the context's folder (see `GitRepo.clone`). */
export async function cloneRepository(ctx: GitContext, options: CloneOptions): Promise<void> {
  const { url, branch, depth, singleBranch, noCheckout } = options;
  await remoteCall(ctx, { action: 'clone', url, branch }, () =>
    git.clone({
      fs: ctx.fs,
      http: ctx.http,
      dir: ctx.dir,
      gitdir: ctx.gitdir,
      url,
      ...(branch !== undefined ? { ref: branch } : {}),
      ...(depth !== undefined ? { depth } : {}),
      singleBranch,
      noCheckout: noCheckout || ctx.bare,
      noTags: singleBranch,
      ...authCallbacks(ctx.token),
    }),
  );
  if (ctx.bare) {
    // isomorphic-git's clone initialises a non-bare repository even when dir is the gitdir.
    await run(ctx, 'mark the clone bare', () =>
      git.setConfig({ fs: ctx.fs, gitdir: ctx.gitdir, path: 'core.bare', value: true }),
    );
  }
}

/**
 * Fetches `branch` into `refs/remotes/<remote>/<branch>` (with `tags`, the tags pointing into
 * it as well) and returns the remote tip.
 */
export async function fetchBranch(
  ctx: GitContext,
  options: { branch: string; remote: string; depth: number | undefined; tags?: boolean },
): Promise<string> {
  const { branch, remote, depth } = options;
  const url = await remoteUrl(ctx, remote);
  const result = await remoteCall(ctx, { action: 'fetch', url, branch }, () =>
    git.fetch({
      fs: ctx.fs,
      http: ctx.http,
      gitdir: ctx.gitdir,
      remote,
      ref: branch,
      remoteRef: branch,
      singleBranch: true,
      tags: options.tags ?? false,
      ...(depth !== undefined ? { depth } : {}),
      ...authCallbacks(ctx.token),
    }),
  );
  const tip = result.fetchHead ?? (await tryResolveRef(ctx, `refs/remotes/${remote}/${branch}`));
  if (tip === null || tip === ZERO_OID) {
    throw new GitError(
      'not-found',
      `${stripCredentials(url)} has no branch ${branch}: check the branch name, or push it first.`,
      { remote, branch },
    );
  }
  return tip;
}

/** Pushes a commit to `refs/heads/<branch>` on a remote (see `GitRepo.push`). */
export async function pushCommit(
  ctx: GitContext,
  options: { oid: string; branch: string; remote: string; force: boolean },
): Promise<void> {
  const oid = await resolveCommit(ctx, options.oid, newCache(ctx));
  await pushRef(ctx, { ...options, ref: oid, remoteRef: `refs/heads/${options.branch}` });
}

/**
 * Pushes `ref` (a local ref or an object id) to `remoteRef` on a remote; `branch` names it in
 * errors (a branch, or `refs/tags/<name>`), `oid` the commit when it is one.
 */
export async function pushRef(
  ctx: GitContext,
  options: {
    ref: string;
    remoteRef: string;
    remote: string;
    force: boolean;
    branch: string;
    oid?: string;
  },
): Promise<void> {
  const { branch, remote, force, ref, remoteRef, oid } = options;
  const url = await remoteUrl(ctx, remote);
  const messages: string[] = [];
  await remoteCall(ctx, { action: 'push', url, branch, oid, messages }, () =>
    git.push({
      fs: ctx.fs,
      http: ctx.http,
      gitdir: ctx.gitdir,
      remote,
      ref,
      remoteRef,
      force,
      onMessage: (line: string) => {
        messages.push(line);
      },
      ...authCallbacks(ctx.token),
    }),
  );
}

async function remoteUrl(ctx: GitContext, remote: string): Promise<string> {
  const url: unknown = await run(ctx, `read remote ${remote}`, () =>
    git.getConfig({ fs: ctx.fs, gitdir: ctx.gitdir, path: `remote.${remote}.url` }),
  );
  if (typeof url !== 'string' || url === '') {
    throw new GitError(
      'not-found',
      `The repository at ${ctx.dir} has no remote "${remote}": clone it, or add the remote (git remote add ${remote} <url>).`,
      { remote },
    );
  }
  return url;
}

async function remoteCall<T>(
  ctx: GitContext,
  attempt: Omit<RemoteAttempt, 'authenticated'>,
  fn: () => Promise<T>,
): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof GitError) throw err;
    if (isDamagedObject(err)) {
      throw translate(ctx, err, `${attempt.action} ${attempt.branch ?? ''}`.trim(), [
        ...(await damagedObjects(ctx.gitdir)),
      ]);
    }
    // isomorphic-git hands sideband lines to onMessage without awaiting them: let them land.
    await new Promise((resolve) => setImmediate(resolve));
    const authenticated = ctx.token !== undefined && ctx.token !== '';
    const { reason, message, data } = translateRemoteError({ ...attempt, authenticated }, err);
    throw gitError(ctx, reason, message, data);
  }
}

/**
 * The commit that a remote's tag or branch `name` points at (`git ls-remote URL name`), an
 * annotated tag peeled to its commit; undefined when the remote has no such tag or branch.
 */
export async function remoteRefCommit(
  url: string,
  name: string,
  http: HttpClient,
): Promise<string | undefined> {
  let refs: Awaited<ReturnType<typeof git.listServerRefs>>;
  try {
    refs = await git.listServerRefs({ http, url, protocolVersion: 1, peelTags: true });
  } catch (err) {
    throw new GitError(
      'network',
      `cannot list the refs of ${stripCredentials(url)}: ${(err as Error).message}`,
      { url: stripCredentials(url) },
      { cause: err },
    );
  }
  for (const full of [`refs/tags/${name}`, `refs/heads/${name}`]) {
    const found = refs.find((r) => r.ref === full);
    if (found !== undefined) return found.peeled ?? found.oid;
  }
  return undefined;
}
