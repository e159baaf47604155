/**
 * Rows from feedback proposed for review: the labelled rows of a window of the prediction log,
 * appended to the model's dataset as one commit on the fixed branch `pinml/data-<model>` on top
 * of the default branch, with the ids file beside the dataset, and the branch's one pull request
 * (its body: what was added, from where, and a drift report when given). First a plan, which a
 * dry run prints; then applied as a promotion is (`applyProposal`: create-or-update compared
 * with the branch as the remote has it, push, pull request). The configuration and the dataset
 * are read from git at the base commit, so the commit changes exactly what it says.
 */
import { parseConfig, selectModels, type ModelConfig } from '../config.ts';
import { DataError } from '../errors.ts';
import { expandFeatures } from '../features.ts';
import type { LoggedRow } from '../log/store.ts';
import { applyProposal, type Applied, type ProposeInput, type Unchanged } from '../propose.ts';
import { dataBranch, feedbackMessage, feedbackTitle } from '../registry/messages.ts';
import type { BranchChange } from '../registry/plan.ts';
import { csvHeader, feedbackIdsPath, feedbackRows, type FeedbackRows } from './rows.ts';

export interface FeedbackInput extends ProposeInput {
  /** The labelled rows of the model over the window, a page at a time, oldest first. */
  pages: AsyncIterable<readonly LoggedRow[]>;
  /** The window as asked (`--since` as written) and as read, for the summary. */
  window: { since: string; from: number; until: number };
  /** Where the rows were read (the store file or the server), for messages and the summary. */
  source: string;
  /** A markdown drift report, appended to the pull request's body. */
  report?: string;
  /** The configuration file (default `pinml.yaml`). */
  config?: string;
}

/** The change: the files, the branch, and what the rows are. */
export interface FeedbackPlan extends BranchChange {
  kind: 'data';
  model: string;
  dataset: string;
  idsFile: string;
  rows: Omit<FeedbackRows, 'dataset' | 'ids'>;
  /** The pull request's body. */
  body: string;
}

export interface FeedbackPlanned {
  status: 'planned';
  plan: FeedbackPlan;
}

/** The model's configuration at `at`, its `features: all` listed from the dataset's header there. */
async function modelAt(input: FeedbackInput): Promise<ModelConfig> {
  const file = input.config ?? 'pinml.yaml';
  const text = await input.repo.readText(input.at, file);
  if (text === undefined) {
    throw new DataError([
      {
        file,
        message: `there is no ${file} at ${input.base}: pinml needs its configuration there`,
      },
    ]);
  }
  const config = await expandFeatures(
    parseConfig(text, file),
    async (dataset) => {
      const csv = await input.repo.readText(input.at, dataset);
      return csv === undefined ? undefined : csvHeader(csv);
    },
    file,
  );
  return selectModels(config, input.model)[0] as ModelConfig;
}

const iso = (t: number): string => new Date(t).toISOString();
const plural = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`;

/** The pull request's body: the summary table, then the report. */
export function feedbackBody(
  plan: Omit<FeedbackPlan, 'body'>,
  input: Pick<FeedbackInput, 'window' | 'source' | 'report'>,
): string {
  const { rows } = plan;
  const labels = Object.keys(rows.labels)
    .sort()
    .map((l) => `${l} ${rows.labels[l] ?? 0}`)
    .join(', ');
  const times = rows.added.map((r) => r.time);
  const table: [string, string][] = [
    ['rows added', String(rows.added.length)],
    ['per label', labels],
    [
      'window',
      `since \`${input.window.since}\`; the rows were answered from ${iso(Math.min(...times))} to ${iso(Math.max(...times))}`,
    ],
    ['source', `\`${input.source}\``],
    ['row ids', `\`${plan.idsFile}\` (${plural(rows.idsTotal, 'id')} after this change)`],
  ];
  if (rows.alreadyTaken > 0) {
    table.push(['already added', `${plural(rows.alreadyTaken, 'row')}, left out`]);
  }
  for (const s of rows.skipped) {
    table.push([
      'left out',
      `${plural(s.rows, 'row')} of ${plan.model}@${s.version}, whose inputs (${s.inputs.join(', ')}) are not the model's features`,
    ]);
  }
  return [
    `## ${plan.title}`,
    '',
    `Rows that \`${plan.model}\` answered and whose true class came back as feedback, added to \`${plan.dataset}\` with the feedback as the label. Merging trains on them.`,
    '',
    '| | |',
    '| --- | --- |',
    ...table.map(([k, v]) => `| ${k} | ${v} |`),
    '',
    ...(input.report === undefined ? [] : [input.report.trimEnd(), '']),
  ].join('\n');
}

/**
 * Plans the rows from feedback (what a dry run prints): unchanged when the window has no row
 * with feedback that is not in the ids file at the base.
 */
export async function planFeedbackProposal(
  input: FeedbackInput,
): Promise<Unchanged | FeedbackPlanned> {
  const model = await modelAt(input);
  const dataset = await input.repo.readText(input.at, model.dataset);
  if (dataset === undefined) {
    throw new DataError([
      {
        file: model.dataset,
        message: `there is no such file at ${input.base}: commit the dataset`,
      },
    ]);
  }
  const idsFile = feedbackIdsPath(model.dataset);
  const ids = await input.repo.readText(input.at, idsFile);
  const rows: LoggedRow[] = [];
  for await (const page of input.pages) rows.push(...page.filter((r) => r.model === model.name));
  const result = feedbackRows({ model, dataset, ids, rows, source: input.source });
  const { dataset: csv, ids: idsText, ...summary } = result;
  const n = summary.added.length;
  if (n === 0) {
    const skipped = summary.skipped.reduce((sum, s) => sum + s.rows, 0);
    return {
      status: 'unchanged',
      reason:
        `no new rows from feedback for ${model.name} since ${input.window.since} in ${input.source}: ` +
        `${plural(rows.filter((r) => r.label !== null).length, 'row')} with feedback, ` +
        `${summary.alreadyTaken} already in ${idsFile}` +
        (skipped > 0 ? `, ${skipped} of versions with other features` : ''),
    };
  }
  const title = feedbackTitle(model.dataset, n);
  const plan: Omit<FeedbackPlan, 'body'> = {
    kind: 'data',
    model: model.name,
    branch: dataBranch(model.name),
    base: input.at,
    title,
    message: feedbackMessage({ model: model.name, dataset: model.dataset, idsFile, rows: n }),
    files: [
      { path: model.dataset, content: csv },
      { path: idsFile, content: idsText },
    ],
    dataset: model.dataset,
    idsFile,
    rows: summary,
  };
  return { status: 'planned', plan: { ...plan, body: feedbackBody(plan, input) } };
}

/** Proposes the rows from feedback: the plan of {@link planFeedbackProposal}, applied. */
export async function proposeFeedback(
  input: FeedbackInput,
): Promise<Unchanged | Applied<FeedbackPlan>> {
  const planned = await planFeedbackProposal(input);
  if (planned.status === 'unchanged') return planned;
  const { plan } = planned;
  return applyProposal(input, plan, () => Promise.resolve(plan.body));
}
