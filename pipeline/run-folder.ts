/**
 * The training run folder: what `pinml train` writes and `validate`, `merge`, `register` and
 * the actions read. Two files, both canonical JSON:
 *
 *   run.json    the RunRecord: config used, code version, dataset hash and signature, split,
 *               every candidate's CV figures and training key, the chosen candidate's hold-out
 *               metrics and artifact hash, the gate's verdict, the reference profile for drift
 *   model.json  the chosen candidate's artifact
 *
 * A folder holds no time stamp and no path of the machine, so the same inputs give the same
 * bytes, and folders from separate runners merge into what one run would have written.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { profileSchema } from './drift/profile.ts';
import { RunFolderError } from './errors.ts';
import { applyGate } from './gate.ts';
import { canonicalJson, compactJson, sha256 } from './json.ts';
import { chooseBest, type CandidateResult, type RunRecord, type TrainRun } from './train.ts';

export const RUN_FILE = 'run.json';
export const MODEL_FILE = 'model.json';
export const RUN_FORMAT_VERSION = 1;

const metricsShape = z.object({
  rows: z.number(),
  accuracy: z.number(),
  macroPrecision: z.number(),
  macroRecall: z.number(),
  macroF1: z.number(),
  perClass: z.array(z.object({ class: z.union([z.string(), z.number()]) })),
  confusion: z.array(z.array(z.number())),
});
const cvShape = z.object({
  folds: z.array(z.object({ accuracy: z.number(), macroF1: z.number() })),
  mean: z.object({ accuracy: z.number(), macroF1: z.number() }),
});
const candidateShape = z.object({
  name: z.string(),
  algorithm: z.string(),
  params: z.record(z.string(), z.unknown()),
  seed: z.number(),
  trainingKey: z.string().regex(/^[0-9a-f]{64}$/),
  cv: cvShape,
});
/** Checks the parts of run.json that readers rely on (the rest is carried as written). */
const runShape = z.object({
  formatVersion: z.literal(RUN_FORMAT_VERSION),
  model: z.string(),
  config: z.object({ gate: z.object({ minAccuracy: z.number(), minMacroF1: z.number() }) }),
  code: z.object({ package: z.string(), source: z.string(), id: z.string() }),
  dataset: z.object({
    path: z.string(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    bytes: z.number(),
    rows: z.number(),
  }),
  signature: z.object({ features: z.array(z.object({ name: z.string() })) }),
  candidates: z.array(candidateShape).min(1),
  chosen: candidateShape.extend({
    holdout: metricsShape,
    artifact: z.object({ file: z.literal(MODEL_FILE), sha256: z.string(), bytes: z.number() }),
  }),
  profile: profileSchema.optional(),
});

/** Writes a run folder (creating it); each file is replaced atomically. */
export async function writeRunFolder(dir: string, run: TrainRun): Promise<void> {
  await mkdir(dir, { recursive: true });
  const files: [string, string][] = [
    [MODEL_FILE, run.artifactText],
    [RUN_FILE, canonicalJson(run.record)],
  ];
  for (const [name, text] of files) {
    const target = path.join(dir, name);
    const temp = `${target}.${process.pid}.tmp`;
    await writeFile(temp, text);
    await rename(temp, target);
  }
}

/** Reads and checks a run folder: the record's shape and the artifact's hash. */
export async function readRunFolder(dir: string): Promise<TrainRun> {
  const runPath = path.join(dir, RUN_FILE);
  let text: string;
  try {
    text = await readFile(runPath, 'utf8');
  } catch {
    throw new RunFolderError(
      `${runPath} does not exist: DIR must be a folder written by \`pinml train --out DIR\``,
      { file: runPath },
    );
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new RunFolderError(
      `${runPath} is not valid JSON (${(e as Error).message}): train again`,
      {
        file: runPath,
      },
    );
  }
  const version = (data as { formatVersion?: unknown } | null)?.formatVersion;
  if (typeof version === 'number' && version > RUN_FORMAT_VERSION) {
    throw new RunFolderError(
      `${runPath} has run format ${version}; this pinml reads format ${RUN_FORMAT_VERSION}: upgrade pinml`,
      { file: runPath, formatVersion: version },
    );
  }
  const parsed = runShape.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.map(String).join('.') || '(top level)';
    throw new RunFolderError(
      `${runPath}: ${field}: ${issue?.message ?? 'invalid'}; train again to rewrite it`,
      {
        file: runPath,
        field,
      },
    );
  }
  const record = data as RunRecord;
  const modelPath = path.join(dir, MODEL_FILE);
  let artifactText: string;
  try {
    artifactText = await readFile(modelPath, 'utf8');
  } catch {
    throw new RunFolderError(`${modelPath} is missing: the run folder is incomplete; train again`, {
      file: modelPath,
    });
  }
  const actual = sha256(artifactText);
  if (actual !== record.chosen.artifact.sha256) {
    throw new RunFolderError(
      `${modelPath} has sha256 ${actual} but run.json records ${record.chosen.artifact.sha256}: ` +
        'the artifact was changed after training; train again',
      { file: modelPath, expected: record.chosen.artifact.sha256, actual },
    );
  }
  return { record, artifactText };
}

