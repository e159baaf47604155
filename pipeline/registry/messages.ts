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

/** The rollback branch of a model. */
export function rollbackBranch(model: string): string {
  return `pinml/rollback-${model}`;
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

export function promoteMessage(model: string, version: number, from: number | null): string {
  return [
    `pinml: promote ${ref(model, version)} to production`,
    '',
    from === null ? `First production version of ${model}.` : `Replaces ${ref(model, from)}.`,
    '',
    `Pinml-Model: ${model}`,
    `Pinml-Production: ${version}`,
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
