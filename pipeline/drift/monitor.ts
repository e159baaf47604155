/**
 * The drift monitor, as the scheduled workflow runs it: every served model (or those named)
 * measured over the same window, its reports written to a folder (markdown, JSON, HTML), and
 * its standing drift issue opened, updated or closed. A model whose window cannot be measured
 * (no rows, a source that cannot be read) is reported as failed — never as "no drift" — and
 * its issue is left as it is.
 */
import path from 'node:path';
import { PinmlError } from '../errors.ts';
import type { GitRepo } from '../git/repo.ts';
import type { IssueAdapter, IssueResult } from '../github/issues.ts';
import { listModels, productionVersion, readModelState } from '../registry/registry.ts';
import { syncDriftIssue } from './issue.ts';
import { measureDrift, monitorAt, type WindowSource } from './measure.ts';
import { driftOptions } from './options.ts';
import type { ReferencePart } from './read-reference.ts';
import { renderDriftMarkdown } from './render.ts';
import type { DriftReport } from './report.ts';
import { writeDriftReport } from './write-report.ts';

export interface MonitorDrift {
  repo: GitRepo;
  root: string;
  commit: string;
  refName: string;
  /** Empty: every model with a production version at `commit`. */
  models: readonly string[];
  window: { from: number; until: number };
  /** The source of a model's rows (the server or the store serves every model). */
  source: WindowSource;
  part: ReferencePart;
  maxRows: number;
  now: Date;
  /** `<reportDir>/<model>/drift.{md,json,html}`. */
  reportDir: string;
  /** The repository's issues; null: no issue is touched (a dry run). */
  issues: IssueAdapter | null;
}

export interface ModelDrift {
  model: string;
  report: DriftReport | null;
  /** Why it could not be measured. */
  error: string | null;
  issue: IssueResult | null;
  /** The folder its reports are in. */
  dir: string | null;
  /** Drift holds and `monitor.feedback.propose` is `on-drift`: the labelled rows go to a data PR. */
  proposeData: boolean;
}

/** The models measured: those named, else every model with a production version. */
async function servedModels(input: MonitorDrift): Promise<string[]> {
  if (input.models.length > 0) return [...input.models];
  const served: string[] = [];
  for (const model of await listModels(input.repo, input.commit)) {
    const state = await readModelState(input.repo, input.commit, model);
    if (productionVersion(state) !== null) served.push(model);
  }
  return served;
}

/** Measures every model and syncs its drift issue. */
export async function monitorDrift(input: MonitorDrift): Promise<ModelDrift[]> {
  const outcomes: ModelDrift[] = [];
  for (const model of await servedModels(input)) {
    // pinml.yaml's `monitor` of the model, read once: drift's thresholds and the data policy.
    let monitor: Awaited<ReturnType<typeof monitorAt>>;
    let report: DriftReport;
    try {
      monitor = await monitorAt(input.root, model);
      report = await measureDrift({
        repo: input.repo,
        commit: input.commit,
        refName: input.refName,
        model,
        part: input.part,
        maxRows: input.maxRows,
        window: input.window,
        source: input.source,
        options: driftOptions(monitor?.drift),
        now: input.now,
      });
    } catch (err) {
      if (!(err instanceof PinmlError)) throw err;
      outcomes.push({
        model,
        report: null,
        error: err.message,
        issue: null,
        dir: null,
        proposeData: false,
      });
      continue;
    }
    const dir = path.join(input.reportDir, model);
    await writeDriftReport(dir, report);
    const issue =
      input.issues === null
        ? null
        : await syncDriftIssue(input.issues, {
            model,
            drift: report.datasetDrift,
            report: renderDriftMarkdown(report),
          });
    const proposeData = report.datasetDrift && monitor?.feedback?.propose === 'on-drift';
    outcomes.push({ model, report, error: null, issue, dir, proposeData });
  }
  return outcomes;
}
