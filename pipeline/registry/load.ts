/**
 * pin → artifact → predictor: one registered version read from git objects at a commit (never
 * the working tree), verified (the card's schema and folder, the artifact's SHA-256 and size
 * against the card, its kind and format version against the card, the signature against the
 * artifact) and compiled into a predictor. The server, batch scoring, drift and the registry
 * pages all load a version with this code.
 */
import { ModelFormatError } from '../errors.ts';
import type { GitRepo } from '../git/repo.ts';
import type { Label } from '../label.ts';
import { compilePredictor, type Predictor } from '../models/predictor.ts';
import { paths } from './paths.ts';
import { readArtifact, readCard } from './registry.ts';
import type { Card } from './schema.ts';

/** One model version, verified and compiled. Immutable. */
export interface LoadedVersion {
  readonly name: string;
  readonly version: number;
  /** The commit it was read and verified at. */
  readonly commit: string;
  readonly card: Card;
  readonly predictor: Predictor;
  /** Class labels as JSON keys (probabilities are keyed by them). */
  readonly classKeys: readonly string[];
}

/** `name@version`, as the CLI and the server write a model version. */
export function versionRef(model: { name: string; version: number }): string {
  return `${model.name}@${model.version}`;
}

/**
 * Reads `model@version` at `commit`: its card (schema, folder), its artifact (SHA-256 and size
 * against the card), then {@link compileVersion}. Throws `RegistryError` for what the registry
 * holds wrong and `ModelFormatError` when the artifact and its card disagree.
 */
export async function loadVersion(
  repo: GitRepo,
  commit: string,
  model: string,
  version: number,
): Promise<LoadedVersion> {
  const card = await readCard(repo, commit, model, version);
  const artifact = await readArtifact(repo, commit, card);
  return compileVersion({ card, artifact, commit });
}

/**
 * Compiles a version from its card and its artifact's text (already checked against the card's
 * hash by the caller): the artifact's kind and format version must be the card's, and its
 * features and classes the card's signature. Throws `ModelFormatError` naming what disagrees.
 */
export function compileVersion(input: {
  card: Card;
  artifact: string;
  commit: string;
}): LoadedVersion {
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
    card,
    predictor,
    classKeys: predictor.classes.map(String),
  };
}

function sameList(a: readonly Label[], b: readonly Label[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
