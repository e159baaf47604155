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
import { mergeMessage, ref } from './messages.ts';
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
  /**
   * How long to keep retrying a remote that keeps moving, in milliseconds (default two
   * minutes): a busy repository gets more attempts, a quiet one never waits.
   */
  retryForMs?: number;
  /** A cap on attempts as well (none by default). */
  maxAttempts?: number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  /** The clock the retry budget is measured on (ms). */
  clock?: () => number;
  /**
   * Publishes the registration instead of `git push` (GitHub's git database API: a commit GitHub
   * signs); returns the id of the commit now at the branch's tip. It must throw GitError
   * `not-fast-forward` when the branch moved, so the registration is planned again.
   */
  publish?: (input: {
    tip: string;
    files: readonly { path: string; content: string }[];
    message: string;
    branch: string;
  }) => Promise<string>;
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
  /** Set when the local branch could not be brought up to the pushed commit, or is behind. */
  note?: string;
}

const sleepFor = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The default retry budget: two minutes of a remote that keeps moving. */
export const RETRY_FOR_MS = 120_000;
/** The longest pause between two attempts. */
const MAX_BACKOFF_MS = 5_000;

/**
 * The pause before attempt `attempt + 1`: "full jitter" (a uniform draw up to an exponential
 * cap), so racing registrations spread out instead of colliding again in step.
 */
export function backoffMs(attempt: number, random: () => number): number {
  return Math.round(random() * Math.min(MAX_BACKOFF_MS, 100 * 2 ** attempt));
}

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

/**
 * Refuses a training commit the remote branch does not contain: the card would name a commit
 * nobody else can fetch, and `pinml verify` in a fresh clone could not check the dataset. In
 * a shallow clone whose history stops before the commit the answer is unknown: a warning.
 */
