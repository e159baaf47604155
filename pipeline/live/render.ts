/**
 * The live report as markdown: the monitor's pull-request bodies and job summary, and
 * `pinml compare --live`. The same form as the promotion report: the decision as the heading,
 * its reasons, then the figures. Times are left out (the window is named by its length), so a
 * re-run over the same rows writes the same body and updates nothing. Pure.
 */
import type { Interval } from '../log/quality.ts';
import { pct, pv } from '../compare.ts';
import {
  f3,
  type CanaryJudgement,
  type LiveAction,
  type ProductionJudgement,
  type ShadowJudgement,
} from './judge.ts';

/** Everything the monitor judged of one model. */
export interface LiveReport {
  model: string;
  /** `24h`: production's window (`monitor.rollback.window`), ending when it was read. */
  window: string;
  /** The canary's and the shadow's window (`monitor.canary.window`). */
  comparisonWindow: string;
  /** The log read: a server URL or a store file. */
  source: string;
  production: ProductionJudgement | null;
  canary: CanaryJudgement | null;
  shadow: ShadowJudgement | null;
}

const span = (i: Interval | null): string =>
  i === null ? '—' : `${f3(i.estimate)} [${f3(i.low)}, ${f3(i.high)}]`;
const bullets = (lines: readonly string[]): string[] => lines.map((l) => `- ${l}`);

const VERDICT: Record<ProductionJudgement['verdict'], string> = {
  degraded: 'Roll back',
  healthy: 'Healthy',
  insufficient: 'Waiting for labels',
};
const ACTION: Record<LiveAction, string> = {
  promote: 'Promote',
  watch: 'Keep watching',
  remove: 'Remove',
};

function production(j: ProductionJudgement, window: string, alpha: number): string[] {
  const level = pct(1 - 2 * alpha);
  const threshold = [
    j.thresholds.accuracy === undefined ? '' : `accuracy ≥ ${j.thresholds.accuracy}`,
    j.thresholds.macroF1 === undefined ? '' : `macro-F1 ≥ ${j.thresholds.macroF1}`,
  ]
    .filter(Boolean)
    .join(', ');
  const rows = [
    `| version | labelled rows | right | accuracy (${level} interval) | macro-F1 (${level} interval) | threshold |`,
    '|---|---:|---:|---|---|---|',
    `| ${j.model}@${j.version} (production) | ${j.labelled} | ${j.correct} | ${span(j.accuracy)} | ${span(j.macroF1)} | ${threshold || '—'} |`,
  ];
  if (j.previous !== null) {
    const acc = j.previous.labelled === 0 ? '—' : f3(j.previous.correct / j.previous.labelled);
    rows.push(
      `| ${j.model}@${j.previous.version} (previous production) | ${j.previous.labelled} | ${j.previous.correct} | ${acc} | | |`,
    );
  }
  return [
    `## ${VERDICT[j.verdict]}: ${j.model}@${j.version} in production`,
    '',
    ...bullets(j.reasons),
    '',
    `### Live quality, last ${window}`,
    '',
    ...rows,
    '',
    `Rule \`monitor.rollback.when: ${j.rule}\`; the interval's upper end is the one-sided ${pct(1 - alpha)} bound (Wilson score for accuracy, percentile bootstrap for macro-F1).`,
  ];
}

function canary(j: CanaryJudgement, window: string): string[] {
  const t = j.test;
  const acc = (a: { correct: number; rows: number }): string =>
    a.rows === 0 ? '—' : f3(a.correct / a.rows);
  return [
    `## ${ACTION[j.decision.action]}${j.decision.action === 'watch' ? '' : ' the canary'}: ${j.model}@${j.canary.version} at ${pct(j.canary.weight)} of traffic`,
    '',
    ...bullets(j.decision.reasons),
    '',
    `### Canary against production, last ${window}`,
    '',
    '| arm | version | labelled rows | right | accuracy | rows still needed |',
    '|---|---|---:|---:|---:|---:|',
    `| production | ${j.model}@${j.production.version} | ${j.production.rows} | ${j.production.correct} | ${acc(j.production)} | ${j.rowsStillNeeded.production} |`,
    `| canary | ${j.model}@${j.canary.version} | ${j.canary.rows} | ${j.canary.correct} | ${acc(j.canary)} | ${j.rowsStillNeeded.canary} |`,
    '',
    t === null
      ? `Not tested yet: each arm needs ${j.policy.minLabelled} labelled rows (\`monitor.canary.minLabelled\`).`
      : `Difference (canary − production) ${f3(t.difference)}, ${pct(1 - t.alpha)} Newcombe interval [${f3(t.interval.low)}, ${f3(t.interval.high)}], pooled two-proportion z = ${t.z.toFixed(3)}, p = ${pv(t.pValue)}.`,
    `Policy \`${j.policy.policy}\`, tolerance ${j.policy.tolerance}, alpha ${j.policy.alpha}; ${j.rowsPerArm} labelled rows per arm detect a difference of ${j.policy.tolerance} with power ${j.policy.power}.`,
  ];
}

function shadow(j: ShadowJudgement, window: string): string[] {
  const c = j.comparison;
  return [
    `## ${ACTION[j.decision.action]}${j.decision.action === 'watch' ? '' : ' the shadow'}: ${j.model}@${j.shadow.version} in shadow`,
    '',
    ...bullets(j.decision.reasons),
    '',
    `### Shadow against production on the same rows, last ${window}`,
    '',
    c === null
      ? `${j.rows} labelled rows answered by both so far.`
      : [
          '| figure | production | shadow | difference | interval |',
          '|---|---:|---:|---:|---|',
          `| accuracy | ${f3(c.accuracy.production)} | ${f3(c.accuracy.candidate)} | ${f3(c.accuracy.delta)} | [${f3(c.accuracy.interval.low)}, ${f3(c.accuracy.interval.high)}] |`,
          `| macro-F1 | ${f3(c.macroF1.production)} | ${f3(c.macroF1.candidate)} | ${f3(c.macroF1.delta)} | [${f3(c.macroF1.interval.low)}, ${f3(c.macroF1.interval.high)}] |`,
          '',
          `${c.rows} paired rows; exact McNemar: production alone right on ${c.mcnemar.productionOnly}, the shadow alone on ${c.mcnemar.candidateOnly}, p = ${c.mcnemar.pValue}.`,
        ].join('\n'),
  ];
}

/** The `--since` that reads the same windows again (none when they are the configured ones). */
const again = (r: LiveReport): string =>
  r.window === r.comparisonWindow ? ` --since ${r.window}` : '';

/** The report of one model, every part that was judged. */
export function renderLiveReport(report: LiveReport, rollbackAlpha: number): string {
  const parts: string[][] = [];
  if (report.production) parts.push(production(report.production, report.window, rollbackAlpha));
  if (report.canary) parts.push(canary(report.canary, report.comparisonWindow));
  if (report.shadow) parts.push(shadow(report.shadow, report.comparisonWindow));
  if (parts.length === 0) parts.push([`## ${report.model}: nothing is served`]);
  return `${parts.map((p) => p.join('\n')).join('\n\n')}\n\nRead from ${report.source}; see it again with \`pinml compare --live ${report.model}${again(report)}\`.\n`;
}
