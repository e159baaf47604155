/**
 * The drift page in a real browser: Debian's headless Chromium, driven over the DevTools
 * protocol by puppeteer-core (no browser download: it runs the system's). Every plot is laid
 * out with a size, the page asks for nothing but itself, and a hostile feature name runs no
 * script, with its Content-Security-Policy and without it. A control page shows that the
 * checks see a request and a script when there is one.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import puppeteer, { type Browser } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumAvailable, chromiumPath } from '../testing/runtimes.ts';
import { HOSTILE_NAME, sampleReport } from './fixtures/drift-reports.ts';
import { DRIFT_PAGE_CSP, renderDriftHtml } from './render-html.ts';

/** What a page did while it loaded. */
interface Visit {
  /** Every request it made, the page's own first; all but that one are aborted. */
  requests: string[];
  /** Console messages, where Chromium reports what the CSP blocked. */
  messages: string[];
  errors: string[];
  /** What `probe` (a browser expression) evaluated to once the page had loaded. */
  result: unknown;
}

const browserTests = chromiumAvailable('the drift page browser tests are');

describe.skipIf(!browserTests)('the drift page in headless Chromium', () => {
  let browser: Browser;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'pinml-drift-page-'));
    browser = await puppeteer.launch({
      executablePath: chromiumPath(),
      headless: true,
      // As root (CI here) Chromium refuses its sandbox.
      args: ['--no-sandbox', '--disable-gpu'],
    });
  });

  afterAll(async () => {
    await browser?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Writes `html` to a file, opens it, and evaluates `probe` (browser code, so a string). */
  async function visit(name: string, html: string, probe: string): Promise<Visit> {
    const file = path.join(dir, name);
    await writeFile(file, html);
    const url = pathToFileURL(file).href;
    const page = await browser.newPage();
    const seen: Visit = { requests: [], messages: [], errors: [], result: undefined };
    await page.setRequestInterception(true);
    page.on('request', (request) => {
      seen.requests.push(request.url());
      void (request.url() === url ? request.continue() : request.abort());
    });
    page.on('console', (message) => seen.messages.push(`${message.type()}: ${message.text()}`));
    page.on('pageerror', (error) => seen.errors.push(String(error)));
    await page.goto(url, { waitUntil: 'load' });
    seen.result = await page.evaluate(probe);
    await page.close();
    return seen;
  }

  interface Probe {
    pwned: unknown;
    scripts: number;
    plots: { id: string; width: number; height: number; bars: number; emptyBars: number }[];
    heading: string;
  }
  const PROBE = `({
    pwned: window.pwned,
    scripts: document.scripts.length,
    plots: [...document.querySelectorAll('section.plot')].map((s) => {
      const box = s.querySelector('svg').getBoundingClientRect();
      const bars = [...s.querySelectorAll('svg rect.ref, svg rect.cur')];
      return {
        id: s.id,
        width: box.width,
        height: box.height,
        bars: bars.length,
        emptyBars: bars.filter((b) => !(b.getBoundingClientRect().width > 0 && b.getBoundingClientRect().height > 0)).length,
      };
    }),
    heading: document.querySelector('#plot-3 h3').textContent,
  })`;

  const report = sampleReport();
  const rows = report.features.length + 1;

  it('lays out every plot with a size, asks for nothing but itself, and runs no script', async () => {
    const seen = await visit('drift.html', renderDriftHtml(report), PROBE);
    const probe = seen.result as Probe;
    expect(seen.requests).toHaveLength(1);
    expect(seen.requests[0]).toMatch(/^file:.*drift\.html$/);
    // Chromium logs every load or script the CSP blocks: none was tried.
    expect(seen.messages).toEqual([]);
    expect(seen.errors).toEqual([]);
    expect(probe.pwned).toBeUndefined();
    expect(probe.scripts).toBe(0);
    expect(probe.heading).toBe(`${HOSTILE_NAME} drifted`);
    expect(probe.plots.map((p) => p.id)).toEqual(
      Array.from({ length: rows }, (_, i) => `plot-${i}`),
    );
    for (const plot of probe.plots) {
      expect(plot.width, plot.id).toBeGreaterThan(100);
      expect(plot.height, plot.id).toBeGreaterThan(50);
      expect(plot.bars, plot.id).toBeGreaterThanOrEqual(4);
      // Every share in the sample report is above 0, so every bar has an area.
      expect(plot.emptyBars, plot.id).toBe(0);
    }
  });

  it('runs no script from a hostile name even without its Content-Security-Policy', async () => {
    const html = renderDriftHtml(report);
    const meta = `<meta http-equiv="Content-Security-Policy" content="${DRIFT_PAGE_CSP}">`;
    expect(html).toContain(meta);
    const seen = await visit('no-csp.html', html.replace(meta, ''), PROBE);
    const probe = seen.result as Probe;
    expect(seen.requests).toHaveLength(1);
    expect(probe.pwned).toBeUndefined();
    expect(probe.scripts).toBe(0);
    expect(probe.heading).toBe(`${HOSTILE_NAME} drifted`);
  });

  it('sees the script and the request of a control page that has them', async () => {
    const control = `<!doctype html><title>control</title><h3>${HOSTILE_NAME}</h3><img src="http://127.0.0.1:9/control.png">`;
    const open = await visit('control.html', control, 'window.pwned');
    expect(open.result).toBe(1);
    expect(open.requests).toContain('http://127.0.0.1:9/control.png');
    const csp = `<meta http-equiv="Content-Security-Policy" content="${DRIFT_PAGE_CSP}">`;
    const guarded = await visit('control-csp.html', csp + control, 'window.pwned');
    expect(guarded.result).toBeUndefined();
    expect(guarded.messages.join('\n')).toMatch(/Content Security Policy/);
  });
});
