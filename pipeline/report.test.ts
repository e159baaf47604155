// @vitest-environment jsdom
// jsdom gives mermaid the DOM its parser's sanitiser needs; @mermaid-js/parser has no xychart.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Nodes, Root, Table } from 'mdast';
import mermaid from 'mermaid';
import remarkGfm from 'remark-gfm';
import remarkParse from 'remark-parse';
import { unified } from 'unified';
import { describe, expect, it } from 'vitest';
import { comparePredictions } from './compare.ts';
import {
  GITHUB_BODY_LIMIT,
  historyChart,
  renderReportJson,
  renderReportMarkdown,
  type PromotionReport,
} from './report.ts';
import { seededRandom } from './stats.ts';

function walk(node: Nodes, visit: (n: Nodes) => void): void {
  visit(node);
  if ('children' in node) for (const child of node.children) walk(child, visit);
}

function textOf(node: Nodes): string {
  if ('value' in node) return node.value;
  return 'children' in node ? node.children.map((c) => textOf(c as Nodes)).join('') : '';
}

/**
 * Parses the markdown as GitHub-flavoured markdown and checks its shape: tables whose rows
 * all have the header's cell count, balanced `<details>`, no raw HTML but details, summary
 * and code, and one mermaid block that mermaid's own parser accepts.
 */
async function checkMarkdown(
  markdown: string,
): Promise<{ tree: Root; tables: Table[]; details: number }> {
  const tree = unified().use(remarkParse).use(remarkGfm).parse(markdown);
  const tables: Table[] = [];
  const html: string[] = [];
  const mermaidBlocks: string[] = [];
  walk(tree, (n) => {
    if (n.type === 'table') tables.push(n);
    if (n.type === 'html') html.push(n.value);
    if (n.type === 'code' && n.lang === 'mermaid') mermaidBlocks.push(n.value);
  });
  for (const table of tables) {
    const width = table.children[0]?.children.length;
    for (const row of table.children) expect(row.children.length).toBe(width);
  }
  const tags = html.flatMap((h) => h.match(/<\/?[a-z][a-z0-9-]*/gi) ?? []);
  for (const tag of tags) expect(tag.replace(/^<\/?/, '')).toMatch(/^(details|summary|code)$/);
  const opened = tags.filter((t) => t === '<details').length;
  expect(tags.filter((t) => t === '</details').length).toBe(opened);
  expect(mermaidBlocks).toHaveLength(1);
  await expect(mermaid.parse(mermaidBlocks[0] as string)).resolves.toMatchObject({
    diagramType: 'xychart',
  });
  return { tree, tables, details: opened };
}

interface Synthetic {
  classes: number;
  candidates: number;
  rows: number;
  history: number;
  labelOf?: (i: number) => string;
  notes?: string[];
}

/** A report over `classes` classes and `candidates` candidates, with seeded predictions. */
function synthetic(s: Synthetic): PromotionReport {
  const random = seededRandom(11);
  const labels = Array.from({ length: s.classes }, (_, i) =>
    s.labelOf ? s.labelOf(i) : `class-${String(i).padStart(3, '0')}`,
  );
  const yTrue = Array.from({ length: s.rows }, (_, i) => i % s.classes);
  const predict = (accuracy: number): number[] =>
    yTrue.map((t) =>
      random() < accuracy ? t : (t + 1 + Math.floor(random() * (s.classes - 1))) % s.classes,
    );
  const comparison = comparePredictions(
    { classes: labels, yTrue, production: predict(0.8), candidate: predict(0.84) },
    { alpha: 0.05, resamples: 200, seed: 7 },
  );
  const counts = (shift: number): Record<string, number> =>
    Object.fromEntries(labels.map((l, i) => [l, 30 + ((i * shift) % 7)]));
  return {
    formatVersion: 1,
    model: 'many',
    decision: { action: 'promote', reasons: ['the candidate is fine', 'a second reason'] },
    policy: { policy: 'non-inferiority', tolerance: 0.02, alpha: 0.05, resamples: 200, seed: 7 },
    candidate: {
      version: 9,
      name: 'cand-000',
      algorithm: 'random-forest',
      trainingKey: 'a'.repeat(64),
      gate: { passed: true, reasons: [] },
      holdout: {
        rows: s.rows,
        accuracy: comparison.accuracy.candidate,
        macroF1: comparison.macroF1.candidate,
      },
    },
    production: {
      version: 8,
      name: 'old',
      algorithm: 'random-forest',
      trainingKey: 'b'.repeat(64),
    },
    classes: labels,
    comparison,
    dataset: {
      path: 'data/many.csv',
      current: { sha256: 'c'.repeat(64), rows: s.rows, classCounts: counts(3) },
      production: { sha256: 'd'.repeat(64), rows: s.rows - 50, classCounts: counts(5) },
      changed: true,
    },
    candidates: Array.from({ length: s.candidates }, (_, i) => ({
      name: `cand-${String(i).padStart(3, '0')}`,
      algorithm: i % 2 ? 'logistic-regression' : 'random-forest',
      cvMacroF1: 0.9 - i / 100_000,
      cvMacroF1Std: 0.01,
      cvAccuracy: 0.91 - i / 100_000,
      chosen: i === 0,
    })),
    lineage: {
      commit: 'e'.repeat(40),
      codeVersion: '0.1.0+abc',
      datasetSha256: 'c'.repeat(64),
      parentVersion: 8,
    },
    history: Array.from({ length: s.history }, (_, i) => ({
      version: i + 1,
      kind: i % 5 === 4 ? ('rollback' as const) : ('promote' as const),
      accuracy: 0.7 + (i % 10) / 100,
    })),
    notes: s.notes ?? ['the dataset changed since production (v8) was trained'],
  };
}

