/**
 * The history of production: every commit on the branch's first-parent line that changed a
 * model's `pins.json`, and which of them set the production version now in effect.
 *
 * Promotions stack up; a revert of a promotion (git's or GitHub's "This reverts commit …",
 * directly or as the head of a merged revert branch; of the merge commit that landed it, or of
 * the promotion commit on its merged side) takes it off the stack. The commit that
 * set the pin in effect is the top of the stack, so a second rollback goes one step further
 * back and never re-promotes a version that was rolled back.
 */
import { GitError } from '../errors.ts';
import type { GitCommit, GitRepo } from '../git/repo.ts';
import { pullRequestNumber, revertedCommit } from './messages.ts';
import { paths } from './paths.ts';
import { parseEntry } from './registry.ts';
import { pinsSchema } from './schema.ts';

/** One commit that changed the production pin, as read from git. */
export interface PinChange {
  commit: GitCommit;
  /** Production before (at the first parent) and after this commit. */
  before: number | null;
  after: number | null;
  /** The commit this one reverts, when it is a revert (or merges one). */
  reverts?: string;
}

export type ChangeKind = 'promote' | 'rollback' | 'change';

export interface HistoryEntry {
  kind: ChangeKind;
  commit: string;
  /** Whether it is a merge commit (a revert of it needs mainline 1). */
  merge: boolean;
  before: number | null;
  after: number | null;
  pullRequest?: number;
  subject: string;
  author: GitCommit['author'];
  committer: GitCommit['committer'];
  /** For a rollback: the commit it reverted. */
  reverts?: string;
}

export interface ProductionHistory {
  /** Oldest first. */
  entries: HistoryEntry[];
  /** The commits that set production pins still in effect, oldest first; the last is current. */
  stack: HistoryEntry[];
  /** Versions taken out of production by a rollback. */
  rolledBack: number[];
}

/** Builds the history from pin changes, oldest first (pure). */
export function buildHistory(changes: readonly PinChange[]): ProductionHistory {
  const entries: HistoryEntry[] = [];
  const stack: HistoryEntry[] = [];
  const rolledBack: number[] = [];
  for (const change of changes) {
    const { commit } = change;
    const pr = pullRequestNumber(commit.message);
    const base = {
      commit: commit.oid,
      merge: commit.parents.length > 1,
      before: change.before,
      after: change.after,
      subject: commit.message.split('\n', 1)[0] ?? '',
      author: commit.author,
      committer: commit.committer,
      ...(pr === undefined ? {} : { pullRequest: pr }),
    };
    const undone =
      change.reverts === undefined ? -1 : stack.findIndex((e) => e.commit === change.reverts);
    if (undone >= 0) {
      const [removed] = stack.splice(undone, 1);
      if (removed?.after != null) rolledBack.push(removed.after);
      entries.push({
        ...base,
        kind: 'rollback',
        ...(change.reverts ? { reverts: change.reverts } : {}),
      });
      continue;
    }
    const entry: HistoryEntry = { ...base, kind: change.after === null ? 'change' : 'promote' };
    entries.push(entry);
    if (change.after !== null) stack.push(entry);
  }
  return { entries, stack, rolledBack };
}

/** The version production pins at `commit` (null without a pins file, or without a commit). */
export async function productionAt(
  repo: GitRepo,
  commit: string | undefined,
  model: string,
): Promise<number | null> {
  if (commit === undefined) return null;
  const file = paths.pins(model);
  const text = await repo.readText(commit, file);
  return text === undefined ? null : parseEntry(pinsSchema, text, file, commit).production;
}

/**
 * The merge commit on the first-parent line that brought `oid` in from its merged side, among
 * `merges` (latest first wins). `git log <path>` shows a promotion merged as a merge commit by
 * its commit on the merged side, so that is the commit a user reverts; production changed at
 * the merge.
 */
async function mergeBringing(
  repo: GitRepo,
  merges: readonly GitCommit[],
  oid: string,
): Promise<string | undefined> {
  for (const merge of [...merges].reverse()) {
    const [first, side] = merge.parents;
    if (first === undefined || side === undefined) continue;
    try {
      if ((await repo.isAncestor(oid, side)) && !(await repo.isAncestor(oid, first))) {
        return merge.oid;
      }
    } catch (e) {
      // The reverted commit is not in this repository (a shallow clone, a deleted branch).
      if (e instanceof GitError && e.reason === 'not-found') return undefined;
      throw e;
    }
  }
  return undefined;
}

/** Reads a model's production history on `ref`'s first-parent line. */
export async function readHistory(
  repo: GitRepo,
  ref: string,
  model: string,
): Promise<ProductionHistory> {
  const commits = await repo.log(ref, { path: paths.pins(model), firstParent: true });
  const changes: PinChange[] = [];
  for (const commit of commits.reverse()) {
    const before = await productionAt(repo, commit.parents[0], model);
    const after = await productionAt(repo, commit.oid, model);
    let reverts = revertedCommit(commit.message);
    // A merged revert branch (GitHub's Revert button, then "Merge pull request"): the revert
    // is the head of the merged side.
    if (reverts === undefined && commit.parents[1] !== undefined) {
      reverts = revertedCommit((await repo.readCommit(commit.parents[1])).message);
    }
    if (before === after) continue;
    if (reverts !== undefined && !changes.some((c) => c.commit.oid === reverts)) {
      const merges = changes.map((c) => c.commit).filter((c) => c.parents.length > 1);
      reverts = (await mergeBringing(repo, merges, reverts)) ?? reverts;
    }
    changes.push({ commit, before, after, ...(reverts ? { reverts } : {}) });
  }
  return buildHistory(changes);
}
