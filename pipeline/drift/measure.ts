/**
 * Measuring drift end to end, for the CLI and the drift action: the version (named, or the
 * production version at the registry commit), its reference rows from git, the window's rows
 * from their source, and the report.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseConfig } from '../config.ts';
import { PinmlError } from '../errors.ts';
import type { GitRepo } from '../git/repo.ts';
import { ref } from '../registry/messages.ts';
import { cardOf, chooseVersion } from '../registry/registry.ts';
import type { Card } from '../registry/schema.ts';
import type { CurrentWindow } from './current.ts';
import { detectDrift } from './drift.ts';
import { driftOptions, type DriftOptions } from './options.ts';
import { readReference, type ReferencePart } from './read-reference.ts';
import { planFeatures, planPrediction } from './reference.ts';
import { PREDICTION_FEATURE, type DriftReport } from './report.ts';
import { windowFromCsv, windowFromServer, windowFromStore } from './sources.ts';

/** Where the window's rows are read: `shown` is the file or URL as the user named it. */
export type WindowSource =
  | { kind: 'store'; file: string; shown: string }
  | { kind: 'server'; url: string; token: string }
  | { kind: 'csv'; file: string; shown: string };

export interface MeasureDrift {
  repo: GitRepo;
  /** The registry's commit, and the ref it was resolved from (for messages). */
  commit: string;
  refName: string;
  model: string;
  /** Default: the production version at `commit`. */
  version?: number | undefined;
  part: ReferencePart;
  maxRows: number;
  /** `[from, until)`; null for a CSV, whose rows carry no times. */
  window: { from: number; until: number } | null;
  source: WindowSource;
  options: DriftOptions;
  now: Date;
}

/** `monitor` of `model` in `<root>/pinml.yaml` (undefined without the file or the key). */
export async function monitorAt(root: string, model: string) {
  const file = path.join(root, 'pinml.yaml');
  if (!existsSync(file)) return undefined;
  return parseConfig(await readFile(file, 'utf8'), 'pinml.yaml').models[model]?.monitor;
}

/** `monitor.drift` of `model` in `<root>/pinml.yaml` over the defaults (the defaults without the file). */
export async function driftOptionsAt(root: string, model: string): Promise<DriftOptions> {
  return driftOptions((await monitorAt(root, model))?.drift);
}

/** The card of the version measured: the one named, else production's at the commit. */
async function driftCard(
  repo: GitRepo,
  commit: string,
  refName: string,
  model: string,
  version?: number,
): Promise<Card> {
  const { state, version: chosen } = await chooseVersion(repo, commit, refName, model, version);
  return cardOf(state, chosen);
}

/** The drift report of the window against the version's reference rows. */
export async function measureDrift(input: MeasureDrift): Promise<DriftReport> {
  const { repo, commit, model, options, source, window: span } = input;
  const card = await driftCard(repo, commit, input.refName, model, input.version);
  const { version } = card;
  const { sample, reference } = await readReference(repo, card, input.part);
  const plans = planFeatures(sample, options);
  const prediction = planPrediction(sample, PREDICTION_FEATURE, options);
  const query = { model, version, from: span?.from ?? 0, until: span?.until ?? 0 };
  let window: CurrentWindow;
  let shown: string;
  if (source.kind === 'csv') {
    shown = source.shown;
    window = await windowFromCsv(source.file, shown, plans, input.maxRows);
  } else if (source.kind === 'server') {
    shown = source.url;
    window = await windowFromServer(source, plans, query, input.maxRows);
  } else {
    shown = source.shown;
    if (!existsSync(source.file)) {
      throw new PinmlError(
        'E_LOG_STORE',
        `no prediction log at ${shown}: name the server's with --store FILE or --data-dir DIR, read a running server with --server URL, or a CSV of inputs with --csv FILE`,
        { file: source.file },
      );
    }
    window = await windowFromStore(source.file, shown, plans, query, input.maxRows);
  }
  if (window.rows === 0) {
    const when =
      span === null
        ? ''
        : ` from ${new Date(span.from).toISOString()} until ${new Date(span.until).toISOString()}`;
    throw new PinmlError(
      'E_DRIFT',
      `no rows of ${ref(model, version)} in ${shown}${when}: drift needs logged inputs; widen the window (--since 7d) or check the model and version`,
      { source: shown, model, version },
    );
  }
  return detectDrift(
    plans,
    prediction,
    window,
    {
      model,
      version,
      commit: card.code.commit,
      reference,
      window: { from: span?.from ?? null, until: span?.until ?? null, source: shown },
      createdAt: input.now,
    },
    options,
  );
}
