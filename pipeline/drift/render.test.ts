// @vitest-environment jsdom
// jsdom gives mermaid the DOM its parser's sanitiser needs, and the HTML page a DOMParser.
import type { Nodes, Root, Table, TableRow } from 'mdast';
import { toString } from 'mdast-util-to-string';
import mermaid from 'mermaid';
import remarkGfm from 'remark-gfm';
import remarkParse from 'remark-parse';
import { unified } from 'unified';
import { visit } from 'unist-util-visit';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../errors.ts';
import { GITHUB_BODY_LIMIT } from '../report.ts';
import {
  CLASS_MIX,
  HOSTILE_NAME,
  HOSTILE_NOTE,
  manyFeatures,
  SAMPLE_DISPLAY_ORDER,
  sampleReport,
} from './fixtures/drift-reports.ts';
import {
  CHART_CAP,
  MIN_DRIFT_CHARS,
  renderDriftJson,
  renderDriftMarkdown,
  scoreChart,
} from './render.ts';
import { displayRows } from './render-format.ts';
import type { DriftReport } from './report.ts';

/** A node's text, markup left out. */
const textOf = (node: Nodes): string => toString(node);

const cells = (row: TableRow): string[] => row.children.map(textOf);

interface Parsed {
  tree: Root;
  table: Table;
  /** The table's body rows as cell texts. */
  rows: string[][];
  links: string[];
  chart: string;
}

/**
 * Parses the markdown as GitHub-flavoured markdown and checks its shape: one table whose rows
 * all have the header's nine cells, no raw HTML, no image, and one mermaid block that
 * mermaid's own parser accepts as an xychart.
 */
async function checkMarkdown(markdown: string): Promise<Parsed> {
  const tree = unified().use(remarkParse).use(remarkGfm).parse(markdown);
  const tables: Table[] = [];
  const charts: string[] = [];
  const links: string[] = [];
  visit(tree, (n: Nodes) => {
    if (n.type === 'table') tables.push(n);
    if (n.type === 'code' && n.lang === 'mermaid') charts.push(n.value);
    if (n.type === 'link') links.push(n.url);
    expect(n.type).not.toBe('html');
    expect(n.type).not.toBe('image');
  });
  expect(tables).toHaveLength(1);
  const table = tables[0] as Table;
  for (const row of table.children) expect(row.children).toHaveLength(9);
  expect(charts).toHaveLength(1);
  const chart = charts[0] as string;
  await expect(mermaid.parse(chart)).resolves.toMatchObject({ diagramType: 'xychart' });
  return { tree, table, rows: table.children.slice(1).map(cells), links, chart };
}

const barsOf = (chart: string): number[] =>
  (/^\s*bar \[(.*)\]$/m.exec(chart)?.[1] ?? '').split(', ').map(Number);

