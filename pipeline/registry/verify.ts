/**
 * Verifying a registered version by rebuilding it: the dataset bytes are read from git at the
 * commit the card records, the chosen candidate is retrained with the recorded configuration,
 * and the artifact's SHA-256 is compared with the card's, and so is the reference profile when
 * the card records one.
 */
import type { ModelConfig } from '../config.ts';
import type { CodeVersion } from '../code-version.ts';
import { parseDataset } from '../dataset.ts';
import { profileDifference, type ReferenceProfile } from '../drift/profile.ts';
import { GitError, PinmlError, RegistryError } from '../errors.ts';
import type { GitRepo } from '../git/repo.ts';
import { compactJson, sha256 } from '../json.ts';
import { familyForArtifact } from '../models/index.ts';
import { trainModel } from '../train.ts';
import { ref } from './messages.ts';
import { paths } from './paths.ts';
import { cardOf, readArtifact, readModelState } from './registry.ts';
import type { Card } from './schema.ts';

export interface VerifyResult {
  model: string;
  version: number;
  match: boolean;
  artifact: { recorded: string; rebuilt: string | null };
  dataset: { path: string; commit: string; recorded: string; found: string | null };
  code: { recorded: string; running: string; same: boolean };
  /**
   * The card's reference profile against the recomputed one: `absent` when the card has none
   * (registered before pinml recorded it), `not-rebuilt` when retraining failed.
   */
  profile: 'match' | 'mismatch' | 'absent' | 'not-rebuilt';
  /** Why it does not match, or notes (a code version that differs). */
  reasons: string[];
}

/** The dataset's bytes at the commit the card records; a commit missing here is explained. */
export async function readDatasetAt(repo: GitRepo, card: Card): Promise<Uint8Array | undefined> {
  try {
    return await repo.readFile(card.code.commit, card.dataset.path);
  } catch (e) {
    if (!(e instanceof GitError && e.reason === 'not-found')) throw e;
    // A shallow clone (CI's default checkout) lacks the commits a version trained at.
    throw new RegistryError(
      `${ref(card.model, card.version)} was trained at commit ${card.code.commit}, which is not in this repository: ` +
        'fetch the full history (git fetch --unshallow; in GitHub Actions, actions/checkout with fetch-depth: 0), then verify again',
      { model: card.model, version: card.version, commit: card.code.commit },
    );
  }
}

/**
 * The configuration with the chosen candidate's algorithm named as the family that wrote its
 * artifact: a card written before pinml had its own forest and logistic regression calls
 * `ml-random-forest` and `ml-logistic-regression` by the names those algorithms have now.
 */
function withRecordedFamily(config: ModelConfig, card: Card): ModelConfig {
  const family = familyForArtifact(card.artifact.kind);
  if (family === undefined || family.algorithm === card.candidate.algorithm) return config;
  return {
    ...config,
    candidates: config.candidates.map((c) =>
      c.name === card.candidate.name ? ({ ...c, algorithm: family.algorithm } as typeof c) : c,
    ),
  };
}

/** Compares the card's profile with the rebuilt run's; a mismatch names the first field. */
function checkProfile(
  recorded: ReferenceProfile | undefined,
  rebuilt: ReferenceProfile | undefined,
  reasons: string[],
): VerifyResult['profile'] {
  if (recorded === undefined) return 'absent';
  if (rebuilt === undefined) return 'not-rebuilt';
  const diff = profileDifference(recorded, rebuilt);
  if (diff === undefined) return 'match';
  const show = (v: unknown): string => (v === undefined ? 'nothing' : compactJson(v));
  reasons.push(
    `the recomputed reference profile differs from the card's at ${diff.field}: ` +
      `the card records ${show(diff.recorded)}, rebuilding gives ${show(diff.rebuilt)}`,
  );
  return 'mismatch';
}

/**
 * Rebuilds `model@version` as registered at `commit` and compares the artifact's hash and the
 * reference profile.
 */
export async function verifyVersion(
  repo: GitRepo,
  commit: string,
  model: string,
  version: number,
  code: CodeVersion,
): Promise<VerifyResult> {
  const state = await readModelState(repo, commit, model);
  const card = cardOf(state, version);
  await readArtifact(repo, commit, card);
  const reasons: string[] = [];
  const sameCode = card.code.id === code.id;
  if (!sameCode) {
    reasons.push(
      `the code version differs: ${card.code.id} trained it, ${code.id} is running; ` +
        'a different artifact may come from the code change rather than from the data',
    );
  }
  const bytes = await readDatasetAt(repo, card);
  const found = bytes === undefined ? null : sha256(bytes);
  if (found !== card.dataset.sha256) {
    reasons.push(
      found === null
        ? `${card.dataset.path} does not exist at ${card.code.commit.slice(0, 12)}`
        : `${card.dataset.path} at ${card.code.commit.slice(0, 12)} has sha256 ${found}, the card records ${card.dataset.sha256}`,
    );
  }
  let rebuilt: string | null = null;
  let rebuiltProfile: ReferenceProfile | undefined;
  if (bytes !== undefined) {
    const recorded = {
      ...(card.config as unknown as Omit<ModelConfig, 'name'>),
      name: model,
    } as ModelConfig;
    const config = withRecordedFamily(recorded, card);
    try {
      const dataset = parseDataset(bytes, {
        path: card.dataset.path,
        features: config.features,
        label: config.label,
        ...(config.classes ? { classes: config.classes } : {}),
        minRowsPerClass: config.split.folds,
      });
      const run = trainModel({ model: config, dataset, code, only: [card.candidate.name] });
      rebuilt = sha256(run.artifactText);
      rebuiltProfile = run.record.profile;
    } catch (e) {
      if (!(e instanceof PinmlError)) throw e;
      reasons.push(`retraining failed: ${e.message}`);
    }
  }
  // A rebuild from other bytes proves nothing about the recorded dataset, even when the model
  // comes out the same (bytes that parse to the same rows): both hashes must match.
  if (rebuilt !== null && rebuilt !== card.artifact.sha256) {
    reasons.push(
      `the rebuilt ${paths.artifact(model, version)} has sha256 ${rebuilt}, the card records ${card.artifact.sha256}`,
    );
  }
  const profile = checkProfile(card.profile, rebuiltProfile, reasons);
  const match =
    found === card.dataset.sha256 && rebuilt === card.artifact.sha256 && profile !== 'mismatch';
  return {
    model,
    version,
    match,
    artifact: { recorded: card.artifact.sha256, rebuilt },
    dataset: {
      path: card.dataset.path,
      commit: card.code.commit,
      recorded: card.dataset.sha256,
      found,
    },
    code: { recorded: card.code.id, running: code.id, same: sameCode },
    profile,
    reasons,
  };
}
