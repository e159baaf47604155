/**
 * The propose step, after registration: a promotion (or a rollback) proposed for review on its
 * fixed branch. First a plan (registry/plan.ts, with the stale-proposal rule for a promotion),
 * which a dry run prints; then applied: the branch written as one commit (create-or-update,
 * compared with the branch as the remote has it), pushed, merged at once on request (local
 * use), and its one pull request opened or updated. `pinml pipeline`, `pinml promote`,
 * `pinml rollback` and the promote and rollback actions all propose through it, and rows from
 * feedback (`feedback/propose.ts`) are applied through its {@link applyProposal}.
 *
 * Git and GitHub come in as arguments: the repository and, for the pull request, the
 * {@link PullRequests} of the repository on GitHub.
 */
import { GitError } from './errors.ts';
import type { GitRepo } from './git/repo.ts';
import type { PullOperation, PullRequests, PullResult } from './github/pulls.ts';
import {
  applyBranchPlan,
  mergeBranch,
  planRegistrationAt,
  type RegisterOptions,
} from './registry/apply.ts';
import { productionAt, readHistory } from './registry/history.ts';
import { promoteBranch, ref, registerBranch } from './registry/messages.ts';
import { paths } from './registry/paths.ts';
import {
  planPromotion,
  planRollback,
  type BranchChange,
  type BranchPlan,
  type RevertContext,
  type StandingProposal,
} from './registry/plan.ts';
import { planRoleChange } from './registry/plan-role-change.ts';
import {
  cardOf,
  parseEntry,
  productionVersion,
  readArtifact,
  readModelState,
  requireModel,
  type ModelState,
} from './registry/registry.ts';
import { renderCard } from './registry/render.ts';
import type { RoleChange } from './registry/roles.ts';
import { pinsSchema, type Card } from './registry/schema.ts';
import { readReportBody } from './report-files.ts';

export interface ProposeInput {
  repo: GitRepo;
  /** The default branch: what the pull request targets and `merge` merges into. */
  base: string;
  /** The commit the proposal starts from: the default branch's tip (fetched or local). */
  at: string;
  model: string;
  /** Push the branch there, taking the branch as the remote has it first; local only when absent. */
  remote?: string;
  /** Merge the branch into `base` at once, as merging its pull request would (local use). */
  merge?: boolean;
  /** Open or update the branch's one pull request. */
  pullRequest?: { pulls: PullRequests; labels: readonly string[] };
  /** Markdown appended to the pull request's body: the live evidence, when a monitor proposes. */
  evidence?: string;
}

/** Nothing to propose: the version is in production, or the standing branch proposes a newer one. */
export interface Unchanged {
  status: 'unchanged';
  reason: string;
}

/** A dry run: the plan, not applied. */
export interface Planned {
  status: 'planned';
  plan: BranchPlan;
}

/** The plan carried out. */
export interface Applied<P extends BranchChange = BranchPlan> {
  status: 'applied';
  plan: P;
  /** Of the branch, and of its pull request when there is one. */
  operation: PullOperation;
  /** The commit on the branch. */
  commit: string;
  /** The merge commit on `base`, with `merge`. */
  merged?: string;
  /** The pull request, when one was asked for. */
  pullRequest?: PullResult;
}

/** What the propose step did. */
export type Proposal = Unchanged | Planned | Applied;

/** The tip of `branch`: on the remote when one is given, else the local branch; undefined when absent. */
export async function branchTip(
  repo: GitRepo,
  branch: string,
  remote: string | undefined,
): Promise<string | undefined> {
  try {
    return remote === undefined
      ? await repo.resolve(`refs/heads/${branch}`)
      : await repo.fetch({ remote, branch });
  } catch (e) {
    if (e instanceof GitError && e.reason === 'not-found') return undefined;
    throw e;
  }
}

/** What a promotion is proposed from: the version, and the report for the pull request. */
export interface PromotionInput extends ProposeInput {
  version: number;
  /** The report file for the pull request's body: `report.json` (rendered with the version) or `report.md`. */
  report?: string;
}

/** The standing promotion branch's tip and the version it pins, when it has one. */
async function standingPin(
  repo: GitRepo,
  model: string,
  remote: string | undefined,
): Promise<{ tip: string; version: number } | undefined> {
  const tip = await branchTip(repo, promoteBranch(model), remote);
  if (tip === undefined) return undefined;
  const version = await productionAt(repo, tip, model);
  return version === null ? undefined : { tip, version };
}

/**
 * Whether `commit` was trained on later data than `than`: it descends from it. A history cut
 * short (a shallow clone) cannot say, and answers no.
 */
