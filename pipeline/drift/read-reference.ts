/**
 * Reads a version's reference rows from git: its dataset at the commit its card records
 * (checked against the card's SHA-256), parsed with the recorded configuration and split with
 * the recorded split, so the rows are exactly the ones it trained on (`train`) or was scored
 * on (`holdout`). The predicted-class mix comes from the card's hold-out confusion matrix.
 */
import type { ModelConfig } from '../config.ts';
import { parseDataset } from '../dataset.ts';
import { RegistryError } from '../errors.ts';
import type { GitRepo } from '../git/repo.ts';
import { sha256 } from '../json.ts';
import { ref } from '../registry/messages.ts';
import type { Card } from '../registry/schema.ts';
import { readDatasetAt } from '../registry/verify.ts';
import { splitRows } from '../split.ts';
import type { ReferenceSample } from './reference.ts';
import type { DriftReport } from './report.ts';

export type ReferencePart = 'train' | 'holdout';

/** The reference rows of `card`'s version and what the report says of them. */
export async function readReference(
  repo: GitRepo,
  card: Card,
  part: ReferencePart,
): Promise<{ sample: ReferenceSample; reference: DriftReport['reference'] }> {
  const bytes = await readDatasetAt(repo, card);
  const where = `${card.dataset.path} at ${card.code.commit.slice(0, 12)}`;
  if (bytes === undefined) {
    throw new RegistryError(
      `${ref(card.model, card.version)}'s dataset ${where} is not in git: drift reads the rows the version trained on from the commit its card records`,
      { model: card.model, version: card.version, path: card.dataset.path },
    );
  }
  const found = sha256(bytes);
  if (found !== card.dataset.sha256) {
    throw new RegistryError(
      `${where} has sha256 ${found}, ${ref(card.model, card.version)}'s card records ${card.dataset.sha256}: the reference rows are not the ones it trained on`,
      { model: card.model, version: card.version, path: card.dataset.path },
    );
  }
  const config = card.config as unknown as Omit<ModelConfig, 'name'>;
  const dataset = parseDataset(bytes, {
    path: card.dataset.path,
    features: config.features,
    label: config.label,
    ...(config.classes ? { classes: config.classes } : {}),
  });
  const split = splitRows(dataset, config.split);
  const rows = part === 'train' ? split.train : split.holdout;
  if (
    split.train.length !== card.split.trainRows ||
    split.holdout.length !== card.split.holdoutRows
  ) {
    throw new RegistryError(
      `${where} splits into ${split.train.length} training and ${split.holdout.length} hold-out rows, ${ref(card.model, card.version)}'s card records ${card.split.trainRows} and ${card.split.holdoutRows}: the reference cannot be rebuilt with this release's split`,
      { model: card.model, version: card.version },
    );
  }
  const columns = dataset.features.map((_, j) =>
    Float64Array.from(rows, (i) => (dataset.X[i] as number[])[j] as number),
  );
  const classes = card.signature.output.classes.map(String);
  const confusion = card.metrics.holdout.confusion;
  const counts = classes.map((_, p) => confusion.reduce((sum, row) => sum + (row[p] ?? 0), 0));
  return {
    sample: {
      features: dataset.features,
      columns,
      rows: rows.length,
      predicted: { classes, counts },
    },
    reference: {
      part,
      dataset: card.dataset.path,
      sha256: card.dataset.sha256,
      rows: rows.length,
    },
  };
}
