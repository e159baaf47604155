/** Writes a drift report's three renderings (markdown, JSON, HTML) into a folder. */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { renderDriftHtml, renderDriftJson, renderDriftMarkdown } from './render.ts';
import type { DriftReport } from './report.ts';

/** The files written per model under the report folder. */
export const DRIFT_FILES = {
  markdown: 'drift.md',
  json: 'drift.json',
  html: 'drift.html',
} as const;

/** Writes a report's three renderings into `dir`. */
export async function writeDriftReport(dir: string, report: DriftReport): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, DRIFT_FILES.markdown), renderDriftMarkdown(report));
  await writeFile(path.join(dir, DRIFT_FILES.json), renderDriftJson(report));
  await writeFile(path.join(dir, DRIFT_FILES.html), renderDriftHtml(report));
}