async function trainedAfter(repo: GitRepo, commit: string, than: string): Promise<boolean> {
  return commit !== than && (await repo.isAncestor(than, commit).catch(() => false));
}

/**
 * The version the standing promotion branch pins, whether its commit is in `at`, and whether it
 * was trained on later data than `input.version` (its training commit descends from ours).
 */
async function standingProposal(
  input: PromotionInput,
  state: ModelState,
): Promise<StandingProposal | undefined> {
  const { repo, model } = input;
  const standing = await standingPin(repo, model, input.remote);
  if (standing === undefined) return undefined;
  const { tip, version } = standing;
  if (version === input.version) return { version, merged: false };
  const theirs = state.cards.find((c) => c.version === version)?.code.commit;
  const ours = cardOf(state, input.version).code.commit;
  // A history cut short cannot say: the version numbers decide then.
  const trainedLater = theirs !== undefined && (await trainedAfter(repo, theirs, ours));
  // Whether it was merged matters only when it would win: spare the walk of the history.
  const merged =
    (version > input.version || trainedLater) && (await repo.isAncestor(tip, input.at));
  return { version, merged, trainedLater };
}

/**
 * Plans pinning `model@version` as production on the standing branch `pinml/promote-<model>`
 * (what a dry run prints; with a remote it fetches the standing branch). The artifact's hash is checked first: a version whose
 * artifact would not load is never proposed. Unchanged when the version is in production, or
 * when the standing branch proposes a newer version (the stale-proposal rule, `planPromotion`).
 */
export async function planPromotionProposal(input: PromotionInput): Promise<Unchanged | Planned> {
  return (await promotionPlan(input)).planned;
}

async function promotionPlan(
  input: PromotionInput,
): Promise<{ planned: Unchanged | Planned; card: Card }> {
  const { repo, at, model, version } = input;
  await requireModel(repo, at, model, input.base);
  const state = await readModelState(repo, at, model);
  const card = cardOf(state, version);
  await readArtifact(repo, at, card);
  const plan = planPromotion(state, version, await standingProposal(input, state));
  return {
    planned:
      'status' in plan ? { status: 'unchanged', reason: plan.reason } : { status: 'planned', plan },
    card,
  };
}

/**
 * Proposes pinning `model@version` as production: the plan of {@link planPromotionProposal},
 * applied. The pull request's body is the report, else a summary of the version's card.
 */
export async function proposePromotion(input: PromotionInput): Promise<Unchanged | Applied> {
  const { planned, card } = await promotionPlan(input);
  if (planned.status === 'unchanged') return planned;
  const { plan } = planned;
  return applyProposal(input, plan, async () =>
    withEvidence(
      input.report === undefined
        ? `## ${plan.title}\n\n\`\`\`\n${renderCard(card, false)}\`\`\`\n`
        : await readReportBody(input.report, input.version),
      input.evidence,
    ),
  );
}

/**
 * Why the standing proposal is looked at again: a decision that did not promote (with the commit
 * its run trained on), or production changed on the default branch (a merged rollback or
 * promotion) since the proposal was compared with it.
 */
export type WithdrawInput = ProposeInput &
  ({ decision: 'hold' | 'reject'; trainedAt: string } | { decision: 'production-changed' });

/** The standing promotion closed, and why. */
export interface Withdrawn {
  status: 'closed';
  version: number;
  reason: string;
  /** The pull request closed, when one was open. */
  pullRequest?: { number: number; url: string };
}

/**
 * Closes the standing promotion pull request when the latest evidence makes it wrong: production
 * is already at or past the version it proposes; a run on later data (its training commit
 * descends from the proposed version's) decided `hold` or `reject`; or production is no longer
 * the version the proposal was compared with (read from the proposal branch's base: a rollback
 * merged since). A proposal trained on later data than the deciding run, or one already merged,
 * stands. The branch is kept.
 */
