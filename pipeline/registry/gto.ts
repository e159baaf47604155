/**
 * The registry as GTO (iterative/gto) and DVC Studio read one: annotated git tags.
 * `iris@v3.0.0` registers version 3 (pinml's v3 is GTO's v3.0.0) on the commit that
 * registered it; `iris#prod#<n>` assigns the stage on that same commit (GTO finds the version
 * of a stage tag by its commit), `iris#prod!#<n>` unassigns it, `n` counting up over all of the
 * model's tags as GTO counts. Pins map to stages: production → `prod`, canary and shadow keep
 * their names.
 *
 * Pure: {@link planGtoTags} compares the registry with the tags there are and says which to
 * write. A model name GTO's pattern refuses is skipped, with the reason.
 */

/** GTO's name pattern (`gto/constants.py`: `name`). */
export const GTO_NAME = /^[a-z][a-z0-9-/]*[a-z0-9]$/;

/**
 * GTO's tag pattern (`gto/constants.py`: `tag_re`), transcribed: artifact, then a stage
 * (`#prod`) or a semver version (`@v1.2.3`), an optional `!` (cancel), an optional `#counter`.
 */
const SEMVER =
  '(?<major>0|[1-9]\\d*)\\.(?<minor>0|[1-9]\\d*)\\.(?<patch>0|[1-9]\\d*)(?:-(?<prerelease>(?:0|[1-9]\\d*|\\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\\.(?:0|[1-9]\\d*|\\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\\+(?<buildmetadata>[0-9a-zA-Z-]+(?:\\.[0-9a-zA-Z-]+)*))?';
const NAME = '[a-z][a-z0-9-/]*[a-z0-9]';
export const GTO_TAG = new RegExp(
  `^(?<artifact>${NAME})(((#(?<stage>${NAME})|@(?<version>v${SEMVER}))(?<cancel>!?))|@((?<deprecated>deprecated)|(?<created>created)))(#(?<counter>[0-9]+))?$`,
);

/** The pins pinml keeps and the GTO stage each one is. */
export const STAGES = { production: 'prod', canary: 'canary', shadow: 'shadow' } as const;
export type PinName = keyof typeof STAGES;

/** A tag as GTO reads it, or undefined when it is not one of GTO's. */
export interface GtoTag {
  artifact: string;
  version?: string;
  stage?: string;
  cancel: boolean;
  counter?: number;
}

export function parseGtoTag(name: string): GtoTag | undefined {
  const g = GTO_TAG.exec(name)?.groups;
  if (!g?.artifact) return undefined;
  return {
    artifact: g.artifact,
    ...(g.version ? { version: g.version } : {}),
    ...(g.stage ? { stage: g.stage } : {}),
    cancel: g.cancel === '!',
    ...(g.counter ? { counter: Number(g.counter) } : {}),
  };
}

/** `iris@v3.0.0`. */
export function versionTag(model: string, version: number): string {
  return `${model}@v${version}.0.0`;
}

export interface GtoInput {
  model: string;
  /** Each registered version and the commit that registered it. */
  versions: readonly { version: number; commit: string }[];
  /** What each pin names now (null: nothing). */
  pins: Partial<Record<PinName, number | null>>;
  /** The repository's tags, with the commit each names. */
  tags: readonly { name: string; commit: string }[];
}

export interface PlannedTag {
  name: string;
  commit: string;
  message: string;
}

export type GtoPlan = { skipped: string } | { skipped?: undefined; tags: PlannedTag[] };

/** The tags to write so that GTO reads the registry as pinml has it. */
export function planGtoTags(input: GtoInput): GtoPlan {
  const { model } = input;
  if (!GTO_NAME.test(model))
    return {
      skipped: `GTO tags skipped for "${model}": GTO's names are lower-case letters, digits, "-" and "/", starting with a letter (${GTO_NAME.source})`,
    };
  const mine = input.tags
    .map((t) => ({ ...t, parsed: parseGtoTag(t.name) }))
    .filter((t) => t.parsed?.artifact === model);
  const names = new Set(input.tags.map((t) => t.name));
  let counter = Math.max(0, ...mine.map((t) => t.parsed?.counter ?? 0));
  const commitOf = new Map(input.versions.map((v) => [v.version, v.commit]));
  const versionAt = new Map(input.versions.map((v) => [v.commit, v.version]));
  const tags: PlannedTag[] = [];
  for (const { version, commit } of [...input.versions].sort((a, b) => a.version - b.version)) {
    const name = versionTag(model, version);
    if (!names.has(name))
      tags.push({ name, commit, message: `Registering artifact ${model} version v${version}.0.0` });
  }
  for (const [pin, stage] of Object.entries(STAGES) as [PinName, string][]) {
    const pinned = input.pins[pin];
    if (pinned === undefined) continue;
    // What GTO reads now: the stage's latest tag by counter (an assignment names its commit's version).
    const last = mine
      .filter((t) => t.parsed?.stage === stage && t.parsed.counter !== undefined)
      .sort((a, b) => (a.parsed?.counter ?? 0) - (b.parsed?.counter ?? 0))
      .at(-1);
    const current = last === undefined || last.parsed?.cancel ? null : (versionAt.get(last.commit) ?? null);
    if (current === pinned) continue;
    if (pinned !== null) {
      const commit = commitOf.get(pinned);
      if (commit === undefined) continue; // not registered on this line: nothing to tag
      tags.push({
        name: `${model}#${stage}#${++counter}`,
        commit,
        message: `Assigning stage ${stage} to artifact ${model} version v${pinned}.0.0`,
      });
    } else if (current !== null && last) {
      tags.push({
        name: `${model}#${stage}!#${++counter}`,
        commit: last.commit,
        message: `Unassigning stage ${stage} from artifact ${model} version v${current}.0.0`,
      });
    }
  }
  return { tags };
}