describe('the report on the bundled Iris data (golden file)', () => {
  it('is valid GitHub-flavoured markdown with tables, folded details and a mermaid chart', async () => {
    // The jsdom environment's URL is not node's: build the path from the module's file name.
    const file = path.join(
      path.dirname(fileURLToPath(import.meta.url)),
      'fixtures',
      'report-iris.md',
    );
    const markdown = await readFile(file, 'utf8');
    const { tree, tables, details } = await checkMarkdown(markdown);
    // metrics, per-class, two confusion matrices, dataset facts and class counts, candidates
    expect(tables.length).toBe(7);
    expect(details).toBe(4);
    // The decision and its reasons come first.
    const first = tree.children[0] as Nodes;
    expect(first.type).toBe('heading');
    expect(textOf(first)).toMatch(
      /^PROMOTE: iris candidate logistic-default vs production iris@1$/,
    );
    expect(tree.children[1]?.type).toBe('list');
    expect(markdown).not.toContain('Left out');
  });
});

describe('the report of 100 classes and 200 candidates', () => {
  const report = synthetic({ classes: 100, candidates: 200, rows: 3000, history: 60 });
  const markdown = renderReportMarkdown(report);

  it(`stays within GitHub's ${GITHUB_BODY_LIMIT} characters and stays valid markdown`, async () => {
    expect(markdown.length).toBeLessThanOrEqual(GITHUB_BODY_LIMIT);
    const { tables, details } = await checkMarkdown(markdown);
    expect(details).toBe(4);
    expect(tables.length).toBeGreaterThanOrEqual(5);
  });

  it('says what it left out: the full confusion matrices, the earliest history points', () => {
    const left = markdown.slice(markdown.indexOf('**Left out'));
    expect(left).toMatch(/100×100 confusion matrices/);
    expect(left).toMatch(/earliest points? of the production history chart/);
  });

  it('lists every candidate and every class when they fit', () => {
    for (const name of ['cand-000', 'cand-199']) expect(markdown).toContain(`| ${name} |`);
    expect(markdown).toContain('Per-class changes (100 classes)');
  });

  it('renders the same text for the same report, and the JSON has everything', () => {
    expect(renderReportMarkdown(report)).toBe(markdown);
    const json = JSON.parse(renderReportJson(report)) as PromotionReport;
    expect(json.candidates).toHaveLength(200);
    expect(json.comparison?.candidate.confusion).toHaveLength(100);
  });
});

describe('the report under pressure', () => {
  it('cuts candidates, classes and notes to fit 1000 long, hostile labels and 5000 candidates', async () => {
    const report = synthetic({
      classes: 1000,
      candidates: 5000,
      rows: 4000,
      history: 500,
      labelOf: (i) => `<b>class|${i}</b> *${'x'.repeat(100)}* [link](http://example.com)`,
      notes: Array.from({ length: 80 }, (_, i) => `note ${i}: ${'long '.repeat(800)}`),
    });
    const markdown = renderReportMarkdown(report);
    expect(markdown.length).toBeLessThanOrEqual(GITHUB_BODY_LIMIT);
    const { tree } = await checkMarkdown(markdown);
    const left = markdown.slice(markdown.indexOf('**Left out'));
    expect(left).toMatch(/candidates? of 5000/);
    expect(left).toMatch(/of 1000 classes/);
    expect(left).toMatch(/notes?/);
    // Labels are shown as text: no link, no HTML, the pipe kept inside its cell.
    let links = 0;
    walk(tree, (n) => {
      if (n.type === 'link') links++;
    });
    expect(links).toBe(0);
    expect(markdown).toContain('\\<b\\>class\\|');
  });

  it('fits a smaller limit too, still valid', async () => {
    const report = synthetic({ classes: 100, candidates: 200, rows: 3000, history: 60 });
    const markdown = renderReportMarkdown(report, { maxChars: 12_000 });
    expect(markdown.length).toBeLessThanOrEqual(12_000);
    await checkMarkdown(markdown);
    expect(markdown).toContain('**Left out');
  });

  it('refuses a limit below the smallest report it can guarantee', () => {
    const report = synthetic({ classes: 3, candidates: 2, rows: 30, history: 1 });
    expect(() => renderReportMarkdown(report, { maxChars: 1000 })).toThrow(RangeError);
  });
});

describe('historyChart', () => {
  it('plots production versions in pin order, then the candidate, within maxPoints', () => {
    const report = synthetic({ classes: 3, candidates: 2, rows: 30, history: 12 });
    const { chart, cut } = historyChart(report, 5);
    expect(cut).toBe(8);
    expect(chart).toContain('x-axis ["v9", "v10 (rollback)", "v11", "v12", "candidate"]');
  });
});
