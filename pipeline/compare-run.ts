/**
 * The A/B step's adapter: gathers what the comparison needs from git and the dataset, then
 * hands values to the pure parts (compare.ts decides, report.ts reports).
 *
 * The candidate of a run folder and the production version pinned at a commit (read from git
 * objects, artifact hash checked) are scored on the same hold-out rows of the current dataset.
 * The hash-based split keeps production's training rows out of that hold-out when the split
 * settings are the same; this is checked, not assumed: production's training rows are
 * recomputed from its own dataset (read from git at the commit it was trained at) and split
 * settings, and any hold-out row among them is left out of the comparison, with a note.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Card } from './registry/schema.ts';
import { comparePredictions, decide, type Decision, type PairedComparison } from './compare.ts';
import { parseDataset, readDataset, type Dataset } from './dataset.ts';
import { PinmlError, RunFolderError } from './errors.ts';
import type { GitRepo } from './git/repo.ts';
import { compactJson, sha256 } from './json.ts';
import { loadModel } from './models/index.ts';
import type { Classifier, Label } from './models/types.ts';
import { readHistory } from './registry/history.ts';
import { ref } from './registry/messages.ts';
import {
  cardOf,
  productionVersion,
  readArtifact,
  readModelState,
  type ModelState,
} from './registry/registry.ts';
import {
  buildReport,
  renderReportJson,
  renderReportMarkdown,
  type HistoryPoint,
  type PromotionReport,
} from './report.ts';
import { splitRows } from './split.ts';
import type { RunRecord, TrainRun } from './train.ts';

export interface CompareRunInput {
  repo: GitRepo;
  /** The commit the registry is read at (the tip of the default branch). */
  at: string;
  run: TrainRun;
  /** The current dataset: the one the run trained on ({@link readRunDataset}). */
  dataset: Dataset;
  /** The commit the candidate was trained at, for the lineage. */
  commit: string | null;
}

/** What the registration records in the new version's card (card.json `comparison`, `decision`). */
export interface CardAssessment {
  comparison: Record<string, unknown> | null;
  decision: { action: 'promote' | 'hold' | 'reject'; reasons: string[] };
}

export interface CompareRunResult {
  decision: Decision;
  /** The production version compared against, or null. */
  production: number | null;
  comparison: PairedComparison | null;
  /** For the card of the registered version; null when the decision is `unchanged`. */
  assessment: CardAssessment | null;
  report: PromotionReport;
  /** The report's inputs, to rebuild it once the version number is known. */
  rebuild: (version: number | null) => PromotionReport;
}

/**
 * Reads the dataset a run was trained on, from the working tree under `root`, and refuses
 * it when its bytes changed since (the comparison must use the rows the run split).
 */
