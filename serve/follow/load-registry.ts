/**
 * What a registry commit pins, loaded for serving: every pinned version through the pipeline's
 * `loadVersion` (read from git objects, verified, compiled), reusing what is already served.
 * A served model is immutable; a new version is a new object.
 */
import type { GitRepo } from '../../pipeline/git/repo.ts';
import { compileVersion, versionRef, type LoadedVersion } from '../../pipeline/registry/load.ts';
import { listModels, readArtifact, readCard, readPins } from '../../pipeline/registry/registry.ts';
import type { Card } from '../../pipeline/registry/schema.ts';
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

/** Why a pinned version is not served. */
export interface LoadProblem {
  /** Absent when the registry itself could not be read. */
  model?: string;
  /** The version that failed, when the pin was readable. */
  version?: number;
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
  problems: LoadProblem[];
}

/**
 * Reads every model pinned at `commit`. A pinned version already in `previous` (same version,
 * same artifact hash) is reused, re-stamped with this commit; a new one is read, verified and
 * compiled. A model whose pinned version fails keeps its previous served version (with its old
 * commit) and gets a problem; a model no longer pinned is dropped.
 */
export async function loadRegistry(
  repo: GitRepo,
  commit: string,
  previous: ReadonlyMap<string, ServedModel>,
  now: () => Date = () => new Date(),
): Promise<RegistryLoad> {
  const pinned: string[] = [];
  const models = new Map<string, ServedModel>();
  const problems: LoadProblem[] = [];
  for (const name of await listModels(repo, commit)) {
    const before = previous.get(name);
    let version: number | undefined;
    try {
      const pins = await readPins(repo, commit, name);
      if (pins?.production == null) continue;
      version = pins.production;
      pinned.push(name);
      const card = await readCard(repo, commit, name, version);
      if (
        before !== undefined &&
        before.version === version &&
        before.card.artifact.sha256 === card.artifact.sha256
      ) {
        models.set(name, before.commit === commit ? before : { ...before, commit });
        continue;
      }
      const artifact = await readArtifact(repo, commit, card);
      models.set(name, served(compileVersion({ card, artifact, commit }), now));
    } catch (err) {
      problems.push({
        model: name,
        ...(version !== undefined ? { version } : {}),
        commit,
        code: errorCode(err),
        message: err instanceof Error ? err.message : String(err),
      });
      if (before !== undefined) models.set(name, before);
    }
  }
  return { commit, pinned, models, problems };
}

/** A stable code for any error: pinml's own, Node's, or `E_INTERNAL`. */
export function errorCode(err: unknown): string {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string') {
    return err.code;
  }
  return 'E_INTERNAL';
}
