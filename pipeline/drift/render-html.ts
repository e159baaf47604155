/**
 * The drift report as one self-contained HTML page: the headline, the table, and per feature
 * a plot of reference vs current shares (`render-svg.ts`), the class mix and drifted features
 * first. Nothing is loaded from anywhere: inline CSS, inline SVG, no script, and a
 * Content-Security-Policy that forbids every load, so the page reads the same offline, as a CI
 * artifact or from GitHub Pages. Every string from the report is escaped (feature names come
 * from CSV headers). Pure.
 */
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
  type DisplayRow,
} from './render-format.ts';
import type { DriftReport } from './report.ts';
import { escapeHtml as esc, renderSharesSvg } from './render-svg.ts';

/** The page's Content-Security-Policy: nothing but its own inline styles and data: images. */
export const DRIFT_PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

const STYLE = `
:root { color-scheme: light; --ref: #4c78a8; --cur: #f58518; --drift: #c92a2a; --muted: #666; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 24px auto; max-width: 1100px; padding: 0 16px; color: #222; }
h1 { font-size: 22px; margin: 0 0 4px; }
.verdict { font-size: 16px; margin: 0 0 12px; }
.verdict.drift strong:first-child, .badge { color: #fff; background: var(--drift); padding: 1px 6px; border-radius: 3px; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 0 0 12px; }
dt { font-weight: 600; } dd { margin: 0; }
.note { background: #fff8e1; border-left: 4px solid #f0b400; padding: 6px 10px; margin: 6px 0; }
table { border-collapse: collapse; width: 100%; margin: 8px 0 24px; }
th, td { border-bottom: 1px solid #ddd; padding: 4px 6px; text-align: left; vertical-align: top; }
td:first-child { max-width: 22em; overflow-wrap: anywhere; } td:last-child { max-width: 18em; overflow-wrap: anywhere; }
.table-wrap { overflow-x: auto; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.drifted td:first-child { border-left: 4px solid var(--drift); font-weight: 600; }
tr.prediction td:first-child { font-style: italic; }
.plot { border: 1px solid #ddd; border-radius: 4px; padding: 8px 12px; margin: 0 0 16px; }
.plot.drifted { border: 2px solid var(--drift); }
.plot h3 { margin: 0 0 4px; font-size: 16px; overflow-wrap: anywhere; }
.plot p { margin: 0 0 6px; color: var(--muted); }
svg.shares { display: block; max-width: 100%; height: auto; font-size: 11px; }
svg .ref, svg .legend-ref { fill: var(--ref); } svg .cur, svg .legend-cur { fill: var(--cur); }
svg .grid { stroke: #e5e5e5; } svg .axis { stroke: #888; } svg .tick { fill: #444; }
`;

const rowName = (r: DisplayRow): string => (r.isPrediction ? PREDICTION_LABEL : r.feature.name);

function header(report: DriftReport): string {
  return [
    '<header>',
    `<h1>${esc(driftTitle(report))}</h1>`,
    `<p class="verdict${report.datasetDrift ? ' drift' : ''}"><strong>Dataset drift: ${report.datasetDrift ? 'yes' : 'no'}</strong> · severity <strong>${esc(report.severity)}</strong> · ${esc(formatDriftedCount(report))}</p>`,
    '<dl>',
    ...headlineFacts(report).map(([label, fact]) => `<dt>${esc(label)}</dt><dd>${esc(fact)}</dd>`),
    '</dl>',
    ...reportNotes(report).map((n) => `<p class="note">${esc(n)}</p>`),
    '</header>',
  ].join('\n');
}

const rowClass = (r: DisplayRow): string =>
  [r.feature.drifted === true ? 'drifted' : '', r.isPrediction ? 'prediction' : '']
    .filter(Boolean)
    .join(' ');

function table(rows: readonly DisplayRow[]): string {
  const body = rows.map((r, i) => {
    const cls = rowClass(r);
    const cells = rowCells(r.feature).map(
      (cell, c) =>
        `<td${NUMERIC_COLUMNS.has(CELL_HEAD[c] ?? '') ? ' class="num"' : ''}>${esc(cell)}</td>`,
    );
    return `<tr${cls ? ` class="${cls}"` : ''}><td><a href="#plot-${i}">${esc(rowName(r))}</a></td>${cells.join('')}</tr>`;
  });
  return [
    '<div class="table-wrap"><table>',
    `<thead><tr>${['feature', ...CELL_HEAD].map((h) => `<th>${h}</th>`).join('')}</tr></thead>`,
    '<tbody>',
    ...body,
    '</tbody>',
    '</table></div>',
  ].join('\n');
}

function plot(r: DisplayRow, i: number): string {
  const f = r.feature;
  const name = rowName(r);
  const what = 'edges' in f.shares ? 'quantile bins of the reference' : 'categories';
  const [, test, score, threshold, drifted, psi, severity, note] = rowCells(f);
  const facts = [
    `${test} ${score}, threshold ${threshold}`,
    `drifted: ${drifted}`,
    `PSI ${psi}`,
    `severity ${severity}`,
    note,
  ].filter(Boolean);
  return [
    `<section class="plot${f.drifted === true ? ' drifted' : ''}" id="plot-${i}">`,
    `<h3>${esc(name)}${f.drifted === true ? ' <span class="badge">drifted</span>' : ''}</h3>`,
    `<p>${esc(facts.join(' · '))}</p>`,
    renderSharesSvg(f.shares, `${name}: shares of reference and current rows per ${what}`, {
      referenceRows: f.referenceRows,
      currentRows: f.currentRows,
    }),
    '</section>',
  ].join('\n');
}

/**
 * The report as one HTML page that needs no network: its headline, the table, and a plot of
 * reference vs current shares per feature (the class mix first, then drifted features).
 */
export function renderDriftHtml(report: DriftReport): string {
  const rows = displayRows(report);
  const title = `Drift report: ${report.model}@${report.version}`;
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${DRIFT_PAGE_CSP}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${esc(title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    header(report),
    '<main>',
    '<h2>Features</h2>',
    table(rows),
    '<h2>Reference vs current</h2>',
    '<p>Shares of rows per quantile bin of the reference (numerical features; the first and last bins also take values beyond the outer edges) or per category.</p>',
    ...rows.map(plot),
    '</main>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
