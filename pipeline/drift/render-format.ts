/**
 * What the drift report's renderings share: the order features are shown in, a score against
 * its threshold, and the figures and words of the headline and the table, as plain text (each
 * rendering escapes them for its own syntax). Pure.
 */
import type { DriftReport, DriftTest, FeatureDrift } from './report.ts';

/** A row of the table or a plot of the page: a feature, or the predicted-class mix. */
export interface DisplayRow {
  feature: FeatureDrift;
  /** True for {@link DriftReport.prediction}, which is shown under its own label. */
  isPrediction: boolean;
}

/** The label of the predicted-class mix (a feature may be named `prediction` too). */
export const PREDICTION_LABEL = 'predicted-class mix';

/**
 * How far past its threshold a score is, on one scale for every test: 1 at the threshold,
 * above 1 drifted. A distance over its threshold; a p-value as log(p) / log(threshold), the
 * ratio of their −log₁₀, so p = α² reads 2 whatever α is and p-values of 1e-30 do not dwarf the
 * rest the way threshold / p would. Infinity for p = 0; null without a score.
 */
export function thresholdRatio(f: FeatureDrift): number | null {
  if (f.score === null) return null;
  if (f.scoreKind === 'distance') return f.threshold > 0 ? f.score / f.threshold : null;
  if (!(f.threshold > 0 && f.threshold < 1)) return null;
  if (f.score <= 0) return Infinity;
  return Math.max(0, Math.log(f.score) / Math.log(f.threshold));
}

const VERDICT_RANK = (f: FeatureDrift): number =>
  f.drifted === true ? 0 : f.drifted === false ? 1 : 2;

/**
 * The class mix first, then drifted features, features without drift, features without a
 * verdict; within each, the furthest past its threshold first, then the signature's order.
 */
export function displayRows(report: DriftReport): DisplayRow[] {
  const ranked = report.features
    .map((feature, i) => ({ feature, i, ratio: thresholdRatio(feature) ?? -1 }))
    .sort(
      (a, b) => VERDICT_RANK(a.feature) - VERDICT_RANK(b.feature) || b.ratio - a.ratio || a.i - b.i,
    )
    .map(({ feature }) => ({ feature, isPrediction: false }));
  return report.prediction
    ? [{ feature: report.prediction, isPrediction: true }, ...ranked]
    : ranked;
}

/** Tests by their usual names. */
export const TEST_NAMES: Record<DriftTest, string> = {
  ks: 'Kolmogorov–Smirnov',
  wasserstein: 'Wasserstein (normed)',
  chisquare: 'chi-squared',
  z: 'two-proportion Z',
  jensenshannon: 'Jensen–Shannon',
};

/** A figure with four decimals, and small p-values in exponent form so they do not read 0. */
export function formatNumber(x: number): string {
  if (x !== 0 && Math.abs(x) < 1e-4) return x.toExponential(2);
  return (Object.is(x, -0) ? 0 : x).toFixed(4);
}

/** `0.0123 (p-value)`, or `—` without a score. */
export function formatScore(f: FeatureDrift): string {
  return f.score === null ? '—' : `${formatNumber(f.score)} (${f.scoreKind})`;
}

/** Which side of the threshold is drift: `< 0.05` for p-values, `> 0.1` for distances. */
export function formatThreshold(f: FeatureDrift): string {
  return `${f.scoreKind === 'p-value' ? '<' : '>'} ${f.threshold}`;
}

/** `yes`, `no`, or `no verdict` when the window was too small. */
export function formatDrifted(f: FeatureDrift): string {
  return f.drifted === null ? 'no verdict' : f.drifted ? 'yes' : 'no';
}

function formatPsi(f: FeatureDrift): string {
  return f.psi === null ? '—' : formatNumber(f.psi);
}

/** The note column: the sketch's error bound, then the engine's note. */
export function formatNote(f: FeatureDrift): string {
  const parts: string[] = [];
  if (f.errorBound !== undefined) parts.push(`sketch: score ± ${formatNumber(f.errorBound)}`);
  if (f.note) parts.push(f.note);
  return parts.join('; ');
}

const plural = (n: number, one: string, many = `${one}s`): string =>
  `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;

/** A time as `2026-12-01 10:00:00 UTC`. */
function formatTime(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d{3}Z$/, ' UTC');
}

function formatDuration(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes < 120) return plural(minutes, 'minute');
  const hours = Math.round(minutes / 60);
  return hours < 72 ? plural(hours, 'hour') : plural(Math.round(hours / 24), 'day');
}

/** When the window ran and how many rows it had (without its source, which renderings mark up). */
function formatWindow(w: DriftReport['window']): string {
  const rows = plural(w.rows, 'row');
  if (w.from === null || w.until === null) return `${rows} (no times: a file of inputs)`;
  return `${formatTime(w.from)} → ${formatTime(w.until)} (${formatDuration(w.until - w.from)}), ${rows}`;
}

/** The first 12 characters of a hash, as the promotion report shows them. */
function shortHash(hash: string): string {
  return hash.replace(/[^0-9a-zA-Z]/g, '').slice(0, 12);
}

/** Bytes as `512 B`, `38.6 KiB`, `1.2 MiB`. */
function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1 << 20) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / (1 << 20)).toFixed(1)} MiB`;
}