export async function readRunDataset(root: string, record: RunRecord): Promise<Dataset> {
  const dataset = await readDataset(root, {
    path: record.dataset.path,
    features: record.config.features,
    label: record.config.label,
    ...(record.config.classes ? { classes: record.config.classes } : {}),
  });
  if (dataset.sha256 !== record.dataset.sha256) {
    throw new RunFolderError(
      `${record.dataset.path} has sha256 ${dataset.sha256}, but the run was trained on sha256 ` +
        `${record.dataset.sha256}: train again (pinml train) before comparing`,
      { file: record.dataset.path, expected: record.dataset.sha256, actual: dataset.sha256 },
    );
  }
  return dataset;
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
 * Compares a run's candidate with the production version pinned at `at` and decides, with
 * the policy of the run's configuration (`compare` in pinml.yaml).
 */
export async function compareRun(input: CompareRunInput): Promise<CompareRunResult> {
  const { repo, at, run, dataset } = input;
  const { record } = run;
  if (dataset.sha256 !== record.dataset.sha256) {
    throw new RunFolderError(
      `the dataset given has sha256 ${dataset.sha256}, the run was trained on ${record.dataset.sha256}: train again`,
    );
  }
  const policy = record.config.compare;
  const state = await readModelState(repo, at, record.model);
  const history = historyPoints(state, await readHistory(repo, at, record.model));
  const current = productionVersion(state);
  const notes: string[] = [];
  const holdout = splitRows(dataset, record.config.split).holdout;

  let production: Parameters<typeof decide>[0]['production'] = null;
  let card: Card | null = null;
  let comparison: PairedComparison | null = null;
  let excludedRows = 0;
  if (current !== null) {
    card = cardOf(state, current);
    const productionRef = ref(record.model, current);
    const sameTrainingKey = card.trainingKey === record.chosen.trainingKey;
    let incomparable: string | undefined;
    if (card.dataset.sha256 !== dataset.sha256) {
      notes.push(
        `the dataset changed since production (v${current}) was trained: ${card.dataset.rows} rows, sha256 ` +
          `${card.dataset.sha256.slice(0, 12)} then; ${dataset.rows} rows, sha256 ${dataset.sha256.slice(0, 12)} now. ` +
          'Both models are scored on the hold-out rows of the current dataset.',
      );
    }
    if (!sameTrainingKey) {
      const trained = await productionTrainingRows(repo, card, dataset);
      let rows = holdout;
      if ('note' in trained) notes.push(trained.note);
      else {
        rows = holdout.filter((i) => !trained.keys.has(dataset.rowKeys[i] as string));
        excludedRows = holdout.length - rows.length;
        if (excludedRows > 0) {
          notes.push(
            `${excludedRows} of ${holdout.length} hold-out rows were in production v${current}'s training data ` +
              `(its split: seed ${card.split.seed}, hold-out ${card.split.holdoutFraction}) and are left out of the comparison`,
          );
        }
      }
      if (rows.length === 0) {
        incomparable = `every hold-out row was in production v${current}'s training data`;
      } else {
        const productionModel = loadModel(JSON.parse(await readArtifact(repo, at, card)));
        const candidateModel = loadModel(JSON.parse(run.artifactText));
        const prod = predictRows(productionModel, dataset, rows, `production (${productionRef})`);
        const cand = predictRows(candidateModel, dataset, rows, 'the candidate');
        if ('incomparable' in prod) incomparable = prod.incomparable;
        else if ('incomparable' in cand) incomparable = cand.incomparable;
        else {
          comparison = comparePredictions(
            {
              classes: dataset.classes,
              yTrue: rows.map((i) => dataset.y[i] as number),
              production: prod.predicted,
              candidate: cand.predicted,
            },
            policy,
          );
        }
      }
    }
    production = {
      ref: productionRef,
      sameTrainingKey,
      comparison,
      ...(incomparable ? { incomparable } : {}),
    };
  }

  const decision = decide({ gate: record.gate, policy, production });
  const assessment: CardAssessment | null =
    decision.action === 'unchanged'
      ? null
      : {
          decision: { action: decision.action, reasons: decision.reasons },
          comparison:
            card === null || production === null
              ? null
              : {
                  against: {
                    model: record.model,
                    version: card.version,
                    trainingKey: card.trainingKey,
                    candidate: card.candidate.name,
                    datasetSha256: card.dataset.sha256,
                  },
                  datasetChanged: card.dataset.sha256 !== dataset.sha256,
                  policy: {
                    policy: policy.policy,
                    tolerance: policy.tolerance,
                    alpha: policy.alpha,
                  },
                  ...(comparison === null
                    ? { incomparable: production.incomparable ?? null }
                    : {
                        rows: comparison.rows,
                        excludedRows,
                        accuracy: comparison.accuracy,
                        macroF1: comparison.macroF1,
                        mcnemar: comparison.mcnemar,
                        bootstrap: comparison.bootstrap,
                        perClass: comparison.perClass.map((c) => ({
                          class: c.class,
                          support: c.support,
                          delta: c.delta,
                        })),
                      }),
                },
        };
  const rebuild = (version: number | null): PromotionReport =>
    buildReport({
      record,
      decision,
      version,
      commit: input.commit,
      production:
        card === null
          ? null
          : {
              version: card.version,
              name: card.candidate.name,
              algorithm: card.candidate.algorithm,
              trainingKey: card.trainingKey,
              dataset: {
                sha256: card.dataset.sha256,
                rows: card.dataset.rows,
                classCounts: card.dataset.classCounts,
              },
            },
      comparison,
      history,
      notes,
    });
  return {
    decision,
    production: current,
    comparison,
    assessment,
    report: rebuild(null),
    rebuild,
  };
}

/** Where `pinml pipeline` writes a model's report: `.pinml/reports/<model>/`. */
export function defaultReportDir(root: string, model: string): string {
  return path.join(root, '.pinml', 'reports', model);
}

/**
 * Writes `report.md` (the pull request body, GitHub-flavoured markdown) and `report.json`
 * (canonical JSON) into `dir`, creating it; returns the two paths.
 */
export async function writeReportFiles(
  dir: string,
  report: PromotionReport,
): Promise<{ markdown: string; json: string }> {
  await mkdir(dir, { recursive: true });
  const files = { markdown: path.join(dir, 'report.md'), json: path.join(dir, 'report.json') };
  await writeFile(files.markdown, renderReportMarkdown(report));
  await writeFile(files.json, renderReportJson(report));
  return files;
}
