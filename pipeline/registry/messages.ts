/**
 * Every branch name, commit message and title pinml writes, and the parsers that read them
 * back. One module, so a format changes in one place.
 */

/** `iris@3`. */
export function ref(model: string, version: number): string {
  return `${model}@${version}`;
}

/** Parses `iris@3` (or `iris@v3`); `iris` alone gives no version. */
export function parseModelRef(text: string): { model: string; version?: number } | undefined {
  const m = /^([a-z0-9][a-z0-9._-]*)(?:@v?(\d+))?$/.exec(text.trim());
  if (!m?.[1]) return undefined;
  return m[2] === undefined ? { model: m[1] } : { model: m[1], version: Number(m[2]) };
}

/** The standing promotion branch of a model. */
export function promoteBranch(model: string): string {
  return `pinml/promote-${model}`;
}

/** The standing branch of a model's registration pull request (registration by pull request). */
export function registerBranch(model: string): string {
  return `pinml/register-${model}`;
}

/** The rollback branch of a model. */
export function rollbackBranch(model: string): string {
  return `pinml/rollback-${model}`;
}

/**
 * The standing branch of a role besides production. One per role, not one per model, so a
 * canary change and a shadow change are reviewed, merged or dropped independently, and a
 * newer change of one role updates that role's pull request without touching the other's.
 */
export function roleBranch(role: 'canary' | 'shadow', model: string): string {
  return `pinml/${role}-${model}`;
}

/** A traffic weight as a percentage: `0.1` → `10%`. */
export function percent(weight: number): string {
  return `${Number((weight * 100).toFixed(4))}%`;
}

/** What a role change sets: a version (with a canary's weight), or nothing (`--off`). */
export type RoleTarget = { version: number; weight?: number } | null;

/** The title of a role change: `Canary iris@4 at 10% of traffic`, `End the shadow iris@4`. */
export function roleTitle(
  role: 'canary' | 'shadow',
  model: string,
  to: RoleTarget,
  from: RoleTarget,
): string {
  if (to === null) return `End the ${role} ${from === null ? `of ${model}` : ref(model, from.version)}`;
  return role === 'canary'
    ? `Canary ${ref(model, to.version)} at ${percent(to.weight ?? 0)} of traffic`
    : `Shadow ${ref(model, to.version)} beside production`;
}

/** The commit message of a role change, with `Pinml-Canary: 4@0.1` (or `off`) as its trailer. */
export function roleMessage(input: {
  role: 'canary' | 'shadow';
  model: string;
  to: RoleTarget;
  from: RoleTarget;
  production: number | null;
}): string {
  const { role, model, to, from, production } = input;
  const title = roleTitle(role, model, to, from);
  return [
    `pinml: ${title.charAt(0).toLowerCase()}${title.slice(1)}`,
    '',
    `${from === null ? `No ${role} before` : `Replaces ${describeRole(model, role, from)}`}; ` +
      `production stays ${production === null ? 'unpinned' : ref(model, production)}.`,
    '',
    `Pinml-Model: ${model}`,
    roleTrailer(role, to),
    '',
  ].join('\n');
}

/** `iris@4 as the canary at 10%`, `iris@4 as the shadow`. */
function describeRole(model: string, role: 'canary' | 'shadow', t: NonNullable<RoleTarget>): string {
  return `${ref(model, t.version)} as the ${role}${t.weight === undefined ? '' : ` at ${percent(t.weight)}`}`;
}

/** `Pinml-Canary: 4@0.1`, `Pinml-Shadow: 4`, or `…: off`. */
function roleTrailer(role: 'canary' | 'shadow', to: RoleTarget): string {
  const key = role === 'canary' ? 'Pinml-Canary' : 'Pinml-Shadow';
  if (to === null) return `${key}: off`;
  return `${key}: ${to.version}${to.weight === undefined ? '' : `@${to.weight}`}`;
}

export function registerMessage(input: {
  model: string;
  version: number;
  trainingKey: string;
  candidate: string;
  datasetPath: string;
  datasetSha256: string;
  accuracy: number;
  macroF1: number;
}): string {
  return [
    `pinml: register ${ref(input.model, input.version)} (${input.candidate})`,
    '',
    `Hold-out accuracy ${input.accuracy.toFixed(4)}, macro-F1 ${input.macroF1.toFixed(4)}.`,
    '',
    `Pinml-Training-Key: ${input.trainingKey}`,
    `Pinml-Dataset: ${input.datasetPath} sha256:${input.datasetSha256}`,
    '',
  ].join('\n');
}

