/**
 * What a registry commit pins, loaded for serving: every pinned version (production, and a
 * canary or a shadow when `pins.json` names them) through the pipeline's `loadVersion` (read
 * from git objects, verified, compiled), reusing what is already served. A served model is
 * immutable; a new version is a new object.
 */
import type { GitRepo } from '../../pipeline/git/repo.ts';
import { compileVersion, versionRef, type LoadedVersion } from '../../pipeline/registry/load.ts';
import { listModels, readArtifact, readCard, readPins } from '../../pipeline/registry/registry.ts';
import type { Card, PinRoles } from '../../pipeline/registry/schema.ts';
import type { Pin } from '../../pipeline/log/store.ts';
import { rowReader, type RowReader } from '../answer/rows.ts';

export { versionRef };

/** One model version as the server answers with it: loaded, plus what serving adds. */
export interface ServedModel extends LoadedVersion {
  /**
   * The registry commit this answer stands for: the newest commit read whose pin names this
   * version (a pin that moved to a version that failed to load leaves the older commit here).
   */
  readonly commit: string;
  /** The commit the artifact was first read and verified at. */
  readonly loadedCommit: string;
  readonly loadedAt: string;
  readonly inputs: RowReader;
}

/** Serves a loaded version from now on. */
function served(loaded: LoadedVersion, now: () => Date): ServedModel {
  return {
    ...loaded,
    loadedCommit: loaded.commit,
    loadedAt: now().toISOString(),
    inputs: rowReader(loaded.predictor.features),
  };
}

/**
 * Builds a served model from a card and its artifact's text (already checked against the card's
 * hash by the caller). Throws `ModelFormatError` when the artifact and card disagree.
 */
export function serveModel(input: {
  card: Card;
  artifact: string;
  commit: string;
  now?: () => Date;
}): ServedModel {
  return served(compileVersion(input), input.now ?? (() => new Date()));
}

/**
 * What a model serves besides production: a canary answering the share `weight` of the
 * requests (chosen by their key), a shadow predicting every request after its answer.
 */
export interface ServedRoles {
  readonly canary?: { readonly model: ServedModel; readonly weight: number };
  readonly shadow?: ServedModel;
}

/** Why a pinned version is not served. */
export interface LoadProblem {
  /** Absent when the registry itself could not be read. */
  model?: string;
  /** The version that failed, when the pin was readable. */
  version?: number;
  /** The role of the version that failed, when not production. */
  pin?: Exclude<Pin, 'production'>;
  commit: string | null;
  /** The error's stable code (`E_REGISTRY`, `E_MODEL_FORMAT`, `E_GIT`, ...). */
  code: string;
  message: string;
}

/** What the registry pins at a commit, loaded where it could be. */
export interface RegistryLoad {
  commit: string;
  /** Models whose pin names a version at this commit. */
  pinned: string[];
  models: Map<string, ServedModel>;
  /** The canary and shadow of each model that has one. */
  roles: Map<string, ServedRoles>;
  problems: LoadProblem[];
}

/**
 * Reads every model pinned at `commit`, with its canary and shadow. A pinned version already
 * served (same version, same artifact hash, in any role) is reused, re-stamped with this commit;
 * a new one is read, verified and compiled. A model whose production version fails keeps its
 * previous served version (with its old commit) and gets a problem; a canary or shadow that
 * fails keeps its previous one (or none) the same way; a model no longer pinned is dropped.
 */
export async function loadRegistry(
  repo: GitRepo,
  commit: string,
  previous: ReadonlyMap<string, ServedModel>,
  now: () => Date = () => new Date(),
  previousRoles: ReadonlyMap<string, ServedRoles> = new Map(),
): Promise<RegistryLoad> {
  const pinned: string[] = [];
  const models = new Map<string, ServedModel>();
  const roles = new Map<string, ServedRoles>();
  const problems: LoadProblem[] = [];
  const problem = (model: string, err: unknown, version?: number, pin?: LoadProblem['pin']) =>
    problems.push({
      model,
      ...(version !== undefined ? { version } : {}),
      ...(pin !== undefined ? { pin } : {}),
      commit,
      code: errorCode(err),
      message: err instanceof Error ? err.message : String(err),
    });
  for (const name of await listModels(repo, commit)) {
    const before = previous.get(name);
    const rolesBefore = previousRoles.get(name);
    const reusable = [before, rolesBefore?.canary?.model, rolesBefore?.shadow];
    const load = (version: number): Promise<ServedModel> =>
      loadVersion(repo, commit, name, version, reusable, now);
    let pins: PinRoles;
    let version: number | undefined;
    try {
      const read = await readPins(repo, commit, name);
      if (read?.production == null) continue;
      pins = read;
      version = read.production;
      pinned.push(name);
      models.set(name, await load(version));
    } catch (err) {
      problem(name, err, version);
      if (before !== undefined) models.set(name, before);
      if (rolesBefore !== undefined) roles.set(name, rolesBefore);
      continue;
    }
    const extra: { canary?: ServedRoles['canary']; shadow?: ServedModel } = {};
    if (pins.canary !== undefined) {
      try {
        extra.canary = { model: await load(pins.canary.version), weight: pins.canary.weight };
      } catch (err) {
        problem(name, err, pins.canary.version, 'canary');
        if (rolesBefore?.canary !== undefined) extra.canary = rolesBefore.canary;
      }
    }
    if (pins.shadow !== undefined) {
      try {
        extra.shadow = await load(pins.shadow.version);
      } catch (err) {
        problem(name, err, pins.shadow.version, 'shadow');
        if (rolesBefore?.shadow !== undefined) extra.shadow = rolesBefore.shadow;
      }
    }
    if (extra.canary !== undefined || extra.shadow !== undefined) roles.set(name, extra);
  }
  return { commit, pinned, models, roles, problems };
}

/** Reads, verifies and compiles one version, or reuses a served one with the same artifact. */
async function loadVersion(
  repo: GitRepo,
  commit: string,
  name: string,
  version: number,
  reusable: readonly (ServedModel | undefined)[],
  now: () => Date,
): Promise<ServedModel> {
  const card = await readCard(repo, commit, name, version);
  const same = reusable.find(
    (m) =>
      m !== undefined && m.version === version && m.card.artifact.sha256 === card.artifact.sha256,
  );
  if (same !== undefined) return same.commit === commit ? same : { ...same, commit };
  const artifact = await readArtifact(repo, commit, card);
  return served(compileVersion({ card, artifact, commit }), now);
}

/** A stable code for any error: pinml's own, Node's, or `E_INTERNAL`. */
export function errorCode(err: unknown): string {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string') {
    return err.code;
  }
  return 'E_INTERNAL';
}
