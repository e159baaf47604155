/**
 * History as `git log` shows it: newest first by committer time, optionally limited to the
 * commits that changed a path (against their first parent), or to first parents only. The walk
 * keeps its frontier in a max-heap by committer time, as git's own revision walk orders it.
 */
import { files, newCache } from './context.ts';
import type { GitContext } from './context.ts';
import { entryAt, loadCommit, resolveCommit, sameEntry, tryLoadCommit } from './read.ts';
import type { GitCommit } from './types.ts';
import { isOid } from './validate.ts';

/** What `GitRepo.log` was asked; `path` is normalised and checked, `''` for every commit. */
export interface LogOptions {
  path: string;
  depth: number;
  firstParent: boolean;
}

/** The history of `ref` (see `GitRepo.log`). */
export async function log(ctx: GitContext, ref: string, options: LogOptions): Promise<GitCommit[]> {
  const { path, depth, firstParent } = options;
  const cache = newCache(ctx);
  const shallow = await shallowCommits(ctx);
  const start = await resolveCommit(ctx, ref, cache);
  const queue = new CommitQueue();
  const queued = new Set<string>([start]);
  queue.push(await loadCommit(ctx, start, cache));
  const out: GitCommit[] = [];
  while (queue.size > 0 && out.length < depth) {
    const commit = queue.pop();
    if (commit === undefined) break;
    const parents = shallow.has(commit.oid) ? [] : commit.parents;
    const followed = firstParent ? parents.slice(0, 1) : parents;
    const parentCommits: GitCommit[] = [];
    for (const p of followed) {
      const parent = await tryLoadCommit(ctx, p, cache);
      if (parent !== undefined) parentCommits.push(parent);
    }
    if (path === '') {
      out.push(commit);
    } else {
      const mine = await entryAt(ctx, commit.tree, path, cache);
      const first = parentCommits.find((c) => c.oid === parents[0]);
      const theirs = first === undefined ? undefined : await entryAt(ctx, first.tree, path, cache);
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

/** The commits a shallow clone cut the history at (`.git/shallow`). */
async function shallowCommits(ctx: GitContext): Promise<Set<string>> {
  try {
    const text = await files(ctx).readFile(`${ctx.gitdir}/shallow`, { encoding: 'utf8' });
    return new Set(String(text).split('\n').filter(isOid));
  } catch {
    return new Set();
  }
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
