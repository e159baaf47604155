/**
 * The decide step, between training and registration: the candidates' run folders merged into
 * the run of the model, the gate, the A/B comparison with production on the same hold-out rows
 * (compare-run.ts), the decision under the run's policy (compare.ts), the report's data
 * (report.ts) and the card's part (registry/card.ts). `pinml pipeline`, `pinml compare` and the
 * decide action all decide through it.
 *
 * Git and the dataset come in as arguments: the repository, the commit production is read at
 * and the dataset reader are only used when the candidate passed the gate.
 */
import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { compareRun } from './compare-run.ts';
import { decide, type Decision, type PairedComparison } from './compare.ts';
import type { Dataset } from './dataset.ts';
import { RunFolderError } from './errors.ts';
import type { GitRepo } from './git/repo.ts';
import { canonicalJson } from './json.ts';
import { cardAssessment, type CardAssessment } from './registry/card.ts';
import { ref } from './registry/messages.ts';
import { buildReport, renderReportMarkdown, type PromotionReport } from './report.ts';
import { defaultReportDir, writeReportFiles, type ReportFiles } from './report-files.ts';
import { ASSESSMENT_FILE, mergeRuns, readRunFolder, writeRunFolder } from './run-folder.ts';
import { renderGate } from './run-summary.ts';
import type { RunRecord, TrainRun } from './train.ts';
import { readRunDataset } from './workspace.ts';

/** A candidate compared with production: the decision, and what registration and review need. */
export interface Assessment {
  decision: Decision;
  /** The production version compared against, or null. */
  production: number | null;
  comparison: PairedComparison | null;
  /** For the card of the registered version; null when the decision is `unchanged`. */
  assessment: CardAssessment | null;
  /** The report's data; the renderers take the version it is registered as. */
  report: PromotionReport;
}

export interface AssessInput {
  repo: GitRepo;
  /** The commit the registry is read at (the tip of the default branch). */
  at: string;
  run: TrainRun;
  /** The dataset the run trained on (`readRunDataset`). */
  dataset: Dataset;
  /** The commit the candidate was trained at, for the lineage. */
  commit: string | null;
}

/**
 * Compares a run's candidate with the production version pinned at `at` and decides, with
 * the policy of the run's configuration (`compare` in pinml.yaml), whatever its gate says.
 */
export async function assessCandidate(input: AssessInput): Promise<Assessment> {
  const { record } = input.run;
  const found = await compareRun(input);
  const card = found.production;
  const decision = decide({
    gate: record.gate,
    policy: record.config.compare,
    production:
      card === null
        ? null
        : {
            ref: ref(record.model, card.version),
            sameTrainingKey: found.sameTrainingKey,
            comparison: found.comparison,
            ...(found.incomparable ? { incomparable: found.incomparable } : {}),
          },
  });
  const report = buildReport({
    record,
    decision,
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
    comparison: found.comparison,
    history: found.history,
    notes: found.notes,
  });
  return {
    decision,
    production: card?.version ?? null,
    comparison: found.comparison,
    assessment: cardAssessment({
      record,
      decision,
      against: card,
      comparison: found.comparison,
      ...(found.incomparable ? { incomparable: found.incomparable } : {}),
      excludedRows: found.excludedRows,
    }),
    report,
  };
}

export interface DecideInput {
  /** The candidates' run folders: one run of all of them, or one per matrix job. */
  runs: readonly { dir: string; run: TrainRun }[];
  repo: GitRepo;
  /** The commit production is read at, resolved (or fetched) only when the gate passed. */
  at: () => Promise<string>;
  /** Reads the dataset the run trained on, only when the gate passed. */
  dataset: (record: RunRecord) => Promise<Dataset>;
  commit: string | null;
}

/** The decide step's outcome: the merged run, and its assessment unless the gate failed. */
export type Decided =
  | { gate: 'failed'; run: TrainRun; decision: Decision }
  | ({ gate: 'passed'; run: TrainRun } & Assessment);

/**
 * Merges the run folders, applies the gate, and compares a candidate that passed it with
 * production. A candidate that fails the gate is rejected without a comparison.
 */
