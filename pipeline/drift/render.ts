/**
 * The drift report's renderings: GitHub-flavoured markdown for an issue body or a job summary
 * ({@link renderDriftMarkdown}), canonical JSON for scripts ({@link renderDriftJson}), and a
 * self-contained HTML page with a plot per feature ({@link renderDriftHtml}, in
 * `render-html.ts`). Pure: values in, text out.
 *
 * The markdown opens with the verdict (dataset drift, severity, drifted of tested features),
 * the window and the reference; then notes (sketch, too-small windows), the table (the class
 * mix first, then drifted features, furthest past their thresholds first) and a mermaid chart
 * of the scores against their thresholds. It stays within GitHub's 65,536-character body
 * limit by leaving out the table's last rows, and says how many it left out.
 */
import { UsageError } from '../errors.ts';
import { canonicalJson } from '../json.ts';
import { GITHUB_BODY_LIMIT } from '../report.ts';
import {
  CELL_HEAD,
  displayRows,
  driftTitle,
  formatDriftedCount,
  headlineFacts,
  NUMERIC_COLUMNS,
  PREDICTION_LABEL,
  reportNotes,
  rowCells,
  thresholdRatio,
  type DisplayRow,
} from './render-format.ts';
import type { DriftReport } from './report.ts';

export { renderDriftHtml } from './render-html.ts';

/** The report as canonical JSON (sorted keys, 2-space indent, final newline). */
export function renderDriftJson(report: DriftReport): string {
  return canonicalJson(report);
}

/** Where the other renderings of the report can be read (absolute http(s) URLs). */
export interface DriftLinks {
  /** The HTML page (an artifact or a Pages URL). */
  html?: string;
  /** The JSON report. */
  json?: string;
  /** The workflow run that computed it. */
  run?: string;
}

/**
 * The smallest `maxChars` accepted: the headline, the notes, the class-mix row and the chart
 * always fit in it, whatever the lengths of the names and notes (each is shortened).
 */
export const MIN_DRIFT_CHARS = 8192;

/** Longest strings shown (the JSON and HTML have them whole). */
const TITLE_CHARS = 120;
const FACT_CHARS = 600;
const NAME_CHARS = 60;
const NOTE_CHARS = 240;

/** Bars of the chart at most, in the table's order; the rest are left out of it. */
export const CHART_BARS = 40;
/** The chart's top: a score this many times past its threshold is drawn at the top. */
export const CHART_CAP = 5;
/** The bars' colour, then the threshold line's (the HTML page's reference blue and drift red). */
const CHART_COLOURS = '#4c78a8, #c92a2a';

const oneLine = (value: string, max: number): string => {
  const s = value.replace(/\s+/g, ' ').trim();
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
};

/**
 * Text made safe for a markdown paragraph or table cell: one line, every markdown, HTML and
 * math character escaped. (A bare URL may still become a link: GitHub finds those in text.)
 */
