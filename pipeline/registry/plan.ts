/**
 * Plans: what a registration, a promotion or a rollback will write, as plain values. An
 * adapter (apply.ts) carries a plan out; `--dry-run` prints it and writes nothing.
 */
import { RegistryError } from '../errors.ts';
import { canonicalJson } from '../json.ts';
import type { TrainRun } from '../train.ts';
import { buildCard, type CardFacts } from './card.ts';
import type { ProductionHistory } from './history.ts';
import {
  promoteBranch,
  promoteMessage,
  promoteTitle,
  ref,
  registerMessage,
  rollbackBranch,
  rollbackPinMessage,
  rollbackTitle,
} from './messages.ts';
import { paths } from './paths.ts';
import { cardOf, latestVersion, productionVersion, type ModelState } from './registry.ts';
import {
  pinsFor,
  promotedRoles,
  rolesOf,
  rolledBackRoles,
  type Role,
} from './roles.ts';
import type { Card, Pins } from './schema.ts';

export interface FileWrite {
  path: string;
  content: string;
}

export type RegistrationPlan =
  | { status: 'unchanged'; model: string; version: number; trainingKey: string; reason: string }
  | {
      status: 'create';
      model: string;
      version: number;
      trainingKey: string;
      /** The commit the registration commit goes on top of (the branch's tip when planned). */
      base: string;
      card: Card;
      files: FileWrite[];
      message: string;
    };

/** GitHub refuses a pushed file over 100 MiB: a larger artifact could never reach main. */
export const MAX_ARTIFACT_BYTES = 100 * 1024 * 1024;

/**
 * Plans registering a run on top of `state`: the next version number, or `unchanged` when a
 * version with the same training key exists. Only a run that passed the gate is registered,
 * and only an artifact GitHub accepts in a push (at most {@link MAX_ARTIFACT_BYTES}).
 */
export function planRegistration(
  state: ModelState,
  run: TrainRun,
  facts: Omit<CardFacts, 'version'>,
  maxArtifactBytes = MAX_ARTIFACT_BYTES,
): RegistrationPlan {
  const { record } = run;
  if (record.model !== state.model) {
    throw new RegistryError(`the run is of model "${record.model}", not "${state.model}"`);
  }
  if (!record.gate.passed) {
    throw new RegistryError(
      `${record.model} (${record.chosen.name}) failed the gate, and only candidates that pass it are registered: ` +
        record.gate.reasons.join('; '),
      { reasons: record.gate.reasons },
    );
  }
  const bytes = Buffer.byteLength(run.artifactText, 'utf8');
  if (bytes > maxArtifactBytes) {
    const mib = (n: number): string => `${(n / 1024 / 1024).toFixed(1)} MiB`;
    throw new RegistryError(
      `${record.model} (${record.chosen.name})'s artifact is ${mib(bytes)}, and GitHub refuses a pushed file over ${mib(maxArtifactBytes)}: the registration could never reach the remote. Train a smaller model (fewer trees, a lower maxDepth) or drop the candidate`,
      { bytes, limit: maxArtifactBytes },
    );
  }
  const key = record.chosen.trainingKey;
  const existing = state.cards.find((c) => c.trainingKey === key);
  if (existing) {
    return {
      status: 'unchanged',
      model: state.model,
      version: existing.version,
      trainingKey: key,
      reason: `training key ${key.slice(0, 12)} is already registered as ${ref(state.model, existing.version)}`,
    };
  }
  const version = latestVersion(state) + 1;
  const card = buildCard(run, { ...facts, version });
  return {
    status: 'create',
    model: state.model,
    version,
    trainingKey: key,
    base: state.commit,
    card,
    files: [
      { path: paths.card(state.model, version), content: canonicalJson(card) },
      { path: paths.artifact(state.model, version), content: run.artifactText },
    ],
    message: registerMessage({
      model: state.model,
      version,
      trainingKey: key,
      candidate: record.chosen.name,
      datasetPath: record.dataset.path,
      datasetSha256: record.dataset.sha256,
      accuracy: record.chosen.holdout.accuracy,
      macroF1: record.chosen.holdout.macroF1,
    }),
  };
}