/**
 * Merges runs of the same model, dataset, configuration and code (e.g. one per candidate from
 * a matrix of runners) into the run that training all their candidates at once writes.
 */
export function mergeRuns(runs: readonly { dir: string; run: TrainRun }[]): TrainRun {
  const first = runs[0];
  if (!first) throw new RunFolderError('nothing to merge: name at least one run folder');
  const ref = first.run.record;
  const same: [string, (r: RunRecord) => unknown][] = [
    ['model', (r) => r.model],
    ['dataset sha256', (r) => r.dataset.sha256],
    ['code version', (r) => r.code.id],
    ['configuration', (r) => compactJson(r.config)],
  ];
  for (const { dir, run } of runs.slice(1)) {
    for (const [what, get] of same) {
      if (get(run.record) !== get(ref)) {
        throw new RunFolderError(
          `${dir} was trained with another ${what} than ${first.dir}: merge only runs of one training ` +
            '(same model, dataset, pinml.yaml and pinml version)',
          { dir, field: what },
        );
      }
    }
  }
  const byName = new Map<string, CandidateResult>();
  for (const { dir, run } of runs) {
    for (const c of run.record.candidates) {
      const seen = byName.get(c.name);
      if (seen && compactJson(seen) !== compactJson(c)) {
        throw new RunFolderError(
          `${dir}: candidate "${c.name}" differs from the same candidate in another folder`,
          {
            dir,
            candidate: c.name,
          },
        );
      }
      byName.set(c.name, c);
    }
  }
  const order = ref.config.candidates.map((c) => c.name);
  const candidates = [...byName.values()].sort(
    (a, b) => order.indexOf(a.name) - order.indexOf(b.name),
  );
  const best = chooseBest(candidates, order);
  const winner = runs.find(({ run }) => run.record.chosen.name === best.name);
  if (!winner) {
    throw new RunFolderError(`no folder holds the refit of the best candidate "${best.name}"`, {
      candidate: best.name,
    });
  }
  const record: RunRecord = {
    ...winner.run.record,
    candidates,
    gate: applyGate(winner.run.record.chosen.holdout, winner.run.record.config.gate),
  };
  return { record, artifactText: winner.run.artifactText };
}

/**
 * Optional third file, written by the decide step for the workflow (decide.ts): the A/B
 * comparison and decision that register records in the card (`comparison`, `decision`; built
 * by `cardAssessment` in registry/card.ts).
 */
export const ASSESSMENT_FILE = 'assessment.json';

const assessmentShape = z.object({
  comparison: z.record(z.string(), z.unknown()).nullable(),
  decision: z.object({
    action: z.enum(['promote', 'hold', 'reject']),
    reasons: z.array(z.string()),
  }),
});

export type RunAssessment = z.infer<typeof assessmentShape>;

/** Reads a run folder's assessment, or undefined when there is none. */
export async function readAssessment(dir: string): Promise<RunAssessment | undefined> {
  const file = path.join(dir, ASSESSMENT_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  const parsed = assessmentShape.safeParse(JSON.parse(text));
  if (!parsed.success) {
    throw new RunFolderError(
      `${file} is not a valid assessment: ${parsed.error.issues[0]?.message ?? 'invalid'}`,
      {
        file,
      },
    );
  }
  return parsed.data;
}
