/** Live quality as text for the terminal: one row per version and pin, then the notes. Pure. */
import { table } from '../run-summary.ts';
import type { Interval, LiveQuality } from './quality.ts';

/** What the figures were read from, and over which window. */
export interface LiveSource {
  model: string;
  /** A file as the user reads it, or a server URL. */
  from: string;
  window: { from: number; until: number };
  confidence: number;
}

const f4 = (x: number): string => x.toFixed(4);
const interval = (i: Interval | null): string =>
  i === null ? '—' : `${f4(i.estimate)} [${f4(i.low)}, ${f4(i.high)}]`;
const utc = (t: number): string => `${new Date(t).toISOString().slice(0, 19).replace('T', ' ')}`;
const percent = (share: number): string => `${(Math.round(share * 1000) / 10).toFixed(1)}%`;

/** The table of a model's live quality, per version and pin. */
export function renderLiveQuality(source: LiveSource, figures: readonly LiveQuality[]): string {
  const level = `${Math.round(source.confidence * 1000) / 10}%`;
  const rows = figures.map((q) => [
    `v${q.version}`,
    q.pin,
    String(q.rows),
    String(q.labelled),
    interval(q.accuracy),
    interval(q.macroF1),
    Object.entries(q.predictedShare)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, share]) => `${name} ${percent(share)}`)
      .join(', '),
  ]);
  const notes = figures.flatMap((q) => q.notes.map((n) => `  v${q.version} ${q.pin}: ${n}`));
  const boot = figures.find((q) => q.macroF1 !== null)?.macroF1;
  if (boot) {
    notes.push(
      `  accuracy: Wilson score interval; macro-F1: percentile bootstrap, ${boot.resamples} resamples, seed ${boot.seed}`,
    );
  }
  return [
    `${source.model}: live quality ${utc(source.window.from)} → ${utc(source.window.until)} UTC, from ${source.from}`,
    table(
      [
        [
          'version',
          'pin',
          'rows',
          'labelled',
          `accuracy (${level})`,
          `macro-F1 (${level})`,
          'predicted',
        ],
        ...rows,
      ],
      [1, 6],
    ),
    ...(notes.length > 0 ? ['notes:', ...notes] : []),
    '',
  ].join('\n');
}