export async function decideCandidate(input: DecideInput): Promise<Decided> {
  const run = mergeRuns(input.runs);
  const { record } = run;
  if (!record.gate.passed) {
    const decision = decide({ gate: record.gate, policy: record.config.compare, production: null });
    return { gate: 'failed', run, decision };
  }
  const assessed = await assessCandidate({
    repo: input.repo,
    at: await input.at(),
    run,
    dataset: await input.dataset(record),
    commit: input.commit,
  });
  return { gate: 'passed', run, ...assessed };
}

/** The decision in one line for a log: its reasons, or the gate's when it failed. */
export function decisionLine(decided: Decided): string {
  const { model, chosen, gate } = decided.run.record;
  return decided.gate === 'failed'
    ? `${model}: ${chosen.name} failed the gate: ${gate.reasons.join('; ')}`
    : `${model}: ${decided.decision.action}: ${decided.decision.reasons.join('; ')}`;
}

/** The decision as markdown for a job summary: the report, or the gate's verdict when it failed. */
export function decisionMarkdown(decided: Decided): string {
  const { model, gate } = decided.run.record;
  return decided.gate === 'failed'
    ? `### pinml: ${model} not registered: the gate failed\n\n\`\`\`\n${renderGate(gate)}\n\`\`\`\n`
    : renderReportMarkdown(decided.report);
}

/** Run folders under `dir` (itself, or its sub-folders as download-artifact lays them out). */
async function findRunFolders(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => {
    throw new RunFolderError(
      `${dir} does not exist: download the candidates' run folders there first`,
    );
  });
  if (entries.some((e) => e.isFile() && e.name === 'run.json')) return [dir];
  return entries
    .filter((e) => e.isDirectory())
    .map((e) => path.join(dir, e.name))
    .sort();
}

export interface DecideFoldersInput extends Omit<DecideInput, 'runs' | 'dataset'> {
  /** The repository root: the datasets, and where the report is written. */
  root: string;
  model: string;
  /** The folder holding the candidates' run folders (relative to the root). */
  runs: string;
  /** The merged run folder to write (relative to the root; default `.pinml/runs/<model>`). */
  out?: string;
}

/** What {@link decideRunFolders} decided and wrote. */
export type DecidedFolders = Decided & {
  /** The merged run folder. */
  runDir: string;
  /**
   * Candidates the configuration lists that have no run folder here (their training job
   * failed or was lost): decided without them, and named in the summary.
   */
  missing: string[];
  /** The report files, when the candidate was compared. */
  files?: ReportFiles;
};

/**
 * The decide step on disk, as a workflow runs it: reads the model's run folders under `runs`,
 * decides, and writes the merged run folder, its `assessment.json` (the card's part, which
 * registration records) and the report (`.pinml/reports/<model>/`).
 */
export async function decideRunFolders(input: DecideFoldersInput): Promise<DecidedFolders> {
  const { root, model } = input;
  const runs = [];
  for (const dir of await findRunFolders(path.resolve(root, input.runs))) {
    const folder = await readRunFolder(dir);
    if (folder.record.model === model) runs.push({ dir, run: folder });
  }
  if (runs.length === 0)
    throw new RunFolderError(`no run folder of model "${model}" under ${input.runs}`);
  const decided = await decideCandidate({
    ...input,
    runs,
    dataset: (record) => readRunDataset(root, record),
  });
  const trained = new Set(decided.run.record.candidates.map((c) => c.name));
  const missing = decided.run.record.config.candidates
    .map((c) => c.name)
    .filter((name) => !trained.has(name));
  const runDir = path.resolve(root, input.out ?? path.join('.pinml', 'runs', model));
  await writeRunFolder(runDir, decided.run);
  if (decided.gate === 'failed') return { ...decided, runDir, missing };
  if (decided.assessment)
    await writeFile(path.join(runDir, ASSESSMENT_FILE), canonicalJson(decided.assessment));
  const files = await writeReportFiles(defaultReportDir(root, model), decided.report);
  return { ...decided, runDir, files, missing };
}

/** The summary's line for candidates that were not trained, or nothing. */
export function missingMarkdown(missing: readonly string[]): string {
  if (missing.length === 0) return '';
  const list = missing.map((m) => `\`${m}\``).join(', ');
  return `> **Not trained:** ${list} (${missing.length === 1 ? 'its training job' : 'their training jobs'} failed; see the run). Decided among the candidates that trained.\n\n`;
}
