/** Plain-text views of the registry for the terminal: a model's versions, a card, the history. */
import { table } from '../run-summary.ts';
import type { ProductionHistory } from './history.ts';
import { productionVersion, type ModelState } from './registry.ts';
import type { Card } from './schema.ts';

const f4 = (x: number): string => x.toFixed(4);
const v = (n: number | null): string => (n === null ? '—' : `v${n}`);

/** A model's versions, newest first, with the production pin marked. */
export function renderModel(state: ModelState): string {
  const production = productionVersion(state);
  const rows = [...state.cards]
    .reverse()
    .map((c) => [
      v(c.version),
      c.createdAt.slice(0, 19).replace('T', ' '),
      c.candidate.name,
      f4(c.metrics.holdout.accuracy),
      f4(c.metrics.holdout.macroF1),
      c.dataset.sha256.slice(0, 12),
      c.trainingKey.slice(0, 12),
      c.version === production ? '← production' : '',
    ]);
  return [
    `${state.model}: production ${v(production)}, ${state.cards.length} version${state.cards.length === 1 ? '' : 's'} (at ${state.commit.slice(0, 12)})`,
    table([
      [
        'version',
        'created (UTC)',
        'candidate',
        'accuracy',
        'macro-F1',
        'dataset',
        'training key',
        '',
      ],
      ...rows,
    ]),
    '',
  ].join('\n');
}

/** One version's card, the parts a reviewer reads first. */
export function renderCard(card: Card, inProduction: boolean): string {
  const h = card.metrics.holdout;
  return [
    `${card.model}@${card.version}${inProduction ? ' (production)' : ''}: ${card.candidate.name} (${card.candidate.algorithm}), registered ${card.createdAt}`,
    `  training key  ${card.trainingKey}`,
    `  code          ${card.code.id} at commit ${card.code.commit}`,
    `  dataset       ${card.dataset.path} sha256 ${card.dataset.sha256}, ${card.dataset.rows} rows ` +
      Object.entries(card.dataset.classCounts)
        .map(([k, n]) => `${k}=${n}`)
        .join(' '),
    `  params        ${JSON.stringify(card.candidate.params)} seed ${card.candidate.seed}`,
    `  cv            macro-F1 ${f4(card.metrics.cv.mean.macroF1)} ± ${f4(card.metrics.cv.std.macroF1)}, accuracy ${f4(card.metrics.cv.mean.accuracy)}`,
    `  hold-out      accuracy ${f4(h.accuracy)}, macro-F1 ${f4(h.macroF1)}, precision ${f4(h.macroPrecision)}, recall ${f4(h.macroRecall)} (${h.rows} rows)`,
    `  gate          ${card.gate.passed ? 'passed' : 'failed'} (accuracy >= ${card.gate.thresholds.minAccuracy}, macro-F1 >= ${card.gate.thresholds.minMacroF1})`,
    `  decision      ${card.decision.action}: ${card.decision.reasons.join('; ')}`,
    `  inputs        ${card.signature.inputs.map((i) => `${i.name} [${i.min}, ${i.max}]`).join(', ')}`,
    `  classes       ${card.signature.output.classes.join(', ')}`,
    `  artifact      ${card.artifact.kind} format ${card.artifact.formatVersion}, ${card.artifact.bytes} bytes, sha256 ${card.artifact.sha256}`,
    '',
  ].join('\n');
}

/** Every production change, oldest first, with the version in effect marked. */
export function renderHistory(model: string, history: ProductionHistory): string {
  const current = history.stack[history.stack.length - 1]?.commit;
  const rows = history.entries.map((e) => [
    new Date(e.committer.timestamp * 1000).toISOString().slice(0, 19).replace('T', ' '),
    e.kind,
    `${v(e.before)} → ${v(e.after)}`,
    e.commit.slice(0, 12),
    `${e.author.name} <${e.author.email}>`,
    e.committer.name === e.author.name ? '' : e.committer.name,
    e.pullRequest === undefined ? '' : `#${e.pullRequest}`,
    e.commit === current ? 'yes' : '',
  ]);
  if (rows.length === 0) return `${model}: production has never been pinned\n`;
  return (
    // Text columns read left-aligned; the last names the pin now in effect.
    table(
      [['date (UTC)', 'change', 'production', 'commit', 'author', 'committer', 'PR', 'in effect'], ...rows],
      [1, 2, 3, 4, 5, 6, 7],
    ) +
    (history.rolledBack.length > 0
      ? `\nrolled back: ${history.rolledBack.map((n) => `v${n}`).join(', ')}`
      : '') +
    '\n'
  );
}