async function checkCommitOnRemote(
  repo: GitRepo,
  commit: string,
  tip: string,
  where: { remote: string; branch: string },
): Promise<string | undefined> {
  if (await repo.isAncestor(commit, tip)) return undefined;
  const remoteBranch = `${where.remote}/${where.branch}`;
  if (await repo.isShallow()) {
    return `this clone is shallow, so pinml could not check that the training commit ${commit.slice(0, 12)} is on ${remoteBranch}; if it is not, push it (git push ${where.remote} HEAD:${where.branch})`;
  }
  throw new RegistryError(
    `the training commit ${commit.slice(0, 12)} is not on ${remoteBranch}, so the version's card would name a commit (and dataset) nobody can fetch: push it first (git push ${where.remote} HEAD:${where.branch}), then register again`,
    { commit, remote: where.remote, branch: where.branch, tip },
  );
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
 * Whether a push that broke off landed: the remote branch is fetched again and holds `oid`
 * (true), does not (false), or cannot be read (undefined: the remote is still unreachable).
 */
async function pushLanded(
  repo: GitRepo,
  remote: string,
  branch: string,
  oid: string,
): Promise<boolean | undefined> {
  let tip: string;
  try {
    tip = await repo.fetch({ remote, branch });
  } catch (e) {
    if (e instanceof GitError && e.reason === 'network') return undefined;
    throw e;
  }
  return repo.isAncestor(oid, tip).catch(() => false);
}

/**
 * Registers a run: commits `registry/<model>/versions/<n>/` on the branch. With a remote, the
 * version is planned on the remote's tip and pushed; a push rejected because the remote moved
 * is retried on the new tip after a jittered back-off, for up to `retryForMs`, so concurrent
 * registrations get consecutive versions and none is lost or duplicated. A push whose
 * connection broke is checked against the remote: it either landed (created) or is retried.
 * Temporary files a killed run left in the clone are removed first, and a stale lock on the
 * branch when it is updated (`GitRepo.recover`, `lock.ts`).
 */
export async function registerRun(
  repo: GitRepo,
  options: RegisterOptions,
): Promise<RegisterResult> {
  const model = options.run.record.model;
  await repo.recover();
  await checkDatasetAt(repo, options.run, options.commit);
  const sleep = options.sleep ?? sleepFor;
  const random = options.random ?? Math.random;
  const clock = options.clock ?? Date.now;
  const deadline = clock() + (options.retryForMs ?? RETRY_FOR_MS);
  const maxAttempts = options.maxAttempts ?? Number.POSITIVE_INFINITY;
  const remote = options.remote;
  let retries = 0;
  let warning: string | undefined;
  for (let attempt = 1; ; attempt++) {
    const tip = remote
      ? await repo.fetch({ remote, branch: options.branch })
      : await repo.resolve(options.branch);
    if (remote && attempt === 1) {
      warning = await checkCommitOnRemote(repo, options.commit, tip, {
        remote,
        branch: options.branch,
      });
    }
    const plan = await planRegistrationAt(repo, tip, options);
    const done = async (
      status: RegisterResult['status'],
      commit: string,
      extra?: string,
    ): Promise<RegisterResult> => {
      const local = remote ? await fastForwardLocal(repo, options.branch, commit, plan) : undefined;
      const note = [extra, local, warning].filter((n) => n !== undefined).join('; ');
      return {
        status,
        model,
        version: plan.version,
        commit,
        attempts: attempt,
        retries,
        ...(note !== '' ? { note } : {}),
      };
    };
    if (plan.status === 'unchanged') return done('unchanged', tip);
    const oid = await repo.writeCommit({ parent: tip, changes: plan.files, message: plan.message });
    if (!remote) {
      await repo.updateBranch(options.branch, oid, { expected: tip });
      return done('created', oid);
    }
    await options.beforePush?.(attempt, plan);
    const retry = attempt < maxAttempts && clock() < deadline;
    let landed = oid;
    try {
      if (options.publish) {
        landed = await options.publish({
          tip,
          files: plan.files,
          message: plan.message,
          branch: options.branch,
        });
        // The commit GitHub wrote: fetched, so the local branch can follow it.
        await repo.fetch({ remote, branch: options.branch });
      } else await repo.push({ remote, branch: options.branch, oid });
    } catch (e) {
      if (!(e instanceof GitError)) throw e;
      if (e.reason === 'network') {
        const landed = await pushLanded(repo, remote, options.branch, oid);
        if (landed === true) return done('created', oid, 'the connection broke after the push, but the remote has it');
        if (landed === undefined) {
          throw new RegistryError(
            `the connection to ${remote} broke during the push of ${ref(model, plan.version)} (${e.message}), and the remote cannot be reached to check: the push may have landed. Running the same pinml register again is safe: it answers unchanged if the version landed, or registers it once`,
            { remote, branch: options.branch, commit: oid, version: plan.version },
          );
        }
        if (!retry) throw e;
        retries++;
        continue;
      }
      if (e.reason === 'not-fast-forward' && retry) {
        retries++;
        await sleep(Math.min(backoffMs(attempt, random), Math.max(0, deadline - clock())));
        continue;
      }
      if (e.reason === 'not-fast-forward') {
        const seconds = Math.round((options.retryForMs ?? RETRY_FOR_MS) / 1000);
        throw new RegistryError(
          `the remote's ${options.branch} kept moving: ${attempt} attempts to register ${model} in ${seconds} s were rejected; run again`,
          { attempts: attempt, retries },
        );
      }
      throw e;
    }
    return done('created', landed);
  }
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

/**
 * Brings the local branch to the remote's commit after a push (or an `unchanged` answer) when
 * that is a fast-forward; otherwise, or when it fails (a lock, uncommitted changes), says what
 * state the clone is in and how to bring it up to date. Never throws: the version is on the
 * remote either way.
 */
async function fastForwardLocal(
  repo: GitRepo,
  branch: string,
  oid: string,
  plan: RegistrationPlan,
): Promise<string | undefined> {
  const what = `${ref(plan.model, plan.version)} is on the remote`;
  try {
    let local: string;
    try {
      local = await repo.resolve(`refs/heads/${branch}`);
    } catch {
      return undefined;
    }
    if (local === oid || (await repo.isAncestor(oid, local))) return undefined;
    if (!(await repo.isAncestor(local, oid))) {
      return `${what}, but your local ${branch} has diverged from it: pull to get the registration`;
    }
    await repo.updateBranch(branch, oid, { expected: local });
    return undefined;
  } catch (e) {
    const why = e instanceof Error ? e.message.replace(/\.$/, '') : String(e);
    return `${what}, but your local ${branch} could not be brought up to it (${why}); once that is resolved, git pull --ff-only (or the same pinml register, which answers unchanged) updates it`;
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
