/**
 * The report a pull request gets before it is merged (report.yml trains, gates and compares;
 * report-comment.yml writes the comment): each model's summary, read from the report run's
 * artifacts as untrusted data — a fork's pull request ran its own code to write them — so
 * capped to fit one GitHub comment, with mentions made inert and no marker of pinml's own.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { NAME } from './config.ts';
import { MAX_COMMENT } from './github/comments.ts';

/** The report comment's marker (its first line). */
export const REPORT_MARKER = '<!-- pinml:pull-request-report -->';

/** The artifact of one model's report: `pinml-report-<model>`, holding `summary.md`. */
export const REPORT_ARTIFACT_PREFIX = 'pinml-report-';
export const SUMMARY_FILE = 'summary.md';

export interface ModelReport {
  model: string;
  markdown: string;
}

/** Room for the heading and the notes around the models' sections. */
const FRAME = 2_000;

/** `@name` made inert (a word joiner after the `@`): a report must not notify anyone. */
function inertMentions(text: string): string {
  return text.replace(/(^|[^\w`/.@-])@(?=[A-Za-z0-9])/g, '$1@\u2060');
}

/** Text as the comment may carry it: no pinml marker, no mention, at most `max` characters. */
function untrusted(text: string, max: number): string {
  const clean = inertMentions(text.replace(/<!--\s*pinml:[^>]*-->/g, ''));
  if (clean.length <= max) return clean;
  return `${clean.slice(0, Math.max(0, max - 120))}\n\n… cut here: the whole report is in the run's artifact.\n`;
}

/**
 * The reports under `dir` (as download-artifact lays out `pinml-report-*`), sorted by model;
 * folders of other names, and models whose name pinml.yaml could not hold, are ignored.
 */
export async function readReportArtifacts(dir: string): Promise<ModelReport[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const out: ModelReport[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory() || !entry.name.startsWith(REPORT_ARTIFACT_PREFIX)) continue;
    const model = entry.name.slice(REPORT_ARTIFACT_PREFIX.length);
    if (!NAME.test(model)) continue;
    const file = path.join(dir, entry.name, SUMMARY_FILE);
    const markdown = await readFile(file, 'utf8').catch(() => undefined);
    // Read no more than a comment can hold, whatever the file's size.
    if (markdown !== undefined) out.push({ model, markdown: markdown.slice(0, MAX_COMMENT) });
  }
  return out.sort((a, b) => a.model.localeCompare(b.model));
}

export interface ReportCommentInput {
  reports: readonly ModelReport[];
  /** The report run's conclusion (`success`, `failure`, `cancelled`). */
  conclusion: string;
  /** The pull request's head commit the run was for. */
  headSha: string;
  /** The report run's page. */
  runUrl: string;
}

/** The comment: a heading, what it means, each model's section; fits GitHub's limit. */
export function reportComment(input: ReportCommentInput): string {
  const { reports, conclusion } = input;
  const run = `[the report run](${input.runUrl})`;
  const lines = [
    REPORT_MARKER,
    '## pinml: what merging this pull request would do',
    '',
    `Trained, gated and compared with production at \`${input.headSha.slice(0, 7)}\` (merged into the default branch), as the training workflow would after the merge; see ${run}. Nothing is registered until the pull request is merged.`,
    '',
  ];
  if (conclusion !== 'success') {
    lines.push(
      reports.length === 0
        ? `> **The report run ended in ${conclusion}** before any model was compared: ${run} names the step, and a problem in a dataset or pinml.yaml is annotated there on its file and row.`
        : `> **Part of the report run ended in ${conclusion}:** the models below finished; ${run} names the step that did not.`,
      '',
    );
  }
  const room = Math.floor((MAX_COMMENT - FRAME) / Math.max(1, reports.length));
  for (const r of reports) lines.push(untrusted(r.markdown, room).trimEnd(), '');
  return lines.join('\n');
}
