/**
 * Builds a registry card from a training run: a pure function of the run and the facts of
 * registration (version, time, commit, comparison and decision).
 */
import { RegistryError } from '../errors.ts';
import type { TrainRun } from '../train.ts';
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
