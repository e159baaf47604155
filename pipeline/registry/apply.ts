/**
 * Carrying plans out through the git adapter: registration commits (pushed with fetch,
 * re-plan and retry when the remote moved), promotion and rollback branches
 * (create-or-update, never duplicated), and local merges for `--merge`.
 */
import { GitError, RegistryError } from '../errors.ts';
import type { GitRepo } from '../git/repo.ts';
import type { TrainRun } from '../train.ts';
import { sha256 } from '../json.ts';
import { readAssessment, readRunFolder } from '../run-folder.ts';
import { mergeMessage } from './messages.ts';
import type { CardAssessment } from './card.ts';
import { planRegistration, type BranchChange, type RegistrationPlan } from './plan.ts';
import { readModelState } from './registry.ts';

export interface RegisterOptions {
  run: TrainRun;
  /** The branch registrations land on. */
  branch: string;
  /** Push to this remote (fetching and retrying when it moved); local only when absent. */
  remote?: string;
  /** The commit the training ran at (its dataset must be the one trained on). */
  commit: string;
  now: () => Date;
  /** Attempts before giving up on a remote that keeps moving. */
  maxAttempts?: number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  /** Called with the planned commit before each push (tests use it to force interleaving). */
  beforePush?: (attempt: number, plan: RegistrationPlan) => Promise<void>;
  /**
   * The A/B comparison and decision to record in the card (from the decide step); without
   * them the card has no comparison and a decision from the gate alone.
   */
  assessment?: CardAssessment;
}

export interface RegisterResult {
  status: 'created' | 'unchanged';
  model: string;
  version: number;
  /** The registration commit (created), or the tip it was found unchanged at. */
  commit: string;
  attempts: number;
  /** Pushes the remote rejected because it had moved. */
  retries: number;
  /** Set when the local branch could not be brought up to the pushed commit. */
  note?: string;
}

const sleepFor = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Refuses a run whose dataset is not the one committed at `commit` (it could not be verified). */
async function checkDatasetAt(repo: GitRepo, run: TrainRun, commit: string): Promise<void> {
  const { path, sha256: expected } = run.record.dataset;
  const bytes = await repo.readFile(commit, path);
  const actual = bytes === undefined ? undefined : sha256(bytes);
  if (actual !== expected) {
    throw new RegistryError(
      `${path} at ${commit.slice(0, 12)} ${actual === undefined ? 'does not exist' : `has sha256 ${actual}`}, ` +
        `but the run trained on sha256 ${expected}: commit the dataset you trained on, then train and register again`,
      { file: path, commit, expected, actual },
    );
  }
}

/** Plans a registration on the branch's current tip (local or fetched). */
export async function planRegistrationAt(
  repo: GitRepo,
  tip: string,
  options: Pick<RegisterOptions, 'run' | 'commit' | 'now' | 'assessment'>,
): Promise<RegistrationPlan> {
  const state = await readModelState(repo, tip, options.run.record.model);
  return planRegistration(state, options.run, {
    createdAt: options.now(),
    commit: options.commit,
    ...options.assessment,
  });
}

/**
 * Registers a run: commits `registry/<model>/versions/<n>/` on the branch. With a remote, the
 * version is planned on the remote's tip and pushed; a push rejected because the remote moved
 * is retried on the new tip after a jittered back-off, so concurrent registrations get
 * consecutive versions and none is lost or duplicated.
 */
export async function registerRun(
  repo: GitRepo,
  options: RegisterOptions,
): Promise<RegisterResult> {
  const model = options.run.record.model;
  await checkDatasetAt(repo, options.run, options.commit);
  const maxAttempts = options.maxAttempts ?? 8;
  const sleep = options.sleep ?? sleepFor;
  const random = options.random ?? Math.random;
  let retries = 0;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const tip = options.remote
      ? await repo.fetch({ remote: options.remote, branch: options.branch })
      : await repo.resolve(options.branch);
    const plan = await planRegistrationAt(repo, tip, options);
    if (plan.status === 'unchanged') {
      return {
        status: 'unchanged',
        model,
        version: plan.version,
        commit: tip,
        attempts: attempt,
        retries,
      };
    }
    const oid = await repo.writeCommit({ parent: tip, changes: plan.files, message: plan.message });
    if (!options.remote) {
      await repo.updateBranch(options.branch, oid, { expected: tip });
      return {
        status: 'created',
        model,
        version: plan.version,
        commit: oid,
        attempts: attempt,
        retries,
      };
    }
    await options.beforePush?.(attempt, plan);
    try {
      await repo.push({ remote: options.remote, branch: options.branch, oid });
    } catch (e) {
      if (e instanceof GitError && e.reason === 'not-fast-forward' && attempt < maxAttempts) {
        retries++;
        await sleep(Math.round((50 + random() * 150) * 2 ** Math.min(attempt - 1, 5)));
        continue;
      }
      throw e;
    }
    const result: RegisterResult = {
      status: 'created',
      model,
      version: plan.version,
      commit: oid,
      attempts: attempt,
      retries,
    };
    const note = await fastForwardLocal(repo, options.branch, oid);
    return note ? { ...result, note } : result;
  }
  throw new RegistryError(
    `the remote's ${options.branch} kept moving: ${maxAttempts} attempts to register ${model} were rejected; run again`,
    { attempts: maxAttempts },
  );
}

/**
 * Registers the run folder `dir` as the workflow does: with the assessment the decide step
 * wrote beside it (`assessment.json`) when there is one, for the commit `commitish` names.
 */