describe('the markdown of a report with every kind of row', () => {
  const report = sampleReport();
  const markdown = renderDriftMarkdown(report);

  it('opens with the verdict, then the window with its times and rows, then the reference', async () => {
    const { tree } = await checkMarkdown(markdown);
    const [heading, verdict, facts] = tree.children as Nodes[];
    expect(heading?.type).toBe('heading');
    expect(textOf(heading as Nodes)).toBe('Dataset drift in iris@3: severity high');
    expect(textOf(verdict as Nodes)).toBe(
      'Dataset drift: yes · severity high · 3 of 5 tested features drifted',
    );
    const items = textOf(facts as Nodes);
    expect(items).toContain(
      'Window: 2026-12-01 00:00:00 UTC → 2026-12-02 00:00:00 UTC (24 hours), 400 rows, from logs/predictions.sqlite',
    );
    expect(items).toContain(
      'Reference: data/iris.csv, sha256 abababababab, train part, 120 rows, trained at commit 0123456789ab',
    );
  });

  it('lists the class mix, then drifted features furthest past their thresholds, then the rest', async () => {
    const { table, rows } = await checkMarkdown(markdown);
    expect(cells(table.children[0] as TableRow).join(' ')).toBe(
      'feature kind test score threshold drifted PSI severity note',
    );
    expect(rows.map((r) => r[0])).toEqual(SAMPLE_DISPLAY_ORDER);
  });

  it('shows each score with its kind and threshold, the verdict, PSI, severity and note', async () => {
    const { rows } = await checkMarkdown(markdown);
    const row = (name: string): string[] | undefined => rows.find((r) => r[0] === name);
    expect(row('petal_length')).toEqual([
      'petal_length',
      'numerical',
      'Kolmogorov–Smirnov',
      '1.00e-6 (p-value)',
      '< 0.05',
      'yes',
      '0.4100',
      'high',
      '',
    ]);
    expect(row('sketched')?.slice(3)).toEqual([
      '0.0800 (distance)',
      '> 0.1',
      'no',
      '0.0500',
      'none',
      'sketch: score ± 0.0100',
    ]);
    expect(row('tiny_window')?.slice(3, 6)).toEqual(['—', '< 0.05', 'no verdict']);
    expect(row('tiny_window')?.[8]).toMatch(/a verdict needs 30$/);
    expect(rows[0]?.slice(1, 4)).toEqual(['categorical', 'chi-squared', '0.4000 (p-value)']);
  });

  it('keeps a hostile name and note as text in their own cells: no HTML, link or image', async () => {
    const { rows, links } = await checkMarkdown(markdown);
    const hostile = rows.find((r) => r[0] === HOSTILE_NAME);
    expect(hostile?.[8]).toBe(HOSTILE_NOTE);
    expect(links).toEqual([]);
  });

  it('notes that the sketch was used and that a feature had too few rows for a verdict', async () => {
    const { tree } = await checkMarkdown(markdown);
    const notes = tree.children.filter((n) => n.type === 'blockquote').map(textOf);
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(/fixed-size sketch \(64\.0 KiB\).*the largest ± 0\.0100/);
    expect(notes[0]).toMatch(/No verdict on 1 feature: fewer than 30 rows had a value/);
  });

  it('charts every scored row against its threshold, in the table order, with the threshold at 1', async () => {
    const { chart } = await checkMarkdown(markdown);
    const bars = barsOf(chart);
    expect(bars).toHaveLength(6);
    // log(1e-6) / log(0.05) = 4.6117; a distance over its threshold: 0.08 / 0.1
    expect(bars[1]).toBeCloseTo(Math.log(1e-6) / Math.log(0.05), 3);
    expect(bars[4]).toBeCloseTo(0.8, 3);
    expect(bars.filter((b) => b > 1)).toHaveLength(3);
    expect(chart).toMatch(/^\s*line \[1, 1, 1, 1, 1, 1\]$/m);
    expect(chart).toContain('"_script_window.pwned_1_/"');
  });

  it('links the HTML, the JSON and the run, and refuses a link that is not http(s)', async () => {
    const links = {
      html: 'https://o.github.io/r/drift/iris-3.html',
      json: 'https://example.com/a report(1).json',
      run: 'https://github.com/o/r/actions/runs/7',
    };
    const linked = await checkMarkdown(renderDriftMarkdown(report, links));
    expect(linked.links).toEqual([links.html, 'https://example.com/a%20report(1).json', links.run]);
    expect(() => renderDriftMarkdown(report, { html: 'javascript:alert(1)' })).toThrow(UsageError);
    expect(() => renderDriftMarkdown(report, { run: 'runs/7' })).toThrow(UsageError);
  });

  it('says so when there is no class mix', async () => {
    const { rows } = await checkMarkdown(renderDriftMarkdown({ ...report, prediction: null }));
    expect(rows.map((r) => r[0])).not.toContain('predicted-class mix');
    expect(renderDriftMarkdown({ ...report, prediction: null })).toContain(
      'No predicted-class mix',
    );
  });
});