export async function withdrawStalePromotion(input: WithdrawInput): Promise<Unchanged | Withdrawn> {
  const { repo, at, model } = input;
  await requireModel(repo, at, model, input.base);
  const state = await readModelState(repo, at, model);
  const branch = promoteBranch(model);
  const standing = await standingPin(repo, model, input.remote);
  if (standing === undefined)
    return { status: 'unchanged', reason: `no promotion of ${model} is proposed` };
  const { tip, version } = standing;
  if (await repo.isAncestor(tip, at))
    return { status: 'unchanged', reason: `the proposal of ${model}@${version} is merged` };
  const production = productionVersion(state);
  const proposed = state.cards.find((c) => c.version === version)?.code.commit;
  let reason: string | undefined;
  if (production !== null && version <= production) {
    reason = `production is ${model}@${production}, at or past the proposed ${model}@${version}`;
  } else if (input.decision === 'production-changed') {
    // What the proposal was compared with: production on the branch's base.
    const compared = await productionAt(repo, (await repo.readCommit(tip)).parents[0], model);
    if (compared !== production)
      reason = `production changed from ${compared === null ? 'none' : `${model}@${compared}`} to ${production === null ? 'none' : `${model}@${production}`} since ${model}@${version} was compared with it, so its report no longer says what merging it would do; run the train workflow to compare again`;
  } else if (proposed !== undefined && (await trainedAfter(repo, input.trainedAt, proposed))) {
    reason = `a run on later data (commit ${input.trainedAt.slice(0, 12)}) decided "${input.decision}"${production === null ? '' : ` against production ${model}@${production}`}, so ${model}@${version} is no longer the recommendation`;
  }
  if (reason === undefined)
    return {
      status: 'unchanged',
      reason:
        input.decision === 'production-changed'
          ? `the proposal of ${model}@${version} was compared with production ${model}@${production ?? 'none'}, which is still production: it stands`
          : `the proposal of ${model}@${version} was trained on data at least as recent as this run's: it stands`,
    };
  const closed = await input.pullRequest?.pulls.close(
    branch,
    input.base,
    `pinml closed this proposal: ${reason}. The branch \`${branch}\` is kept; the next promotion opens a new pull request.`,
  );
  if (input.pullRequest && !closed)
    return { status: 'unchanged', reason: `no promotion pull request of ${model} is open` };
  return { status: 'closed', version, reason, ...(closed ? { pullRequest: closed } : {}) };
}

/** What a role change is proposed from: the change of the canary or the shadow. */
export interface RoleInput extends ProposeInput {
  change: RoleChange;
}

/**
 * Plans a canary or shadow change on its standing branch `pinml/<role>-<model>` (a dry run).
 * The artifact of the version given the role is checked first, as a promotion's is.
 */
export async function planRoleProposal(input: RoleInput): Promise<Unchanged | Planned> {
  const { repo, at, model, change } = input;
  await requireModel(repo, at, model, input.base);
  const state = await readModelState(repo, at, model);
  if (!('off' in change)) await readArtifact(repo, at, cardOf(state, change.version));
  const plan = planRoleChange(state, change);
  return 'status' in plan
    ? { status: 'unchanged', reason: plan.reason }
    : { status: 'planned', plan };
}

/** Proposes a canary or shadow change: the plan of {@link planRoleProposal}, applied. */
export async function proposeRoleChange(input: RoleInput): Promise<Unchanged | Applied> {
  const planned = await planRoleProposal(input);
  if (planned.status === 'unchanged') return planned;
  const { plan } = planned;
  return applyProposal(input, plan, () =>
    Promise.resolve(
      withEvidence(
        `## ${plan.title}\n\n\`\`\`\n${plan.files[0]?.content ?? ''}\`\`\`\n`,
        input.evidence,
      ),
    ),
  );
}

/**
 * What the rollback plan needs to know of `pins.json` around `commit`: whether it changed
 * since (so git's revert would not apply), and what the commit replaced.
 */
async function revertContext(
  repo: GitRepo,
  at: string,
  model: string,
  commit: string,
): Promise<RevertContext> {
  const file = paths.pins(model);
  const parent = (await repo.readCommit(commit)).parents[0];
  const before = parent === undefined ? undefined : await repo.readText(parent, file);
  return {
    changedSince: (await repo.readText(commit, file)) !== (await repo.readText(at, file)),
    before: before === undefined ? undefined : parseEntry(pinsSchema, before, file, parent ?? ''),
  };
}

/**
 * Plans the rollback of the production pin now in effect (a dry run): the revert of the commit
 * that set it, or, when later canary or shadow changes keep that revert from applying, the
 * production field written back alone (`planRollback`).
 */
export async function planRollbackProposal(input: ProposeInput): Promise<Planned> {
  const { repo, at, model } = input;
  await requireModel(repo, at, model, input.base);
  const history = await readHistory(repo, at, model);
  const top = history.stack[history.stack.length - 1];
  const context = top && (await revertContext(repo, at, model, top.commit));
  const plan = planRollback(await readModelState(repo, at, model), history, context);
  return { status: 'planned', plan };
}

/**
 * Proposes the revert of the commit that set the production pin now in effect, on
 * `pinml/rollback-<model>`; the pull request says why (`reason`).
 */
