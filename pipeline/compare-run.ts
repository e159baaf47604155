/**
 * The A/B step's adapter: gathers what the comparison needs from git and the dataset, and
 * scores the candidate and production on the same rows (compare.ts holds the statistics; the
 * decide step, decide.ts, takes the decision and builds the report and the card's part).
 *
 * The candidate of a run folder and the production version pinned at a commit (read from git
 * objects, artifact hash checked) are scored on the same hold-out rows of the current dataset.
 * The hash-based split keeps production's training rows out of that hold-out when the split
 * settings are the same; this is checked, not assumed: production's training rows are
 * recomputed from its own dataset (read from git at the commit it was trained at) and split
 * settings, and any hold-out row among them is left out of the comparison, with a note.
 */
import type { Card } from './registry/schema.ts';
import { comparePredictions, type PairedComparison } from './compare.ts';
import { parseDataset, type Dataset } from './dataset.ts';
import { PinmlError, RunFolderError } from './errors.ts';
import type { GitRepo } from './git/repo.ts';
import { compactJson, sha256 } from './json.ts';
import type { Label } from './label.ts';
import { loadModel } from './models/index.ts';
import type { Classifier } from './models/types.ts';
import { readHistory } from './registry/history.ts';
import { ref } from './registry/messages.ts';
import {
  cardOf,
  productionVersion,
  readArtifact,
  readModelState,
  type ModelState,
} from './registry/registry.ts';
import type { HistoryPoint } from './report.ts';
import { splitRows } from './split.ts';
import type { TrainRun } from './train.ts';

export interface CompareRunInput {
  repo: GitRepo;
  /** The commit the registry is read at (the tip of the default branch). */
  at: string;
  run: TrainRun;
  /** The current dataset: the one the run trained on (`readRunDataset` in workspace.ts). */
  dataset: Dataset;
}

/** What the comparison with the production version pinned at a commit found. */
export interface CompareRunResult {
  /** The production version's card; null when nothing is pinned. */
  production: Card | null;
  /** The candidate has production's training key (nothing was scored). */
  sameTrainingKey: boolean;
  /** The paired comparison; null without production, with its training key, or when incomparable. */
  comparison: PairedComparison | null;
  /** Why the two could not be scored on the same rows. */
  incomparable?: string;
  /** Hold-out rows left out because production trained on them. */
  excludedRows: number;
  /** Facts for the reviewer: the dataset changed, rows left out, a check skipped. */
  notes: string[];
  /** The production history at the commit, for the report's chart. */
  history: HistoryPoint[];
}

/** The configuration parts of a card that the comparison reads. */
interface CardConfig {
  features?: string[];
  label?: string;
  classes?: Label[];
}

/**
 * Class indices (into `classes`) a model predicts for `rows` of the dataset, its features
 * taken by name; or why it cannot be scored on them.
 */
function predictRows(
  model: Classifier,
  dataset: Dataset,
  rows: readonly number[],
  who: string,
): { predicted: number[] } | { incomparable: string } {
  const columns = model.features.map((f) => dataset.features.indexOf(f));
  const missing = model.features.filter((_, i) => columns[i] === -1);
  if (missing.length > 0) {
    return {
      incomparable: `${who} takes ${missing.map((f) => `"${f}"`).join(', ')}, which ${dataset.path} does not have`,
    };
  }
  const X = rows.map((r) => columns.map((c) => (dataset.X[r] as number[])[c] as number));
  const index = new Map(dataset.classes.map((c, i) => [String(c), i]));
  const predicted: number[] = [];
  for (const label of model.predict(X)) {
    const i = index.get(String(label));
    if (i === undefined) {
      return {
        incomparable: `${who} predicts class "${String(label)}", which is not one of the dataset's classes`,
      };
    }
    predicted.push(i);
  }
  return { predicted };
}

/**
 * The row keys production trained on, or a note saying why they are unknown. Same dataset
 * bytes → split the current rows; otherwise read production's dataset from git at its commit.
 */