export function promoteTitle(model: string, version: number): string {
  return `Promote ${ref(model, version)} to production`;
}

/**
 * The promotion's commit message. `ended` names the roles the promotion clears (the canary,
 * and a shadow of the promoted version), each with an `off` trailer.
 */
export function promoteMessage(
  model: string,
  version: number,
  from: number | null,
  ended: { canary?: number; shadow?: number } = {},
): string {
  const roles = (['canary', 'shadow'] as const).filter((r) => ended[r] !== undefined);
  return [
    `pinml: promote ${ref(model, version)} to production`,
    '',
    (from === null ? `First production version of ${model}.` : `Replaces ${ref(model, from)}.`) +
      roles.map((r) => ` Ends the ${r} ${ref(model, ended[r] ?? version)}.`).join(''),
    '',
    `Pinml-Model: ${model}`,
    `Pinml-Production: ${version}`,
    ...roles.map((r) => roleTrailer(r, null)),
    '',
  ].join('\n');
}

/**
 * The message of a rollback that writes production back alone (when the revert of `commit`
 * would not apply cleanly, or would put the rolled-back version back in a role), ending with
 * git's `This reverts commit <oid>.` so the history reads it as the revert it is.
 */
export function rollbackPinMessage(input: {
  model: string;
  commit: string;
  subject: string;
  from: number;
  to: number;
  why: string;
}): string {
  return [
    `Revert "${input.subject}"`,
    '',
    `Production goes back from ${ref(input.model, input.from)} to ${ref(input.model, input.to)},`,
    `written as the production field alone: ${input.why}.`,
    '',
    `This reverts commit ${input.commit}.`,
    '',
    `Pinml-Model: ${input.model}`,
    `Pinml-Production: ${input.to}`,
    '',
  ].join('\n');
}

export function rollbackTitle(model: string, from: number, to: number | null): string {
  return `Roll back ${model} from v${from} to ${to === null ? 'no production version' : `v${to}`}`;
}

/** The merge commit `--merge` writes locally, shaped like the one a pull request's merge writes. */
export function mergeMessage(branch: string): string {
  return `Merge branch '${branch}'\n`;
}

/** The commit a revert undoes, from git's and GitHub's `This reverts commit <oid>`. */
export function revertedCommit(message: string): string | undefined {
  return /This reverts commit ([0-9a-f]{40})/.exec(message)?.[1];
}

/** A pull request number from `Merge pull request #12 …` or a squash title `… (#12)`. */
export function pullRequestNumber(message: string): number | undefined {
  const subject = message.split('\n', 1)[0] ?? '';
  const m = /^Merge pull request #(\d+)\b/.exec(subject) ?? /\(#(\d+)\)\s*$/.exec(subject);
  return m?.[1] ? Number(m[1]) : undefined;
}

/** The labels of a model's drift issue: every one is needed to find it. */
export const DRIFT_LABELS: readonly string[] = ['pinml', 'drift'];

/**
 * The hidden line at the top of a model's drift issue that tells it apart from another
 * model's (labels are shared; a title may be edited by hand).
 */
export function driftMarker(model: string): string {
  return `<!-- pinml:drift model=${model} -->`;
}

export function driftTitle(model: string): string {
  return `Drift detected in ${model}`;
}

/** The comment a drift issue is closed with, when a report finds no drift any more. */
export function driftClearedComment(model: string, headline: string): string {
  return [
    `Drift in ${model} has cleared: ${headline}`,
    '',
    'Closed by pinml; a new issue opens if drift comes back.',
    '',
  ].join('\n');
}

/** The standing branch that proposes rows from feedback for a model's dataset. */
export function dataBranch(model: string): string {
  return `pinml/data-${model}`;
}

/** The labels of the pull request of rows from feedback. */
export const DATA_LABELS: readonly string[] = ['pinml', 'data'];

export function feedbackTitle(dataset: string, rows: number): string {
  return `Add ${rows} row${rows === 1 ? '' : 's'} from feedback to ${dataset}`;
}

export function feedbackMessage(input: {
  model: string;
  dataset: string;
  idsFile: string;
  rows: number;
}): string {
  return [
    `pinml: ${feedbackTitle(input.dataset, input.rows).replace(/^A/, 'a')}`,
    '',
    `Logged rows of ${input.model} whose feedback has arrived, with the feedback as the label;`,
    `their row ids are recorded in ${input.idsFile}, so no row is added twice.`,
    '',
    `Pinml-Model: ${input.model}`,
    `Pinml-Feedback-Rows: ${input.rows}`,
    '',
  ].join('\n');
}