export async function proposeRollback(input: ProposeInput & { reason?: string }): Promise<Applied> {
  const { plan } = await planRollbackProposal(input);
  return applyProposal(input, plan, () =>
    Promise.resolve(withEvidence(rollbackBody(plan, input.reason), input.evidence)),
  );
}

/** A body with the live evidence after it (a horizontal rule between). */
function withEvidence(body: string, evidence: string | undefined): string {
  return evidence === undefined ? body : `${body.trimEnd()}\n\n---\n\n${evidence}`;
}

/** The rollback pull request's body. */
export function rollbackBody(plan: BranchPlan, reason?: string): string {
  return [
    `## ${plan.title}`,
    '',
    reason ? `**Why:** ${reason}` : '',
    '',
    (plan.revert
      ? `This reverts ${plan.revert.commit}, the commit that set production to v${plan.from}` +
        (plan.revert.mainline ? ' (a merge commit, reverted with mainline 1)' : '')
      : `This writes production back in ${plan.files[0]?.path ?? 'pins.json'} alone, ` +
        `undoing the commit that set production to v${plan.from} (see the commit message)`) +
      `. Production goes back to v${plan.to}; v${plan.from} stays registered and is never re-promoted by a later rollback.`,
    '',
  ].join('\n');
}

/**
 * Carries a change out on its fixed branch: the branch (compared with the branch as the remote
 * has it, so a re-run with the same inputs is `unchanged`), the push, the local merge, and the
 * one pull request with `body()` (read only when there is one).
 */
export async function applyProposal<P extends BranchChange>(
  input: Omit<ProposeInput, 'model' | 'at'>,
  plan: P,
  body: () => Promise<string>,
): Promise<Applied<P>> {
  const { repo, remote, pullRequest } = input;
  const text = pullRequest ? await body() : '';
  // Compare with the branch as the remote has it, so a re-run with the same inputs is `unchanged`.
  const remoteTip = remote === undefined ? undefined : await branchTip(repo, plan.branch, remote);
  if (remoteTip !== undefined) await repo.updateBranch(plan.branch, remoteTip);
  const branch = await applyBranchPlan(repo, plan);
  const merged = input.merge ? await mergeBranch(repo, input.base, plan.branch) : undefined;
  if (remote !== undefined) {
    if (branch.commit !== remoteTip) {
      await repo.push({ remote, branch: plan.branch, oid: branch.commit, force: true });
    }
    if (merged) await repo.push({ remote, branch: input.base, oid: merged });
  }
  const applied: Applied<P> = {
    status: 'applied',
    plan,
    operation: branch.operation,
    commit: branch.commit,
    ...(merged ? { merged } : {}),
  };
  if (!pullRequest) return applied;
  const pr = await pullRequest.pulls.upsert(
    {
      head: plan.branch,
      base: input.base,
      title: plan.title,
      body: text,
      labels: pullRequest.labels,
    },
    branch.operation !== 'unchanged',
  );
  const operation: PullOperation =
    pr.operation === 'created'
      ? 'created'
      : branch.operation !== 'unchanged' || pr.operation === 'updated'
        ? 'updated'
        : 'unchanged';
  return { ...applied, operation, pullRequest: pr };
}

/** A registration proposed by pull request: the run, and the pull request's body. */
export interface RegistrationInput
  extends
    Omit<ProposeInput, 'model'>,
    Pick<RegisterOptions, 'run' | 'commit' | 'now' | 'assessment'> {
  /** The pull request's body for the version planned (the report, or the card). */
  body: (version: number) => Promise<string>;
}

/**
 * Registration by pull request, for a default branch whose ruleset requires one: the version is
 * planned on the default branch's tip, as a push would register it (versions stay append-only
 * and allocated on main), and written as one commit on the model's standing branch
 * `pinml/register-<model>`, whose one pull request is opened or updated. A newer registration
 * before it merges re-plans on main and replaces it (the newer data wins, as the model's
 * concurrency group lets the newest push register). Merging it is the registration; the
 * promotion is proposed from the merged version (registry.yml).
 */
export async function proposeRegistration(
  input: RegistrationInput,
): Promise<Unchanged | (Applied<BranchChange> & { version: number })> {
  const model = input.run.record.model;
  const plan = await planRegistrationAt(input.repo, input.at, input);
  if (plan.status === 'unchanged') return { status: 'unchanged', reason: plan.reason };
  const change: BranchChange = {
    branch: registerBranch(model),
    base: input.at,
    title: `Register ${ref(model, plan.version)}`,
    message: plan.message,
    files: plan.files,
  };
  const applied = await applyProposal(input, change, () => input.body(plan.version));
  return { ...applied, version: plan.version };
}