function md(value: string, max = Infinity): string {
  return oneLine(value, max).replace(/[\\`*_[\]<>|~&#!$^{}]/g, (c) => `\\${c}`);
}

/**
 * A name (a feature, a path) as a code span: shown as it is, with no markdown, HTML, math or
 * link inside. The fence is one backtick longer than any run in the name; in a table, `|` is
 * escaped, which GFM reads as `|` even in code.
 */
function code(value: string, max: number, inTable = false): string {
  let s = oneLine(value, max);
  if (inTable) s = s.replace(/\|/g, '\\|');
  const longest = Math.max(0, ...(s.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  const pad = s === '' || s.startsWith('`') || s.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${s}${pad}${fence}`;
}

function link(text: string, url: string, what: keyof DriftLinks): string {
  let parsed: URL | null = null;
  try {
    parsed = new URL(url);
  } catch {
    parsed = null;
  }
  if (!parsed || (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')) {
    throw new UsageError(
      `the drift report's ${what} link must be an absolute http(s) URL, got ${JSON.stringify(url)}`,
      { link: what, url },
    );
  }
  // WHATWG URL serialisation percent-encodes < and >, so the angle-bracket form cannot break.
  return `[${text}](<${parsed.href}>)`;
}

function linksLine(links: DriftLinks): string | null {
  const parts: string[] = [];
  if (links.html !== undefined) parts.push(link('HTML report with plots', links.html, 'html'));
  if (links.json !== undefined) parts.push(link('JSON report', links.json, 'json'));
  if (links.run !== undefined) parts.push(link('workflow run', links.run, 'run'));
  return parts.length === 0 ? null : `- **Links:** ${parts.join(' · ')}`;
}

function headline(report: DriftReport, links: DriftLinks): string[] {
  const lines = [
    `## ${md(driftTitle(report), TITLE_CHARS)}`,
    '',
    `**Dataset drift: ${report.datasetDrift ? 'yes' : 'no'}** · severity **${report.severity}** · ${formatDriftedCount(report)}`,
    '',
    ...headlineFacts(report).map(([label, fact]) => `- **${label}:** ${md(fact, FACT_CHARS)}`),
  ];
  const linked = linksLine(links);
  if (linked) lines.push(linked);
  const notes = reportNotes(report).map((n) => `> **Note:** ${md(n)}`);
  if (notes.length > 0) lines.push('', notes.join('\n>\n'));
  return lines;
}

const HEAD = ['feature', ...CELL_HEAD];
const ALIGN = HEAD.map((h) => (NUMERIC_COLUMNS.has(h) ? '---:' : '---'));

function tableRow({ feature: f, isPrediction }: DisplayRow): string {
  const name = isPrediction ? `*${PREDICTION_LABEL}*` : code(f.name, NAME_CHARS, true);
  const cells = rowCells(f).map((cell, i) => {
    const column = CELL_HEAD[i];
    if (column === 'drifted' && f.drifted === true) return '**yes**';
    if (column === 'severity' && (cell === 'medium' || cell === 'high')) return `**${cell}**`;
    return md(cell, column === 'note' ? NOTE_CHARS : Infinity);
  });
  return `| ${[name, ...cells].join(' | ')} |`;
}

/** The label of a chart bar: mermaid's quoted strings take no quote, so a safe subset, unique. */
function chartLabel(row: DisplayRow, used: Set<string>): string {
  const base = row.isPrediction
    ? PREDICTION_LABEL
    : row.feature.name
        .replace(/[^\p{L}\p{N} _./+%-]/gu, '_')
        .replace(/\s+/g, ' ')
        .trim()
        .slice(0, 24) || '_';
  let label = base;
  for (let k = 2; used.has(label); k++) label = `${base} (${k})`;
  used.add(label);
  return label;
}

/**
 * A mermaid `xychart-beta` (horizontal bars) of each scored row's score against its threshold,
 * in the table's order, at most `maxBars` bars. It plots {@link thresholdRatio}, not PSI: PSI
 * exists only for numerical features and decides no verdict, while the score over its
 * threshold does, for every test and the class mix alike, on one scale where the line at 1 is
 * the threshold and every bar past it is a drifted feature.
 */
export function scoreChart(
  rows: readonly DisplayRow[],
  maxBars = CHART_BARS,
): { chart: string | null; plotted: number; scored: number } {
  const scored = rows
    .map((row) => ({ row, ratio: thresholdRatio(row.feature) }))
    .filter((r): r is { row: DisplayRow; ratio: number } => r.ratio !== null);
  const shown = scored.slice(0, maxBars);
  if (shown.length === 0) return { chart: null, plotted: 0, scored: 0 };
  const highest = Math.max(...shown.map((s) => s.ratio));
  const top = Math.min(CHART_CAP, Math.max(1.5, Math.ceil(highest * 1.1 * 2) / 2));
  const used = new Set<string>();
  const labels = shown.map((s) => `"${chartLabel(s.row, used)}"`);
  const values = shown.map((s) => Number(Math.min(s.ratio, top).toFixed(3)));
  // Mermaid's default height squeezes many bars into slivers; its default bar colour is pale.
  const chart = [
    '---',
    'config:',
    '  xyChart:',
    `    height: ${Math.max(300, 120 + 24 * shown.length)}`,
    '  themeVariables:',
    '    xyChart:',
    `      plotColorPalette: "${CHART_COLOURS}"`,
    '---',
    'xychart-beta horizontal',
    `  title "Score against its threshold (1 = threshold; past it, drift${highest > top ? `; capped at ${top}` : ''})"`,
    `  x-axis [${labels.join(', ')}]`,
    `  y-axis "score / threshold" 0 --> ${top}`,
    `  bar [${values.join(', ')}]`,
    `  line [${values.map(() => 1).join(', ')}]`,
  ].join('\n');
  return { chart, plotted: shown.length, scored: scored.length };
}

function chartSection(rows: readonly DisplayRow[]): string[] {
  const { chart, plotted, scored } = scoreChart(rows);
  if (chart === null) return ['No feature has a score to plot.'];
  const unscored = rows.length - scored;
  return [
    '```mermaid',
    chart,
    '```',
    '',
    'A distance is shown over its threshold; a p-value as log(p) / log(threshold), so p = threshold² reads 2. ' +
      (plotted < scored
        ? `The first ${plotted} of ${scored} scored rows, in the table's order. `
        : '') +
      (unscored > 0 ? `Not plotted: ${unscored} without a score (too few rows).` : ''),
  ];
}

function render(
  report: DriftReport,
  links: DriftLinks,
  rows: DisplayRow[],
  kept: number,
  maxChars: number,
): string {
  const parts = [...headline(report, links), '', '### Features', ''];
  parts.push(`| ${HEAD.join(' | ')} |`, `| ${ALIGN.join(' | ')} |`);
  for (const row of rows.slice(0, kept)) parts.push(tableRow(row));
  const left = rows.length - kept;
  if (left > 0) {
    parts.push(
      '',
      `*${left.toLocaleString('en-US')} more of ${rows.length.toLocaleString('en-US')} rows left out ` +
        `(the last in the table's order: the least past their thresholds, and those without a verdict) ` +
        `to stay within ${maxChars.toLocaleString('en-US')} characters${maxChars === GITHUB_BODY_LIMIT ? ", GitHub's limit" : ''}; ` +
        'the JSON and HTML reports have every feature.*',
    );
  }
  if (!report.prediction) {
    parts.push(
      '',
      'No predicted-class mix: the report has no reference predictions to compare with.',
    );
  }
  parts.push('', '### Scores against their thresholds', '', ...chartSection(rows));
  return parts.join('\n') + '\n';
}

/**
 * The report as GitHub-flavoured markdown: the whole table when it fits within `maxChars`
 * (GitHub's issue-body limit by default), else as many of its first rows as fit and a line
 * saying how many were left out. Throws a {@link UsageError} for a link that is not an
 * absolute http(s) URL and a RangeError for `maxChars` below {@link MIN_DRIFT_CHARS}.
 */
export function renderDriftMarkdown(
  report: DriftReport,
  links: DriftLinks = {},
  maxChars: number = GITHUB_BODY_LIMIT,
): string {
  if (!(maxChars >= MIN_DRIFT_CHARS)) {
    throw new RangeError(`maxChars must be at least ${MIN_DRIFT_CHARS}, got ${maxChars}`);
  }
  const rows = displayRows(report);
  const fixed = report.prediction ? 1 : 0;
  const at = (kept: number): string => render(report, links, rows, kept, maxChars);
  const full = at(rows.length);
  if (full.length <= maxChars) return full;
  // The longest prefix of the table that fits: the length grows with every row kept.
  let lo = fixed;
  let hi = rows.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (at(mid).length <= maxChars) lo = mid;
    else hi = mid - 1;
  }
  return at(lo);
}