/** `2 of 4 tested features drifted`. */
export function formatDriftedCount(report: DriftReport): string {
  return `${report.driftedFeatures} of ${plural(report.testedFeatures, 'tested feature')} drifted`;
}

/** The rule dataset drift follows, with the options used. */
function formatDatasetRule(report: DriftReport): string {
  const o = report.options;
  return (
    `dataset drift when at least ${Math.round(o.datasetShare * 1000) / 10}% of the tested features drift; ` +
    `a p-value below ${o.pValue} or a distance above ${o.distance} is drift ` +
    `(tests up to ${plural(o.maxRowsForTests, 'reference row')}, distances above); ` +
    `a drifted feature's severity is medium from PSI ${o.psiMedium} and high from ${o.psiHigh}; ` +
    `no verdict under ${plural(o.minRows, 'row')}`
  );
}

/** The title both renderings open with: `Dataset drift in iris@3: severity high`. */
export function driftTitle(report: DriftReport): string {
  const id = `${report.model}@${report.version}`;
  return report.datasetDrift
    ? `Dataset drift in ${id}: severity ${report.severity}`
    : `No dataset drift in ${id} (severity ${report.severity})`;
}

/** The facts under the verdict, as label and text: the window, the reference, the method, the rules. */
export function headlineFacts(report: DriftReport): [string, string][] {
  const ref = report.reference;
  return [
    ['Window', `${formatWindow(report.window)}, from ${report.window.source}`],
    [
      'Reference',
      `${ref.dataset}, sha256 ${shortHash(ref.sha256)}, ${ref.part} part, ${plural(ref.rows, 'row')}, ` +
        `trained at commit ${shortHash(report.commit)}`,
    ],
    [
      'Method',
      `${report.method} (${formatBytes(report.memoryBytes)} held for the window); computed ${report.createdAt}`,
    ],
    ['Rules', formatDatasetRule(report)],
  ];
}

/** The table's columns after the feature's name. */
export const CELL_HEAD = [
  'kind',
  'test',
  'score',
  'threshold',
  'drifted',
  'PSI',
  'severity',
  'note',
] as const;

/** The columns whose figures are aligned right. */
export const NUMERIC_COLUMNS: ReadonlySet<string> = new Set(['score', 'threshold', 'PSI']);

/** A row's cells after its name, as plain text, in {@link CELL_HEAD}'s order. */
export function rowCells(f: FeatureDrift): string[] {
  return [
    f.kind,
    TEST_NAMES[f.test],
    formatScore(f),
    formatThreshold(f),
    formatDrifted(f),
    formatPsi(f),
    f.severity,
    formatNote(f),
  ];
}

/** What the notes under the headline say, as sentences (none when there is nothing to say). */
export function reportNotes(report: DriftReport): string[] {
  const notes: string[] = [];
  const all = [...report.features, ...(report.prediction ? [report.prediction] : [])];
  const sketched = all.filter((f) => f.errorBound !== undefined);
  if (report.method === 'sketch' || sketched.length > 0) {
    const largest = Math.max(0, ...sketched.map((f) => f.errorBound ?? 0));
    const bounds =
      sketched.length === 0
        ? 'the scores may be off by the sketch’s error (no feature gives its bound)'
        : `the scores of ${plural(sketched.length, 'feature')} may be off by up to their error bound ` +
          `(the largest ± ${formatNumber(largest)}; see the notes column)`;
    notes.push(
      `The current window's values were held in a fixed-size sketch (${formatBytes(report.memoryBytes)}) ` +
        `instead of exactly: ${bounds}, so a score near its threshold may fall either side.`,
    );
  }
  const small = all.filter((f) => f.drifted === null);
  if (report.window.rows < report.options.minRows) {
    notes.push(
      `The window has ${plural(report.window.rows, 'row')}, fewer than the ${report.options.minRows} a verdict needs: ` +
        `no feature was tested.`,
    );
  } else if (small.length > 0) {
    notes.push(
      `No verdict on ${plural(small.length, 'feature')}: fewer than ${report.options.minRows} rows had a value ` +
        `(see the notes column); they are not counted as tested.`,
    );
  }
  return notes;
}
