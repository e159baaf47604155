/**
 * The drift loop's way back to people: one open issue per model while drift holds, its body the
 * latest markdown report, closed with a comment when a report finds no drift any more. The
 * formats (labels, marker, title, comment) are `registry/messages.ts`'s; the mechanics are the
 * standing issue of `github/issues.ts`.
 */
import {
  planIssue,
  syncIssue,
  type IssueAdapter,
  type IssuePlan,
  type IssueResult,
  type OpenIssue,
  type StandingIssue,
} from '../github/issues.ts';
import {
  DRIFT_LABELS,
  driftClearedComment,
  driftMarker,
  driftTitle,
} from '../registry/messages.ts';

export interface DriftIssueInput {
  model: string;
  /** Whether the report finds drift (the report's dataset drift). */
  drift: boolean;
  /** The markdown report: the issue's body, or (drift cleared) where the closing comment's headline comes from. */
  report: string;
}

/** The model's standing drift issue: its labels, marker and title. */
export function driftIssue(model: string): StandingIssue {
  return { labels: DRIFT_LABELS, marker: driftMarker(model), title: driftTitle(model) };
}

/** A report's headline: its first line that is not blank, without markdown's heading marks. */
export function reportHeadline(report: string): string {
  const line = report.split(/\r?\n/).find((l) => l.trim() !== '') ?? '';
  return line.replace(/^\s*#+\s*/, '').trim() || 'no drift';
}

function planInput(input: DriftIssueInput) {
  return {
    issue: driftIssue(input.model),
    holds: input.drift,
    report: input.report,
    closing: driftClearedComment(input.model, reportHeadline(input.report)),
  };
}

/**
 * Plans the model's drift issue from the open issues labelled `pinml` and `drift`: `created`,
 * `updated` (the report changed), `unchanged` (byte for byte the same), `closed` (drift
 * cleared) or `none` (no drift, no issue).
 */
export function planDriftIssue(input: DriftIssueInput & { open: readonly OpenIssue[] }): IssuePlan {
  return planIssue({ ...planInput(input), open: input.open });
}

/** Lists the open drift issues, plans the model's ({@link planDriftIssue}) and applies the plan. */
export function syncDriftIssue(issues: IssueAdapter, input: DriftIssueInput): Promise<IssueResult> {
  return syncIssue(issues, planInput(input));
}
