/**
 * Builds a registry card from a training run: a pure function of the run and the facts of
 * registration (version, time, commit, comparison and decision). The A/B step's part of the
 * card ({@link cardAssessment}) is built here too, before the version exists: the decide step
 * hands it to registration (in the workflow, as the run folder's `assessment.json`).
 */
import type { Decision, PairedComparison } from '../compare.ts';
import { RegistryError } from '../errors.ts';
import type { RunRecord, TrainRun } from '../train.ts';
import { CARD_FORMAT_VERSION, cardSchema, type Card } from './schema.ts';

export interface CardFacts {
  version: number;
  createdAt: Date;
  /** The commit the training ran at. */
  commit: string;
  comparison?: Card['comparison'];
  decision?: Card['decision'];
}

/** The card of a run registered as `facts.version`; checked against the card schema. */
export function buildCard(run: TrainRun, facts: CardFacts): Card {
  const { record } = run;
  const artifact = JSON.parse(run.artifactText) as { kind: string; formatVersion: number };
  const card = {
    formatVersion: CARD_FORMAT_VERSION,
    model: record.model,
    version: facts.version,
    createdAt: facts.createdAt.toISOString(),
    trainingKey: record.chosen.trainingKey,
    code: { ...record.code, commit: facts.commit },
    dataset: record.dataset,
    config: record.config as unknown as Record<string, unknown>,
    candidate: {
      name: record.chosen.name,
      algorithm: record.chosen.algorithm,
      params: record.chosen.params,
      seed: record.chosen.seed,
    },
    split: record.split,
    metrics: {
      cv: record.chosen.cv,
      holdout: record.chosen.holdout,
      ...(record.chosen.featureImportances === undefined
        ? {}
        : { featureImportances: record.chosen.featureImportances }),
      ...(record.chosen.outOfBag === undefined ? {} : { outOfBag: record.chosen.outOfBag }),
    },
    candidates: record.candidates.map((c) => ({
      name: c.name,
      algorithm: c.algorithm,
      trainingKey: c.trainingKey,
      cv: {
        macroF1: c.cv.mean.macroF1,
        accuracy: c.cv.mean.accuracy,
        macroF1Std: c.cv.std.macroF1,
      },
    })),
    gate: {
      thresholds: {
        minAccuracy: record.config.gate.minAccuracy,
        minMacroF1: record.config.gate.minMacroF1,
      },
      passed: record.gate.passed,
      reasons: record.gate.reasons,
    },
    comparison: facts.comparison ?? null,
    decision: facts.decision ?? {
      action: record.gate.passed ? 'promote' : 'reject',
      reasons: record.gate.passed ? ['passed the gate'] : record.gate.reasons,
    },
    signature: {
      inputs: record.signature.features,
      output: { name: record.signature.label.name, classes: record.signature.label.classes },
    },
    artifact: {
      file: 'model.json' as const,
      sha256: record.chosen.artifact.sha256,
      bytes: record.chosen.artifact.bytes,
      kind: artifact.kind,
      formatVersion: artifact.formatVersion,
    },
    ...(record.profile === undefined ? {} : { profile: record.profile }),
  };
  const parsed = cardSchema.safeParse(card);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new RegistryError(
      `the card of ${record.model}@${facts.version} does not match the card schema at ` +
        `${issue?.path.join('.') ?? '?'}: ${issue?.message ?? 'invalid'}`,
      { field: issue?.path.join('.') },
    );
  }
  return parsed.data;
}

/** What a card records of the A/B step: the comparison with production and the decision. */
export interface CardAssessment {
  comparison: Card['comparison'];
  decision: Card['decision'];
}

/** What the comparison with production found, for {@link cardAssessment}. */
export interface AssessmentInput {
  record: RunRecord;
  decision: Decision;
  /** The card of the production version compared against; null when there is none. */
  against: Card | null;
  /** Null when the two were not scored on the same rows (or there is no production). */
  comparison: PairedComparison | null;
  /** Why the two could not be scored on the same rows. */
  incomparable?: string;
  /** Hold-out rows left out because production trained on them. */
  excludedRows: number;
}

/**
 * The card's `comparison` and `decision` (registry/README.md); null when the decision is
 * `unchanged`, since nothing is registered then.
 */
export function cardAssessment(input: AssessmentInput): CardAssessment | null {
  const { record, decision, against, comparison } = input;
  if (decision.action === 'unchanged') return null;
  const policy = record.config.compare;
  return {
    decision: { action: decision.action, reasons: decision.reasons },
    comparison:
      against === null
        ? null
        : {
            against: {
              model: record.model,
              version: against.version,
              trainingKey: against.trainingKey,
              candidate: against.candidate.name,
              datasetSha256: against.dataset.sha256,
            },
            datasetChanged: against.dataset.sha256 !== record.dataset.sha256,
            policy: { policy: policy.policy, tolerance: policy.tolerance, alpha: policy.alpha },
            ...(comparison === null
              ? { incomparable: input.incomparable ?? null }
              : {
                  rows: comparison.rows,
                  excludedRows: input.excludedRows,
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
}
