/**
 * pin → artifact → predictor: reads what a registry commit pins from git objects (never the
 * working tree), verifies it (schemas, the artifact's SHA-256 and size against its card, the
 * artifact's kind and format version against the card, the signature against the artifact) and
 * compiles it. A served model is immutable; a new version is a new object.
 */
import type { GitRepo } from '../pipeline/git/repo.ts';
import { ModelFormatError } from '../pipeline/errors.ts';
import type { Label } from '../pipeline/models/types.ts';
import { paths } from '../pipeline/registry/paths.ts';
import { listModels, readArtifact, readCard, readPins } from '../pipeline/registry/registry.ts';
import type { Card } from '../pipeline/registry/schema.ts';
import { rowReader, type RowReader } from './inputs.ts';
import { compilePredictor, type Predictor } from './predictor.ts';

/** One model version, verified and compiled, as the server answers with it. */
export interface ServedModel {
  readonly name: string;
  readonly version: number;
  /**
   * The registry commit this answer stands for: the newest commit read whose pin names this
   * version (a pin that moved to a version that failed to load leaves the older commit here).
   */
  readonly commit: string;
  /** The commit the artifact was first read and verified at. */
  readonly loadedCommit: string;
  readonly loadedAt: string;
  readonly card: Card;
  readonly predictor: Predictor;
  readonly inputs: RowReader;
  /** Class labels as JSON keys (probabilities are keyed by them). */
  readonly classKeys: readonly string[];
}

/** `name@version`, as the CLI and the headers write a model version. */
export function versionRef(model: { name: string; version: number }): string {
  return `${model.name}@${model.version}`;
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
  const { card, commit } = input;
  const where = `${paths.artifact(card.model, card.version)} at ${commit.slice(0, 12)}`;
  let artifact: unknown;
  try {
    artifact = JSON.parse(input.artifact);
  } catch (e) {
    throw new ModelFormatError(`${where} is not JSON: ${(e as Error).message}`, { commit });
  }
  const header = artifact as { kind?: unknown; formatVersion?: unknown };
  if (header.kind !== card.artifact.kind || header.formatVersion !== card.artifact.formatVersion) {
    throw new ModelFormatError(
      `${where} is ${String(header.kind)} format ${String(header.formatVersion)} but its card records ` +
        `${card.artifact.kind} format ${card.artifact.formatVersion}`,
      { commit, field: 'kind' },
    );
  }
  let predictor: Predictor;
  try {
    predictor = compilePredictor(artifact);
  } catch (e) {
    if (!(e instanceof ModelFormatError)) throw e;
    throw new ModelFormatError(`${where}: ${e.message}`, { ...e.data, commit });
  }
  const names = card.signature.inputs.map((i) => i.name);
  if (!sameList(names, predictor.features)) {
    throw new ModelFormatError(
      `${where} takes features ${predictor.features.join(', ')} but its card's signature lists ${names.join(', ')}`,
      { commit, field: 'features' },
    );
  }
  if (!sameList(card.signature.output.classes, predictor.classes)) {
    throw new ModelFormatError(
      `${where} predicts classes ${predictor.classes.join(', ')} but its card's signature lists ${card.signature.output.classes.join(', ')}`,
      { commit, field: 'classes' },
    );
  }
  return {
    name: card.model,
    version: card.version,
    commit,
    loadedCommit: commit,
    loadedAt: (input.now?.() ?? new Date()).toISOString(),
    card,
    predictor,
    inputs: rowReader(predictor.features),
    classKeys: predictor.classes.map(String),
  };
}

function sameList(a: readonly Label[], b: readonly Label[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
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
      models.set(name, serveModel({ card, artifact, commit, now }));
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
