// @vitest-environment jsdom
// jsdom's DOMParser reads the page as a browser would (without layout: that is the system test).
import { describe, expect, it } from 'vitest';
import {
  HOSTILE_NAME,
  HOSTILE_NOTE,
  SAMPLE_DISPLAY_ORDER,
  sampleReport,
} from './fixtures/drift-reports.ts';
import { DRIFT_PAGE_CSP, renderDriftHtml } from './render-html.ts';
import { MAX_CATEGORIES } from './render-svg.ts';
import type { DriftReport, FeatureDrift } from './report.ts';

/** The little of the DOM these tests read (the project's TypeScript has no DOM library). */
interface El {
  tagName: string;
  textContent: string | null;
  attributes: ArrayLike<{ name: string; value: string }>;
  getAttribute(name: string): string | null;
  querySelector(selector: string): El | null;
  querySelectorAll(selector: string): ArrayLike<El>;
}
interface Doc extends El {
  head: El;
  title: string;
}

function parse(html: string): Doc {
  const { DOMParser } = globalThis as unknown as {
    DOMParser: new () => { parseFromString(text: string, type: string): Doc };
  };
  return new DOMParser().parseFromString(html, 'text/html');
}

const all = (root: El, selector: string): El[] => Array.from(root.querySelectorAll(selector));
const text = (el: El | null | undefined): string => el?.textContent?.trim() ?? '';
const num = (el: El, name: string): number => Number(el.getAttribute(name));

const report = sampleReport();
const html = renderDriftHtml(report);
const doc = parse(html);

/** The plot section of the row named `name` (by its heading). */
function plotOf(name: string): El {
  const section = all(doc, 'section.plot').find((s) =>
    text(s.querySelector('h3')).startsWith(name),
  );
  if (!section) throw new Error(`no plot of ${name}`);
  return section;
}