export async function registerRunFolder(
  repo: GitRepo,
  options: Omit<RegisterOptions, 'run' | 'commit' | 'assessment'> & {
    dir: string;
    commitish: string;
  },
): Promise<RegisterResult> {
  const { dir, commitish, ...rest } = options;
  const run = await readRunFolder(dir);
  const assessment = await readAssessment(dir);
  const commit = await repo.resolve(commitish);
  return registerRun(repo, { ...rest, run, commit, ...(assessment ? { assessment } : {}) });
}

/** Moves the local branch to a pushed commit when that is a fast-forward; else says why not. */
async function fastForwardLocal(
  repo: GitRepo,
  branch: string,
  oid: string,
): Promise<string | undefined> {
  let local: string;
  try {
    local = await repo.resolve(`refs/heads/${branch}`);
  } catch {
    return undefined;
  }
  if (!(await repo.isAncestor(local, oid))) {
    return `your local ${branch} has diverged from the remote: pull to get the registration`;
  }
  try {
    await repo.updateBranch(branch, oid, { expected: local });
    return undefined;
  } catch (e) {
    if (e instanceof GitError && e.reason === 'dirty')
      return `${e.message}; pull once they are committed`;
    throw e;
  }
}

export type BranchOperation = 'created' | 'updated' | 'unchanged';

export interface BranchResult {
  operation: BranchOperation;
  branch: string;
  commit: string;
}

async function tryResolve(repo: GitRepo, ref: string): Promise<string | undefined> {
  try {
    return await repo.resolve(ref);
  } catch (e) {
    if (e instanceof GitError && e.reason === 'not-found') return undefined;
    throw e;
  }
}

/**
 * Whether the branch's commit already makes the change `next` makes: the same message, the
 * same files changed to the same content, on a parent that the new base descends from and
 * that agrees with the base on those files, and not merged into the base already. An unrelated
 * commit on main then leaves the branch (and its pull request) alone instead of rebasing it.
 */
async function isSameChange(repo: GitRepo, existing: string, next: string): Promise<boolean> {
  const [was, now] = [await repo.readCommit(existing), await repo.readCommit(next)];
  const [wasParent, nowParent] = [was.parents[0], now.parents[0]];
  if (was.message !== now.message || was.parents.length !== 1 || !wasParent || !nowParent)
    return false;
  // A branch commit already in the base's history was merged (and maybe reverted since): it
  // proposes nothing now, so the change needs a commit of its own.
  if (await repo.isAncestor(existing, nowParent)) return false;
  if (!(await repo.isAncestor(wasParent, nowParent))) return false;
  const paths = await repo.changedPaths(wasParent, existing);
  const nextPaths = await repo.changedPaths(nowParent, next);
  if ([...paths].sort().join('\n') !== [...nextPaths].sort().join('\n')) return false;
  const same = async (a: string, b: string, path: string): Promise<boolean> => {
    const [x, y] = [await repo.readFile(a, path), await repo.readFile(b, path)];
    return x === undefined || y === undefined ? x === y : Buffer.from(x).equals(Buffer.from(y));
  };
  for (const path of paths) {
    if (!(await same(existing, next, path)) || !(await same(wasParent, nowParent, path)))
      return false;
  }
  return true;
}

/**
 * Writes a promotion, a rollback or another proposed change as one commit on its fixed branch,
 * created or reset onto the plan's base. A branch that already holds the same change on the
 * same base is `unchanged`.
 */
export async function applyBranchPlan(repo: GitRepo, plan: BranchChange): Promise<BranchResult> {
  const existing = await tryResolve(repo, `refs/heads/${plan.branch}`);
  const oid = plan.revert
    ? await repo.revertCommit(plan.revert.commit, {
        onto: plan.base,
        mainline: plan.revert.mainline,
      })
    : await repo.writeCommit({ parent: plan.base, changes: plan.files, message: plan.message });
  if (existing !== undefined && (await isSameChange(repo, existing, oid))) {
    return { operation: 'unchanged', branch: plan.branch, commit: existing };
  }
  await repo.updateBranch(plan.branch, oid);
  return {
    operation: existing === undefined ? 'created' : 'updated',
    branch: plan.branch,
    commit: oid,
  };
}

/**
 * Merges a branch into another locally with a merge commit, as merging its pull request would
 * (`--merge`), and moves the target branch (and its working tree when checked out).
 */
export async function mergeBranch(repo: GitRepo, into: string, branch: string): Promise<string> {
  const ours = await repo.resolve(`refs/heads/${into}`);
  const theirs = await repo.resolve(`refs/heads/${branch}`);
  const merged = await repo.mergeCommit({ ours, theirs, message: mergeMessage(branch) });
  if (merged.upToDate) return ours;
  let oid = merged.oid;
  if (merged.fastForward) {
    // Keep the shape of a merged pull request: a merge commit whose first parent is main.
    const tree = await repo.readCommit(theirs);
    const changes = await repo.changedPaths(ours, theirs);
    oid = await repo.writeCommit({
      parent: ours,
      parents: [ours, theirs],
      changes: await Promise.all(
        changes.map(async (path) => ({
          path,
          content: (await repo.readFile(tree.oid, path)) ?? null,
        })),
      ),
      message: mergeMessage(branch),
    });
  }
  await repo.updateBranch(into, oid, { expected: ours });
  return oid;
}