/** A change proposed on a branch for review: a promotion, a rollback, a canary or a shadow. */
export interface BranchPlan {
  kind: 'promote' | 'rollback' | Role;
  model: string;
  branch: string;
  /** The commit the branch starts from (the tip of the default branch). */
  base: string;
  title: string;
  message: string;
  /** Production's version before and after (for a canary or a shadow: that role's). */
  from: number | null;
  to: number | null;
  /** Files written (a promotion, a role change, a rollback of the production field alone). */
  files: FileWrite[];
  /** The commit reverted (a rollback), with git's mainline (`-m 1`) only for a merge commit. */
  revert?: { commit: string; mainline?: number };
}

/**
 * What carrying a change out on its branch needs (`applyBranchPlan`): a promotion's or
 * rollback's plan, or another change proposed on a fixed branch (rows from feedback).
 */
export type BranchChange = Pick<BranchPlan, 'branch' | 'base' | 'title' | 'message' | 'files' | 'revert'>;

export type PromotionPlan =
  BranchPlan | { status: 'unchanged'; model: string; version: number; reason: string };

/** What the standing promotion branch proposes now, when it exists. */
export interface StandingProposal {
  /** The version its `pins.json` pins as production. */
  version: number;
  /** Its commit is already in the default branch (the proposal was merged). */
  merged: boolean;
  /**
   * That version was trained at a commit whose history contains the training commit of the
   * version being planned: the run planning it is older than the one that proposed (out of
   * order), whatever the version numbers say.
   */
  trainedLater?: boolean;
}

/**
 * Plans pinning `version` as production, as one commit on the standing promotion branch.
 * Unchanged when the version is in production already, or when the standing branch proposes
 * a newer version that is neither merged nor in production, or one trained on later data (its
 * training commit descends from this version's: `trainedLater`): a stale or out-of-order run
 * must not take the standing pull request back to an older version or older data (the
 * stale-proposal rule).
 */
export function planPromotion(
  state: ModelState,
  version: number,
  standing?: StandingProposal,
): PromotionPlan {
  const card = cardOf(state, version);
  const from = productionVersion(state);
  if (from === version) {
    return {
      status: 'unchanged',
      model: state.model,
      version,
      reason: `${ref(state.model, version)} is already in production`,
    };
  }
  if (!card.gate.passed) {
    throw new RegistryError(
      `${ref(state.model, version)} did not pass its gate and cannot be promoted`,
    );
  }
  if (standing !== undefined && !standing.merged && standing.version !== from) {
    if (standing.version > version) {
      return {
        status: 'unchanged',
        model: state.model,
        version,
        reason: `the promotion pull request already proposes ${ref(state.model, standing.version)}, newer than ${ref(state.model, version)}`,
      };
    }
    if (standing.trainedLater === true) {
      const theirs = cardOf(state, standing.version).code.commit.slice(0, 12);
      return {
        status: 'unchanged',
        model: state.model,
        version,
        reason:
          `the promotion pull request proposes ${ref(state.model, standing.version)}, trained at ${theirs}, ` +
          `whose history contains ${card.code.commit.slice(0, 12)}, where ${ref(state.model, version)} was trained: ` +
          `this run is older than the one that proposed (it finished later); ${ref(state.model, version)} stays registered as evidence`,
      };
    }
  }
  const promoted = promotedRoles(rolesOf(state.pins), version);
  const pins = pinsFor(state.model, promoted.roles);
  return {
    kind: 'promote',
    model: state.model,
    branch: promoteBranch(state.model),
    base: state.commit,
    title: promoteTitle(state.model, version),
    message: promoteMessage(state.model, version, from, promoted.ended),
    from,
    to: version,
    files: [{ path: paths.pins(state.model), content: canonicalJson(pins) }],
  };
}

/** `pins.json` around the commit a rollback reverts, as the propose step reads it. */
export interface RevertContext {
  /** `pins.json` now differs from what the reverted commit wrote: the revert would not apply. */
  changedSince: boolean;
  /** `pins.json` before the reverted commit (at its first parent): what a revert restores. */
  before: Pins | undefined;
}

/**
 * Why the revert of a promotion from `before` to production `from` is written as the
 * production field alone, or undefined when git's revert does.
 */