describe('the drift page', () => {
  it('loads nothing: its CSP forbids every load and no element, attribute or style names a resource', () => {
    const head = Array.from(doc.head.querySelectorAll('*'));
    expect(head[0]?.getAttribute('charset')).toBe('utf-8');
    expect(head[1]?.getAttribute('http-equiv')).toBe('Content-Security-Policy');
    expect(head[1]?.getAttribute('content')).toBe(DRIFT_PAGE_CSP);
    expect(DRIFT_PAGE_CSP).toBe("default-src 'none'; style-src 'unsafe-inline'; img-src data:");
    expect(all(doc, 'script, link, img, iframe, object, embed, image, use, base')).toEqual([]);
    for (const el of all(doc, '*')) {
      for (const { name, value } of Array.from(el.attributes)) {
        expect(name).not.toMatch(/^on|^src$|^srcset$|^xlink:href$|^style$/);
        if (name === 'href') expect(value).toMatch(/^#plot-\d+$/);
      }
    }
    const css = all(doc, 'style').map(text).join('\n');
    expect(css.length).toBeGreaterThan(100);
    expect(css).not.toMatch(/url\(|@import|@font-face/);
  });

  it('shows a hostile name and note as text, adding no element to the page', () => {
    expect(text(plotOf(HOSTILE_NAME).querySelector('h3'))).toBe(`${HOSTILE_NAME} drifted`);
    expect(text(plotOf(HOSTILE_NAME).querySelector('p'))).toContain(HOSTILE_NOTE);
    const cell = all(doc, 'tbody tr td:first-child').map(text);
    expect(cell).toContain(HOSTILE_NAME);
    expect(doc.title).toBe('Drift report: iris@3');
    // The same report with plain strings has exactly as many elements.
    const plain: DriftReport = {
      ...report,
      features: report.features.map((f) =>
        f.name === HOSTILE_NAME ? { ...f, name: 'plain', note: 'plain' } : f,
      ),
    };
    expect(all(doc, '*').length).toBe(all(parse(renderDriftHtml(plain)), '*').length);
  });

  it('opens with the verdict, the window and the reference', () => {
    expect(text(doc.querySelector('h1'))).toBe('Dataset drift in iris@3: severity high');
    expect(text(doc.querySelector('.verdict'))).toBe(
      'Dataset drift: yes · severity high · 3 of 5 tested features drifted',
    );
    const facts = Object.fromEntries(
      all(doc, 'dt').map((dt, i) => [text(dt), text(all(doc, 'dd')[i])]),
    );
    expect(facts.Window).toBe(
      '2026-12-01 00:00:00 UTC → 2026-12-02 00:00:00 UTC (24 hours), 400 rows, from logs/predictions.sqlite',
    );
    expect(facts.Reference).toBe(
      'data/iris.csv, sha256 abababababab, train part, 120 rows, trained at commit 0123456789ab',
    );
    expect(all(doc, '.note').map(text)).toHaveLength(2);
  });

  it('has one table row and one plot per row, the class mix and the drifted features first', () => {
    const names = all(doc, 'tbody tr').map((tr) => text(tr.querySelector('td')));
    expect(names).toEqual(SAMPLE_DISPLAY_ORDER);
    expect(all(doc, 'tbody tr.drifted')).toHaveLength(3);
    const plots = all(doc, 'section.plot');
    expect(plots.map((s) => s.getAttribute('id'))).toEqual(names.map((_, i) => `plot-${i}`));
    expect(plots.map((s) => s.getAttribute('class'))).toEqual([
      'plot',
      'plot drifted',
      'plot drifted',
      'plot drifted',
      'plot',
      'plot',
      'plot',
    ]);
    for (const plot of plots) expect(all(plot, 'svg')).toHaveLength(1);
  });

  it('draws bars in proportion to the shares, with the bins’ edges under a numerical plot', () => {
    const feature = report.features.find((f) => f.name === 'petal_length') as FeatureDrift;
    const shares = feature.shares as { edges: number[]; current: number[]; reference: number[] };
    const svg = plotOf('petal_length').querySelector('svg') as El;
    const heights = all(svg, 'rect.cur').map((r) => num(r, 'height'));
    expect(heights).toHaveLength(10);
    expect(all(svg, 'rect.ref')).toHaveLength(10);
    // Pixels per unit of share from the tallest bar; coordinates are rounded to 0.1 px.
    const scale = Math.max(...heights) / Math.max(...shares.current);
    heights.forEach((h, i) =>
      expect(Math.abs(h - (shares.current[i] as number) * scale)).toBeLessThanOrEqual(0.1),
    );
    const ticks = all(svg, 'text.tick').map(text);
    expect(ticks).toEqual(expect.arrayContaining(shares.edges.map(String)));
    expect(all(svg, 'rect.cur title').map(text)[9]).toBe(
      'bin 10: [6.31, 6.9): reference 10.0%, current 25.0%',
    );
  });

  it('labels a categorical plot with its categories and sums those past the limit into one', () => {
    expect(all(plotOf('colour'), 'text.tick').map(text).slice(-2)).toEqual(['red', 'green']);
    const n = MAX_CATEGORIES + 10;
    const categories = Array.from({ length: n }, (_, i) => `c${i}`);
    const many: DriftReport = {
      ...report,
      features: [
        {
          ...(report.features[2] as FeatureDrift),
          name: 'many',
          shares: {
            categories,
            reference: categories.map(() => 1 / n),
            current: categories.map((_, i) => (i < MAX_CATEGORIES - 1 ? 0.03 : 0.13 / 11)),
          },
        },
      ],
    };
    const svg = parse(renderDriftHtml(many)).querySelector('#plot-1 svg') as El;
    expect(all(svg, 'rect.ref')).toHaveLength(MAX_CATEGORIES);
    const tips = all(svg, 'rect.cur title').map(text);
    expect(tips.at(-1)).toBe('11 other categories: reference 27.5%, current 13.0%');
    expect(all(svg, 'text.tick').map(text).at(-1)).toBe('other (11)');
  });
});
