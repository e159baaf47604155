/**
 * Plain-text summaries of a run for the terminal: the candidates' CV figures, the chosen
 * model's hold-out figures and the gate's verdict.
 */
import type { GateVerdict } from './gate.ts';
import type { RunRecord } from './train.ts';

/**
 * Lays out rows as aligned columns (first row is the header): the first column and the columns
 * in `left` aligned left, the others right.
 */
export function table(rows: readonly (readonly string[])[], left: readonly number[] = []): string {
  const widths: number[] = [];
  for (const row of rows)
    row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  const fmt = (row: readonly string[]): string =>
    row
      .map((cell, i) =>
        i === 0 || left.includes(i) ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0),
      )
      .join('  ')
      .trimEnd();
  const [head, ...body] = rows;
  if (!head) return '';
  return [fmt(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(fmt)].join('\n');
}

const f4 = (x: number): string => x.toFixed(4);

/** The gate's verdict as lines. */
export function renderGate(gate: GateVerdict): string {
  const head = gate.passed ? 'gate: PASSED' : 'gate: FAILED';
  const checks = gate.checks.map(
    (c) => `  ${c.passed ? 'ok  ' : 'FAIL'} ${c.metric} ${f4(c.value)} >= ${c.threshold}`,
  );
  return [head, ...checks].join('\n');
}

/** The whole run: candidates, hold-out metrics, per-class figures and the gate. */
export function renderRun(record: RunRecord): string {
  const candidates = table([
    ['candidate', 'algorithm', 'cv macro-F1', '± sd', 'cv accuracy', 'chosen'],
    ...record.candidates.map((c) => [
      c.name,
      c.algorithm,
      f4(c.cv.mean.macroF1),
      f4(c.cv.std.macroF1),
      f4(c.cv.mean.accuracy),
      c.name === record.chosen.name ? 'yes' : '',
    ]),
  ]);
  const h = record.chosen.holdout;
  const perClass = table([
    ['class', 'precision', 'recall', 'F1', 'support'],
    ...h.perClass.map((m) => [
      String(m.class),
      f4(m.precision),
      f4(m.recall),
      f4(m.f1),
      String(m.support),
    ]),
  ]);
  return [
    `model ${record.model}: dataset ${record.dataset.path} (${record.dataset.rows} rows, sha256 ${record.dataset.sha256.slice(0, 12)}), ` +
      `${record.split.trainRows} training rows in ${record.split.folds} folds, ${record.split.holdoutRows} held out`,
    '',
    candidates,
    '',
    `hold-out (${h.rows} rows) of ${record.chosen.name}: accuracy ${f4(h.accuracy)}, macro precision ${f4(h.macroPrecision)}, ` +
      `macro recall ${f4(h.macroRecall)}, macro F1 ${f4(h.macroF1)}`,
    '',
    perClass,
    '',
    renderGate(record.gate),
    '',
  ].join('\n');
}
