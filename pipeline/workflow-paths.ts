/**
 * The workflows' `paths` filters against `pinml.yaml`: a push trains (train.yml's `on.push`),
 * a pull request gets its report (report.yml's `on.pull_request`) only when it changes a file
 * the filter names, and a dataset may live anywhere. `uncoveredFiles` says which of pinml.yaml
 * and the datasets an event could change without starting the workflow (the `prepare` action
 * fails on them); `addPaths` writes them into the filters, keeping the file's comments and the
 * patterns there (`pinml init --update`: run locally and commit, since a workflow's token
 * cannot push a change under `.github/workflows/`).
 *
 * Patterns match as GitHub's filter patterns do (picomatch: `*` stops at `/`, `**` does not,
 * `?`, `[…]`; a later `!pattern` excludes what earlier ones included).
 */
import picomatch from 'picomatch';
import { isMap, isSeq, LineCounter, parseDocument, Scalar } from 'yaml';
import { ConfigError, type Problem } from './errors.ts';

/** Whether GitHub's `paths:` list covers `file` (patterns in order, `!` excludes). */
export function pathsCover(patterns: readonly string[], file: string): boolean {
  let covered = false;
  for (const p of patterns) {
    const negated = p.startsWith('!');
    if (picomatch.isMatch(file, negated ? p.slice(1) : p, { dot: true })) covered = !negated;
  }
  return covered;
}

/** The events whose `paths` filter pinml checks. */
export type PathsEvent = 'push' | 'pull_request';
const PATHS_EVENTS: readonly PathsEvent[] = ['push', 'pull_request'];

/** What `uncoveredFiles` found: the files, and the line of the `paths:` key (for annotations). */
export interface PathsCheck {
  /** The patterns of `on.<event>.paths`; undefined when the workflow has no such filter. */
  patterns?: string[];
  uncovered: string[];
  line?: number;
}

/** The files of `files` an `event` could change without starting the workflow `text`. */
export function uncoveredFiles(
  text: string,
  files: readonly string[],
  event: PathsEvent = 'push',
): PathsCheck {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter });
  const push = doc.getIn(['on', event], true);
  if (!isMap(push)) return { uncovered: [] };
  const node = push.get('paths', true);
  if (!isSeq(node)) return { uncovered: [] };
  const patterns = node.items.map((i) => String(i instanceof Scalar ? i.value : i));
  const key = push.items.find((p) => p.key instanceof Scalar && p.key.value === 'paths')?.key;
  const offset = key instanceof Scalar ? key.range?.[0] : undefined;
  return {
    patterns,
    uncovered: [...new Set(files)].filter((f) => !pathsCover(patterns, f)),
    ...(offset !== undefined ? { line: lineCounter.linePos(offset).line } : {}),
  };
}

/** The files of `files` some `paths` filter of the workflow `text` (push, pull_request) leaves out. */
export function uncoveredByAny(text: string, files: readonly string[]): string[] {
  const out = new Set<string>();
  for (const event of PATHS_EVENTS)
    for (const f of uncoveredFiles(text, files, event).uncovered) out.add(f);
  return [...out];
}

/**
 * `text` with each of `files` appended to the `on.push.paths` and `on.pull_request.paths`
 * lists that leave it out (single-quoted, as pinml writes them).
 */
export function addPaths(text: string, files: readonly string[]): string {
  if (files.length === 0) return text;
  const doc = parseDocument(text);
  let lists = 0;
  for (const event of PATHS_EVENTS) {
    const node = doc.getIn(['on', event, 'paths'], true);
    if (!isSeq(node)) continue;
    lists++;
    const patterns = node.items.map((i) => String(i instanceof Scalar ? i.value : i));
    for (const f of files) {
      if (pathsCover(patterns, f)) continue;
      const item = new Scalar(f);
      item.type = Scalar.QUOTE_SINGLE;
      node.items.push(item);
    }
  }
  if (lists === 0)
    throw new Error('the workflow has no on.push.paths or on.pull_request.paths list to add to');
  return doc.toString({ lineWidth: 0 });
}

/**
 * The workflow file a run is of, from `GITHUB_WORKFLOW_REF`
 * (`owner/repo/.github/workflows/train.yml@refs/heads/main`), or undefined outside Actions.
 */
export function runningWorkflow(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const m = /^[^/]+\/[^/]+\/(.+?)@/.exec(env.GITHUB_WORKFLOW_REF ?? '');
  return m?.[1];
}

/**
 * Throws a ConfigError, located on the workflow's `paths:` line, when its filter leaves out
 * pinml.yaml or a dataset (`files`, each with the field of pinml.yaml that names it).
 */
export function assertPathsCover(
  workflowFile: string,
  text: string,
  files: readonly { path: string; namedBy: string }[],
  event: PathsEvent = 'push',
): void {
  const check = uncoveredFiles(
    text,
    files.map((f) => f.path),
    event,
  );
  const misses =
    event === 'push'
      ? 'a push that changes it would not train'
      : 'a pull request that changes it would get no report';
  if (check.uncovered.length === 0) return;
  const problems: Problem[] = check.uncovered.map((path) => ({
    file: workflowFile,
    ...(check.line !== undefined ? { line: check.line } : {}),
    field: `on.${event}.paths`,
    message: `the filter (${(check.patterns ?? []).join(', ')}) leaves out ${path} (${files.find((f) => f.path === path)?.namedBy ?? 'pinml.yaml'}): ${misses}. Run \`pinml init --update\` and commit ${workflowFile} (a workflow's token cannot push workflow files)`,
  }));
  throw new ConfigError(problems);
}
