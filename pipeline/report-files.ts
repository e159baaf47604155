/**
 * The promotion report on disk: `report.md` (GitHub-flavoured markdown, the pull request body
 * and the job summary) and `report.json` (canonical JSON, for scripts), and the pull request
 * body read back from either.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  renderReportJson,
  renderReportMarkdown,
  type PromotionReport,
  type RenderOptions,
} from './report.ts';

/** Where `pinml pipeline` and the decide action write a model's report: `.pinml/reports/<model>/`. */
export function defaultReportDir(root: string, model: string): string {
  return path.join(root, '.pinml', 'reports', model);
}

/** The two files of a report. */
export interface ReportFiles {
  markdown: string;
  json: string;
}

/**
 * Writes `report.md` and `report.json` into `dir`, creating it, rendered with the version
 * the candidate was registered as when it is known; returns the two paths.
 */
export async function writeReportFiles(
  dir: string,
  report: PromotionReport,
  options: RenderOptions = {},
): Promise<ReportFiles> {
  await mkdir(dir, { recursive: true });
  const files = { markdown: path.join(dir, 'report.md'), json: path.join(dir, 'report.json') };
  await writeFile(files.markdown, renderReportMarkdown(report, options));
  await writeFile(files.json, renderReportJson(report, options));
  return files;
}

/**
 * A pull request body from a report file: `report.json` is rendered again with the version the
 * candidate was registered as; a markdown file is taken as it is.
 */
export async function readReportBody(file: string, version: number): Promise<string> {
  const text = await readFile(file, 'utf8');
  if (!file.endsWith('.json')) return text;
  return renderReportMarkdown(JSON.parse(text) as PromotionReport, { version });
}
