/**
 * The drift page's plot of one feature: reference and current shares side by side per quantile
 * bin (numerical features, the bins' edges under the axis) or per category (categorical
 * features and the class mix), as inline SVG that needs nothing from the network. Pure.
 */
import type { BinnedShares, CategoryShares } from './report.ts';

/** The plot's size in CSS pixels. */
export const PLOT_WIDTH = 640;
export const PLOT_HEIGHT = 240;

/** Categories drawn at most; the rest are summed into one `other` bar pair. */
export const MAX_CATEGORIES = 30;

/** Text made safe for HTML and SVG text and attribute values. */
export function escapeHtml(value: string): string {
  return value.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );
}

const percent = (x: number): string => `${(x * 100).toFixed(1)}%`;
/** An axis tick without a trailing `.0`. */
const tickPercent = (x: number): string => `${Number((x * 100).toFixed(1))}%`;
const px = (x: number): string => String(Math.round(x * 10) / 10);

/** An edge in at most four significant digits, as an axis shows it. */
function edgeLabel(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  return String(Number(x.toPrecision(4)));
}

const shorten = (s: string, max: number): string =>
  s.length > max ? `${s.slice(0, max - 1)}…` : s;

interface Group {
  /** Shown under the group (categories); numerical plots label the edges instead. */
  label: string;
  /** The tooltip's name of the group. */
  title: string;
  reference: number;
  current: number;
}

function binGroups(s: BinnedShares): Group[] {
  return s.reference.map((reference, i) => {
    const low = s.edges[i];
    const high = s.edges[i + 1];
    const range =
      low === undefined || high === undefined
        ? `bin ${i + 1}`
        : `bin ${i + 1}: [${edgeLabel(low)}, ${edgeLabel(high)})`;
    return { label: '', title: range, reference, current: s.current[i] ?? 0 };
  });
}

function categoryGroups(s: CategoryShares): Group[] {
  const all = s.categories.map((category, i) => ({
    label: category,
    title: category,
    reference: s.reference[i] ?? 0,
    current: s.current[i] ?? 0,
  }));
  if (all.length <= MAX_CATEGORIES) return all;
  const byShare = [...all].sort(
    (a, b) => Math.max(b.reference, b.current) - Math.max(a.reference, a.current),
  );
  const kept = new Set(byShare.slice(0, MAX_CATEGORIES - 1));
  const rest = all.filter((g) => !kept.has(g));
  const other: Group = {
    label: `other (${rest.length})`,
    title: `${rest.length} other categories`,
    reference: rest.reduce((t, g) => t + g.reference, 0),
    current: rest.reduce((t, g) => t + g.current, 0),
  };
  return [...all.filter((g) => kept.has(g)), other];
}

/** An upper end for the share axis: a round figure above the highest share. */
function axisTop(groups: readonly Group[]): number {
  const highest = Math.max(0, ...groups.flatMap((g) => [g.reference, g.current]));
  if (highest <= 0) return 0.1;
  const step = highest < 0.1 ? 0.01 : 0.05;
  return Math.min(1, Math.ceil((highest * 1.05) / step) * step);
}

/** Counts for the legend: `reference (120 rows)`. */
export interface PlotCounts {
  referenceRows: number;
  currentRows: number;
}

/**
 * The SVG of reference vs current shares. `label` names the plot for assistive technology
 * (escaped here); every other string drawn comes from `shares` and is escaped too.
 */
export function renderSharesSvg(
  shares: BinnedShares | CategoryShares,
  label: string,
  counts: PlotCounts,
): string {
  const numerical = 'edges' in shares;
  const groups = numerical ? binGroups(shares) : categoryGroups(shares);
  const rotate = !numerical && groups.length > 6;
  // Rotated labels reach left of their bar by about their length: room for the first one.
  const m = { left: rotate ? 96 : 52, right: 16, top: 30, bottom: rotate ? 92 : 40 };
  const w = PLOT_WIDTH - m.left - m.right;
  const h = PLOT_HEIGHT - m.top - m.bottom;
  const top = axisTop(groups);
  const y = (share: number): number => m.top + h - (Math.min(share, top) / top) * h;
  const slot = w / Math.max(1, groups.length);
  const bar = Math.max(1, slot * 0.38);
  const out: string[] = [
    `<svg class="shares" viewBox="0 0 ${PLOT_WIDTH} ${PLOT_HEIGHT}" width="${PLOT_WIDTH}" height="${PLOT_HEIGHT}" role="img" aria-label="${escapeHtml(label)}">`,
    `<rect class="legend-ref" x="${m.left}" y="8" width="12" height="12"/>`,
    `<text x="${m.left + 18}" y="18">reference (${counts.referenceRows.toLocaleString('en-US')} rows)</text>`,
    `<rect class="legend-cur" x="${m.left + 220}" y="8" width="12" height="12"/>`,
    `<text x="${m.left + 238}" y="18">current (${counts.currentRows.toLocaleString('en-US')} rows)</text>`,
  ];
  for (const tick of [0, top / 2, top]) {
    out.push(
      `<line class="grid" x1="${m.left}" x2="${m.left + w}" y1="${px(y(tick))}" y2="${px(y(tick))}"/>`,
      `<text class="tick" x="${m.left - 6}" y="${px(y(tick) + 4)}" text-anchor="end">${tickPercent(tick)}</text>`,
    );
  }
  groups.forEach((g, i) => {
    const x0 = m.left + i * slot + slot * 0.12;
    const tip = `${g.title}: reference ${percent(g.reference)}, current ${percent(g.current)}`;
    for (const [cls, share, x] of [
      ['ref', g.reference, x0],
      ['cur', g.current, x0 + bar],
    ] as const) {
      out.push(
        `<rect class="${cls}" x="${px(x)}" y="${px(y(share))}" width="${px(bar)}" height="${px(m.top + h - y(share))}"><title>${escapeHtml(tip)}</title></rect>`,
      );
    }
    if (!numerical) {
      const cx = m.left + (i + 0.5) * slot;
      const ty = m.top + h + 14;
      const text = escapeHtml(shorten(g.label, rotate ? 16 : Math.max(4, Math.floor(slot / 7))));
      out.push(
        rotate
          ? `<text class="tick" x="${px(cx)}" y="${ty}" text-anchor="end" transform="rotate(-40 ${px(cx)} ${ty})">${text}</text>`
          : `<text class="tick" x="${px(cx)}" y="${ty}" text-anchor="middle">${text}</text>`,
      );
    }
  });
  if (numerical) {
    const edges = shares.edges;
    const every = Math.max(1, Math.ceil(edges.length / 11));
    edges.forEach((edge, i) => {
      if (i % every !== 0 && i !== edges.length - 1) return;
      const x = m.left + i * slot;
      out.push(
        `<text class="tick" x="${px(x)}" y="${m.top + h + 16}" text-anchor="middle">${escapeHtml(edgeLabel(edge))}</text>`,
      );
    });
  }
  out.push(
    `<line class="axis" x1="${m.left}" x2="${m.left + w}" y1="${m.top + h}" y2="${m.top + h}"/>`,
    '</svg>',
  );
  return out.join('\n');
}