describe('the markdown of 200 features', () => {
  it(`shows every row of plain names within GitHub's ${GITHUB_BODY_LIMIT} characters`, async () => {
    const report = manyFeatures(200, (i) => `feature_${String(i).padStart(3, '0')}`);
    const markdown = renderDriftMarkdown(report);
    expect(markdown.length).toBeLessThanOrEqual(GITHUB_BODY_LIMIT);
    const { rows, chart } = await checkMarkdown(markdown);
    expect(rows).toHaveLength(201);
    expect(markdown).not.toContain('left out');
    expect(barsOf(chart)).toHaveLength(40);
    expect(markdown).toContain('The first 40 of 201 scored rows');
  });

  it('leaves out the last rows of long hostile names, says how many, and stays valid', async () => {
    const report = manyFeatures(
      200,
      (i) => `<b>|${i}|</b> ${'*_`'.repeat(30)} http://x.example/${i}`,
      (i) => `note ${i}: ${'[a](b) '.repeat(60)}`,
    );
    const markdown = renderDriftMarkdown(report);
    expect(markdown.length).toBeLessThanOrEqual(GITHUB_BODY_LIMIT);
    const { rows, links } = await checkMarkdown(markdown);
    const left = /\*(\d+) more of 201 rows left out/.exec(markdown);
    expect(left).not.toBeNull();
    expect(rows.length + Number(left?.[1])).toBe(201);
    expect(rows.length).toBeGreaterThan(20);
    expect(links).toEqual([]);
    // The drifted features (every fifth: 40) come first, after the class mix.
    expect(rows.slice(1, 41).every((r) => r[5] === 'yes')).toBe(true);
  });

  it(`fits ${MIN_DRIFT_CHARS} characters with every string at its longest, keeping the class mix`, async () => {
    const long = '<&|*`$_'.repeat(200);
    const base = manyFeatures(
      200,
      (i) => `${long}${i}`,
      () => long,
    );
    const report: DriftReport = {
      ...base,
      model: long,
      createdAt: long,
      reference: { ...base.reference, dataset: long, sha256: long },
      window: { ...base.window, source: long },
      prediction: { ...CLASS_MIX, note: long, errorBound: 0.01 },
    };
    const markdown = renderDriftMarkdown(report, {}, MIN_DRIFT_CHARS);
    expect(markdown.length).toBeLessThanOrEqual(MIN_DRIFT_CHARS);
    const { rows } = await checkMarkdown(markdown);
    expect(rows[0]?.[0]).toBe('predicted-class mix');
    expect(() => renderDriftMarkdown(report, {}, MIN_DRIFT_CHARS - 1)).toThrow(RangeError);
  });
});

describe('scoreChart', () => {
  it('caps a score far past its threshold at the top and says so', async () => {
    const report = sampleReport();
    report.features = report.features.map((f) =>
      f.name === 'petal_length' ? { ...f, score: 1e-300 } : f,
    );
    const { chart } = scoreChart(displayRows(report));
    expect(chart).toContain(`capped at ${CHART_CAP}`);
    expect(barsOf(chart ?? '')[1]).toBe(CHART_CAP);
    await expect(mermaid.parse(chart ?? '')).resolves.toMatchObject({ diagramType: 'xychart' });
  });

  it('gives names that are alike in their first 24 characters distinct labels', () => {
    const report = manyFeatures(3, (i) => `a_very_long_common_prefix_${i}`);
    const { chart } = scoreChart(displayRows(report));
    const labels = /x-axis \[(.*)\]/.exec(chart ?? '')?.[1]?.split(', ') ?? [];
    expect(labels).toHaveLength(4);
    expect(new Set(labels).size).toBe(4);
  });
});

/** Whether every object in `value` has its keys in sorted order. */
function keysSorted(value: unknown): boolean {
  if (Array.isArray(value)) return value.every(keysSorted);
  if (value === null || typeof value !== 'object') return true;
  const keys = Object.keys(value);
  return (
    keys.every((k, i) => i === 0 || (keys[i - 1] as string) < k) &&
    Object.values(value).every(keysSorted)
  );
}

describe('renderDriftJson', () => {
  it('writes sorted keys, a 2-space indent and a final newline, whatever order the keys came in', () => {
    const report = sampleReport();
    const json = renderDriftJson(report);
    expect(json.endsWith('}\n')).toBe(true);
    expect(json.split('\n').every((line) => /^( {2})*\S|^$/.test(line))).toBe(true);
    expect(json).toContain('\n  "commit": ');
    const parsed = JSON.parse(json) as DriftReport;
    expect(keysSorted(parsed)).toBe(true);
    expect(parsed).toEqual(report);
    const reversed = Object.fromEntries(Object.entries(report).reverse()) as DriftReport;
    expect(renderDriftJson(reversed)).toBe(json);
  });
});
