/**
 * Reading the registry from git objects at a commit (never from the working tree): the pins,
 * the cards and the artifacts, each checked against its schema and its recorded hash.
 */
import type { z } from 'zod';
import { closestName } from '../closest-name.ts';
import { RegistryError, UsageError } from '../errors.ts';
import type { GitRepo } from '../git/repo.ts';
import { sha256 } from '../json.ts';
import { REGISTRY_DIR, checkModelName, paths } from './paths.ts';
import { cardSchema, pinsSchema, type Card, type Pins } from './schema.ts';

/** One model's registry as of a commit. */
export interface ModelState {
  model: string;
  /** The commit it was read at. */
  commit: string;
  /** Absent before the first promotion. */
  pins: Pins | undefined;
  /** Cards by version, ascending. */
  cards: Card[];
}

/** The version `production` pins, or null. */
export function productionVersion(state: ModelState): number | null {
  return state.pins?.production ?? null;
}

/** The highest registered version, 0 when none. */
export function latestVersion(state: ModelState): number {
  return state.cards.reduce((max, c) => Math.max(max, c.version), 0);
}

/** The card of a version; RegistryError naming the versions there are when it is missing. */
export function cardOf(state: ModelState, version: number): Card {
  const card = state.cards.find((c) => c.version === version);
  if (!card) {
    const have = state.cards.map((c) => `v${c.version}`).join(', ') || 'none';
    throw new RegistryError(`${state.model}@${version} is not registered (versions: ${have})`, {
      model: state.model,
      version,
    });
  }
  return card;
}

/** Parses registry JSON with a schema; a failure names the file, the commit and the field. */
export function parseEntry<T>(schema: z.ZodType<T>, text: string, file: string, commit: string): T {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new RegistryError(
      `${file} at ${commit.slice(0, 12)} is not valid JSON: ${(e as Error).message}`,
      {
        file,
        commit,
      },
    );
  }
  const result = schema.safeParse(data);
  if (!result.success) {
    const issue = result.error.issues[0];
    const field = issue?.path.map(String).join('.') || '(top level)';
    throw new RegistryError(
      `${file} at ${commit.slice(0, 12)} does not match its schema: ${field}: ${issue?.message ?? 'invalid'} ` +
        '(see registry/README.md)',
      { file, commit, field },
    );
  }
  return result.data;
}

/** The models that have a folder in the registry at `commit`. */
export async function listModels(repo: GitRepo, commit: string): Promise<string[]> {
  const entries = await repo.listDir(commit, REGISTRY_DIR);
  return entries
    .filter((e) => e.type === 'tree')
    .map((e) => e.name)
    .filter((name) => {
      try {
        checkModelName(name);
        return true;
      } catch {
        return false;
      }
    })
    .sort();
}

/**
 * The models at `commit`, after checking `model` is one of them: a RegistryError naming the
 * ones there are, and the closest as a "did you mean", when it is not. `at` is the ref as the
 * user wrote it (`main`), for the message.
 */
export async function requireModel(
  repo: GitRepo,
  commit: string,
  model: string,
  at: string = commit.slice(0, 12),
): Promise<string[]> {
  checkModelName(model);
  const models = await listModels(repo, commit);
  if (models.includes(model)) return models;
  const near = closestName(model, models);
  throw new RegistryError(
    `no model ${model} in ${REGISTRY_DIR}/ at ${at} (models: ${models.join(', ') || 'none'})` +
      (near === undefined ? '' : `; did you mean ${near}?`),
    { model, at, commit, models, ...(near === undefined ? {} : { suggestion: near }) },
  );
}

/** The pins of a model at `commit`; undefined when it has no `pins.json` (never promoted). */
export async function readPins(
  repo: GitRepo,
  commit: string,
  model: string,
): Promise<Pins | undefined> {
  const file = paths.pins(model);
  const text = await repo.readText(commit, file);
  if (text === undefined) return undefined;
  const pins = parseEntry(pinsSchema, text, file, commit);
  if (pins.model !== model) {
    throw new RegistryError(`${file} names model "${pins.model}", not "${model}"`, {
      file,
      commit,
    });
  }
  return pins;
}

/** The card of one version at `commit`, checked against its schema and its folder. */
export async function readCard(
  repo: GitRepo,
  commit: string,
  model: string,
  version: number,
): Promise<Card> {
  const file = paths.card(model, version);
  const text = await repo.readText(commit, file);
  if (text === undefined) {
    throw new RegistryError(`${file} is missing at ${commit.slice(0, 12)}`, { file, commit });
  }
  const card = parseEntry(cardSchema, text, file, commit);
  if (card.model !== model || card.version !== version) {
    throw new RegistryError(
      `${file} says ${card.model}@${card.version}: it must match its folder`,
      {
        file,
        commit,
      },
    );
  }
  return card;
}

/** Reads one model's pins and every card at `commit`. */
export async function readModelState(
  repo: GitRepo,
  commit: string,
  model: string,
): Promise<ModelState> {
  checkModelName(model);
  const pins = await readPins(repo, commit, model);
  const cards: Card[] = [];
  for (const entry of await repo.listDir(commit, paths.versions(model))) {
    if (entry.type !== 'tree' || !/^[1-9]\d*$/.test(entry.name)) {
      throw new RegistryError(
        `${paths.versions(model)}/${entry.name} is not a version folder: versions are positive integers`,
        { file: `${paths.versions(model)}/${entry.name}`, commit },
      );
    }
    cards.push(await readCard(repo, commit, model, Number(entry.name)));
  }
  cards.sort((a, b) => a.version - b.version);
  if (pins?.production != null && !cards.some((c) => c.version === pins.production)) {
    const file = paths.pins(model);
    throw new RegistryError(
      `${file} pins production to v${pins.production}, which is not registered`,
      {
        file,
        commit,
      },
    );
  }
  return { model, commit, pins, cards };
}

/** Reads a version's artifact and checks it against the card's SHA-256 and size. */
export async function readArtifact(repo: GitRepo, commit: string, card: Card): Promise<string> {
  const file = paths.artifact(card.model, card.version);
  const bytes = await repo.readFile(commit, file);
  if (bytes === undefined)
    throw new RegistryError(`${file} is missing at ${commit.slice(0, 12)}`, { file, commit });
  const actual = sha256(bytes);
  if (actual !== card.artifact.sha256 || bytes.length !== card.artifact.bytes) {
    throw new RegistryError(
      `${file} at ${commit.slice(0, 12)} has sha256 ${actual} (${bytes.length} bytes) but its card records ` +
        `${card.artifact.sha256} (${card.artifact.bytes} bytes): the artifact is corrupt or was edited`,
      { file, commit, expected: card.artifact.sha256, actual },
    );
  }
  return new TextDecoder().decode(bytes);
}

/**
 * The model's state at `commit` and the version a command works on: the one named, else the one
 * `commit` pins for production (`refName` is the ref as the user wrote it, for the messages). A
 * model that is not there is a RegistryError; one never promoted, with no version named, a
 * UsageError saying to name one.
 */
export async function chooseVersion(
  repo: GitRepo,
  commit: string,
  refName: string,
  model: string,
  version: number | undefined,
): Promise<{ state: ModelState; version: number }> {
  await requireModel(repo, commit, model, refName);
  const state = await readModelState(repo, commit, model);
  const chosen = version ?? productionVersion(state);
  if (chosen === null) {
    throw new UsageError(
      `${model} has no production version at ${refName}: name the version, as ${model}@1`,
    );
  }
  return { state, version: chosen };
}