async function productionTrainingRows(
  repo: GitRepo,
  card: Card,
  dataset: Dataset,
): Promise<{ keys: Set<string> } | { note: string }> {
  const config = card.config as CardConfig;
  if (
    compactJson(config.features ?? null) !== compactJson(dataset.features) ||
    config.label !== dataset.label
  ) {
    return {
      note: `production v${card.version} was trained on other columns: whether its training rows are in the hold-out was not checked`,
    };
  }
  const spec = {
    holdout: card.split.holdoutFraction,
    folds: card.split.folds,
    seed: card.split.seed,
  };
  let source: Dataset = dataset;
  if (card.dataset.sha256 !== dataset.sha256) {
    let bytes: Uint8Array | undefined;
    try {
      bytes = await repo.readFile(card.code.commit, card.dataset.path);
    } catch (e) {
      if (!(e instanceof PinmlError)) throw e;
    }
    if (bytes === undefined || sha256(bytes) !== card.dataset.sha256) {
      return {
        note:
          `production v${card.version}'s dataset (${card.dataset.path} sha256 ${card.dataset.sha256.slice(0, 12)}) ` +
          `could not be read at ${card.code.commit.slice(0, 12)} (a shallow clone?): whether its training rows are in the hold-out was not checked`,
      };
    }
    try {
      source = parseDataset(bytes, {
        path: card.dataset.path,
        features: dataset.features,
        label: dataset.label,
        ...(config.classes ? { classes: config.classes } : {}),
      });
    } catch (e) {
      if (!(e instanceof PinmlError)) throw e;
      return {
        note: `production v${card.version}'s dataset could not be parsed (${e.message.split('\n')[0] ?? ''}): whether its training rows are in the hold-out was not checked`,
      };
    }
  }
  const split = splitRows(source, spec);
  return { keys: new Set(split.train.map((i) => source.rowKeys[i] as string)) };
}

function historyPoints(
  state: ModelState,
  entries: Awaited<ReturnType<typeof readHistory>>,
): HistoryPoint[] {
  const points: HistoryPoint[] = [];
  for (const e of entries.entries) {
    if (e.after === null) continue;
    const card = state.cards.find((c) => c.version === e.after);
    if (!card) continue;
    points.push({
      version: e.after,
      kind: e.kind === 'rollback' ? 'rollback' : 'promote',
      accuracy: card.metrics.holdout.accuracy,
    });
  }
  return points;
}

/**
 * Scores a run's candidate and the production version pinned at `at` on the same hold-out
 * rows of the current dataset, when there is a production version with another training key.
 */
export async function compareRun(input: CompareRunInput): Promise<CompareRunResult> {
  const { repo, at, run, dataset } = input;
  const { record } = run;
  if (dataset.sha256 !== record.dataset.sha256) {
    throw new RunFolderError(
      `the dataset given has sha256 ${dataset.sha256}, the run was trained on ${record.dataset.sha256}: train again`,
    );
  }
  const state = await readModelState(repo, at, record.model);
  const history = historyPoints(state, await readHistory(repo, at, record.model));
  const current = productionVersion(state);
  const notes: string[] = [];
  const holdout = splitRows(dataset, record.config.split).holdout;
  const result: CompareRunResult = {
    production: null,
    sameTrainingKey: false,
    comparison: null,
    excludedRows: 0,
    notes,
    history,
  };
  if (current === null) return result;
  const card = cardOf(state, current);
  result.production = card;
  result.sameTrainingKey = card.trainingKey === record.chosen.trainingKey;
  if (card.dataset.sha256 !== dataset.sha256) {
    notes.push(
      `the dataset changed since production (v${current}) was trained: ${card.dataset.rows} rows, sha256 ` +
        `${card.dataset.sha256.slice(0, 12)} then; ${dataset.rows} rows, sha256 ${dataset.sha256.slice(0, 12)} now. ` +
        'Both models are scored on the hold-out rows of the current dataset.',
    );
  }
  if (result.sameTrainingKey) return result;
  const trained = await productionTrainingRows(repo, card, dataset);
  let rows = holdout;
  if ('note' in trained) notes.push(trained.note);
  else {
    rows = holdout.filter((i) => !trained.keys.has(dataset.rowKeys[i] as string));
    result.excludedRows = holdout.length - rows.length;
    if (result.excludedRows > 0) {
      notes.push(
        `${result.excludedRows} of ${holdout.length} hold-out rows were in production v${current}'s training data ` +
          `(its split: seed ${card.split.seed}, hold-out ${card.split.holdoutFraction}) and are left out of the comparison`,
      );
    }
  }
  if (rows.length === 0) {
    result.incomparable = `every hold-out row was in production v${current}'s training data`;
    return result;
  }
  const productionModel = loadModel(JSON.parse(await readArtifact(repo, at, card)));
  const candidateModel = loadModel(JSON.parse(run.artifactText));
  const who = `production (${ref(record.model, current)})`;
  const prod = predictRows(productionModel, dataset, rows, who);
  const cand = predictRows(candidateModel, dataset, rows, 'the candidate');
  if ('incomparable' in prod) result.incomparable = prod.incomparable;
  else if ('incomparable' in cand) result.incomparable = cand.incomparable;
  else {
    result.comparison = comparePredictions(
      {
        classes: dataset.classes,
        yTrue: rows.map((i) => dataset.y[i] as number),
        production: prod.predicted,
        candidate: cand.predicted,
      },
      record.config.compare,
    );
  }
  return result;
}
