/**
 * Annotated tags: listed with the commit each one names (peeled), written as tag objects (the
 * committer identity as tagger, as `git tag -a` does), and pushed one ref at a time. A tag
 * already on the remote is never moved: pushing one that exists there with another target is a
 * GitError, as git refuses it without `--force`.
 */
import git from 'isomorphic-git';
import { run } from './context.ts';
import type { GitContext } from './context.ts';
import { defaultIdentity } from './identity.ts';
import { pushRef } from './remote.ts';

/** A tag and the commit it names (a tag of a tag is followed to its commit). */
export interface TagRef {
  name: string;
  commit: string;
  /** Whether it is an annotated tag (a tag object), not a lightweight one. */
  annotated: boolean;
}

/** Every tag of the repository, sorted by name. */
export async function listTags(ctx: GitContext): Promise<TagRef[]> {
  const names = await run(ctx, 'list tags', () => git.listTags({ fs: ctx.fs, gitdir: ctx.gitdir }));
  const out: TagRef[] = [];
  for (const name of names.sort()) {
    let oid = await run(ctx, `resolve tag ${name}`, () =>
      git.resolveRef({ fs: ctx.fs, gitdir: ctx.gitdir, ref: `refs/tags/${name}` }),
    );
    let annotated = false;
    for (let depth = 0; depth < 10; depth++) {
      const object = await run(ctx, `read ${name}`, () =>
        git.readObject({ fs: ctx.fs, gitdir: ctx.gitdir, oid }),
      );
      if (object.type !== 'tag') break;
      annotated = true;
      const tag = await run(ctx, `read tag ${name}`, () =>
        git.readTag({ fs: ctx.fs, gitdir: ctx.gitdir, oid }),
      );
      oid = tag.tag.object;
    }
    out.push({ name, commit: oid, annotated });
  }
  return out;
}

/** Writes the annotated tag `name` on `commit` with `message` (tagger: the committer identity). */
export async function createAnnotatedTag(
  ctx: GitContext,
  input: { name: string; commit: string; message: string },
): Promise<void> {
  const who = await defaultIdentity(ctx, 'committer');
  const timestamp = Math.floor(Date.now() / 1000);
  await run(ctx, `tag ${input.name}`, () =>
    git.annotatedTag({
      fs: ctx.fs,
      gitdir: ctx.gitdir,
      ref: input.name,
      object: input.commit,
      message: input.message.endsWith('\n') ? input.message : `${input.message}\n`,
      tagger: { ...who, timestamp, timezoneOffset: new Date(timestamp * 1000).getTimezoneOffset() },
    }),
  );
}

/** Pushes `refs/tags/<name>` to `remote` (never forced). */
export async function pushTag(
  ctx: GitContext,
  input: { name: string; remote: string },
): Promise<void> {
  const ref = `refs/tags/${input.name}`;
  await pushRef(ctx, { ref, remoteRef: ref, remote: input.remote, force: false, branch: ref });
}