function fieldOnlyReason(model: string, from: number, context: RevertContext): string | undefined {
  if (context.changedSince) {
    return `later canary or shadow changes to ${paths.pins(model)}\nkeep the commit from reverting cleanly; the canary and the shadow stay`;
  }
  const before = rolesOf(context.before);
  const role = (['canary', 'shadow'] as const).find((r) => before[r]?.version === from);
  return role && `a revert would make ${ref(model, from)} the ${role} again`;
}

/**
 * Plans the revert of the commit that set the production pin now in effect. Refuses when
 * there is nothing earlier to go back to. With `context`, when that revert would not apply
 * cleanly (later canary or shadow changes to `pins.json`) or would put the rolled-back version
 * back in a role, it writes the production field back alone instead, keeping the current
 * canary and shadow (but one of the restored version, which is production again), under
 * `This reverts commit <oid>.`.
 */
export function planRollback(
  state: ModelState,
  history: ProductionHistory,
  context?: RevertContext,
): BranchPlan {
  const current = productionVersion(state);
  const top = history.stack[history.stack.length - 1];
  if (current === null || !top) {
    throw new RegistryError(`${state.model} has no production version to roll back`, {
      model: state.model,
    });
  }
  if (top.after !== current) {
    throw new RegistryError(
      `registry/${state.model}/pins.json pins v${current}, but the last promotion in its history set ` +
        `v${String(top.after)}: was pins.json edited by hand? Promote the version you want instead`,
      { model: state.model },
    );
  }
  if (top.before === null || history.stack.length < 2) {
    throw new RegistryError(
      `${ref(state.model, current)} is the first production version: there is nothing to roll back to; ` +
        'promote another version instead',
      { model: state.model },
    );
  }
  const plan = {
    kind: 'rollback' as const,
    model: state.model,
    branch: rollbackBranch(state.model),
    base: state.commit,
    title: rollbackTitle(state.model, current, top.before),
    from: current,
    to: top.before,
  };
  const why = context && fieldOnlyReason(state.model, current, context);
  if (why === undefined) {
    return {
      ...plan,
      message: '',
      files: [],
      revert: { commit: top.commit, ...(top.merge ? { mainline: 1 } : {}) },
    };
  }
  const pins = pinsFor(state.model, rolledBackRoles(rolesOf(state.pins), top.before));
  return {
    ...plan,
    message: rollbackPinMessage({
      model: state.model,
      commit: top.commit,
      subject: top.subject,
      from: current,
      to: top.before,
      why,
    }),
    files: [{ path: paths.pins(state.model), content: canonicalJson(pins) }],
  };
}

/** A commit message as a plan prints it: indented under `commit message:`. */
export function indentMessage(message: string): string[] {
  return message
    .trimEnd()
    .split('\n')
    .map((l) => (l === '' ? '' : `    ${l}`));
}

/**
 * A plan as text, for `--dry-run`. A registration names `context.branch` when given (a
 * registration plan does not know the branch it is pushed to, only the commit it goes on).
 */
export function describePlan(
  plan: RegistrationPlan | PromotionPlan,
  context: { branch?: string } = {},
): string {
  if ('status' in plan && plan.status === 'unchanged') return `unchanged: ${plan.reason}\n`;
  if ('status' in plan) {
    const where =
      context.branch === undefined
        ? `on top of ${plan.base.slice(0, 12)}`
        : `on ${context.branch} at ${plan.base.slice(0, 12)}`;
    return [
      `register ${ref(plan.model, plan.version)} ${where}`,
      ...plan.files.map((f) => `  write ${f.path} (${Buffer.byteLength(f.content)} bytes)`),
      '  commit message:',
      ...indentMessage(plan.message),
      '',
    ].join('\n');
  }
  return [
    `${plan.kind} ${plan.model}: ${plan.from === null ? 'none' : `v${plan.from}`} → ${plan.to === null ? 'none' : `v${plan.to}`}`,
    `  branch ${plan.branch} from ${plan.base.slice(0, 12)}`,
    `  title: ${plan.title}`,
    ...plan.files.map((f) => `  write ${f.path}`),
    ...(plan.revert
      ? [
          `  revert ${plan.revert.commit.slice(0, 12)}` +
            (plan.revert.mainline === undefined
              ? ''
              : ` (a merge commit: mainline ${plan.revert.mainline})`),
        ]
      : []),
    ...(plan.message ? ['  commit message:', ...indentMessage(plan.message)] : []),
    '',
  ].join('\n');
}
