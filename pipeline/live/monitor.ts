/**
 * The live monitor, as the scheduled `monitor.yml` runs it and `pinml compare --live` prints
 * it: for every served model (or those named), production judged by `monitor.rollback`, its
 * canary and its shadow by the compare policy, on the labelled rows of the prediction log; and,
 * when asked, the one proposal the judgement calls for — the rollback pull request when
 * production is degraded (before anything else), else the canary's promotion or removal. Every
 * proposal goes through the propose step (`pipeline/propose.ts`) on its standing branch, so a
 * re-run over an unchanged situation creates nothing.
 */
import { DEFAULT_COMPARE, parseConfig } from '../config.ts';
import { PinmlError, RegistryError } from '../errors.ts';
import type { GitRepo } from '../git/repo.ts';
import type { LogSource } from '../log/source.ts';
import type { QualityCounts } from '../log/store.ts';
import { parseDuration } from '../log/window.ts';
import {
  planRollbackProposal,
  proposePromotion,
  proposeRoleChange,
  proposeRollback,
  type Applied,
  type ProposeInput,
  type Unchanged,
} from '../propose.ts';
import { listModels, cardOf, productionVersion, readModelState } from '../registry/registry.ts';
import { rolesOf } from '../registry/roles.ts';
import {
  judgeCanary,
  judgeProduction,
  judgeShadow,
  type LivePolicy,
  type ShadowPair,
} from './judge.ts';
import { DEFAULT_CANARY, DEFAULT_ROLLBACK, type RollbackConfig } from './policy.ts';
import { renderLiveReport, type LiveReport } from './render.ts';

/** What the monitor proposes for a model. */
export type LiveAct = 'rollback' | 'promote-canary' | 'remove-canary';

export interface MonitorLive {
  repo: GitRepo;
  /** The registry's commit (the default branch's tip), and that branch. */
  at: string;
  base: string;
  /** Empty: every model with a production version at `at`. */
  models: readonly string[];
  source: LogSource;
  now: number;
  /** `--since`: overrides the configured windows. */
  window?: string;
  /** Carry the proposals out (the propose step's input without model and commit); null: judge only. */
  propose: null | Omit<ProposeInput, 'model' | 'at' | 'repo' | 'base'>;
}

export interface ModelLive {
  model: string;
  report: LiveReport | null;
  /** The report as markdown (what a pull request's body shows). */
  markdown: string;
  /** What the judgement calls for. */
  act: LiveAct | null;
  /** What proposing it did (null: nothing called for, or judge only). */
  proposal: Applied | Unchanged | null;
  /** Why the model could not be judged. */
  error: string | null;
}

/** The model's monitor and compare policy, from `pinml.yaml` at the commit (defaults without). */
async function policiesAt(repo: GitRepo, at: string, model: string) {
  const text = await repo.readText(at, 'pinml.yaml');
  const config = text === undefined ? undefined : parseConfig(text, 'pinml.yaml').models[model];
  const compare = config?.compare ?? DEFAULT_COMPARE;
  return {
    rollback: config?.monitor?.rollback ?? DEFAULT_ROLLBACK,
    live: {
      policy: compare.policy,
      tolerance: compare.tolerance,
      alpha: compare.alpha,
      ...(config?.monitor?.canary ?? DEFAULT_CANARY),
    } satisfies LivePolicy,
  };
}

const find = (counts: readonly QualityCounts[], version: number, pin: QualityCounts['pin']) =>
  counts.find((c) => c.version === version && c.pin === pin);

/** Labelled rows answered by production (`p`) and the shadow (`s`) under the same id. */
async function shadowPairs(
  source: LogSource,
  q: { model: string; from: number; until: number },
  p: number,
  s: number,
): Promise<ShadowPair[]> {
  const byId = new Map<string, { label: string; production?: string; shadow?: string }>();
  for await (const rows of source.pages({ ...q, labelled: true })) {
    for (const row of rows) {
      if (row.label === null) continue;
      const side =
        row.pin === 'production' && row.version === p
          ? 'production'
          : row.pin === 'shadow' && row.version === s
            ? 'shadow'
            : null;
      if (side === null) continue;
      const pair = byId.get(row.id) ?? { label: row.label };
      pair[side] = row.class;
      byId.set(row.id, pair);
    }
  }
  const pairs: ShadowPair[] = [];
  for (const pair of byId.values()) {
    if (pair.production !== undefined && pair.shadow !== undefined) {
      pairs.push({ label: pair.label, production: pair.production, shadow: pair.shadow });
    }
  }
  return pairs;
}

/** Judges one model (no proposal). */
export async function judgeModel(
  input: Omit<MonitorLive, 'models' | 'propose'>,
  model: string,
): Promise<{ report: LiveReport; rollback: RollbackConfig }> {
  const { repo, at, source, now } = input;
  const state = await readModelState(repo, at, model);
  const roles = rolesOf(state.pins);
  const { rollback, live } = await policiesAt(repo, at, model);
  const windowText = input.window ?? rollback.window;
  const window = { model, from: now - parseDuration(windowText, 'the window'), until: now };
  const counts = await source.counts(window);
  // The canary and the shadow over monitor.canary.window (one read when it is the same).
  const comparisonText = input.window ?? live.window;
  const comparison =
    comparisonText === windowText
      ? window
      : { model, from: now - parseDuration(comparisonText, 'the window'), until: now };
  const report: LiveReport = {
    model,
    window: windowText,
    comparisonWindow: comparisonText,
    source: source.source,
    production: null,
    canary: null,
    shadow: null,
  };
  const prod = roles.production;
  if (prod === null) return { report, rollback };
  const card = cardOf(state, prod);
  const classes = card.signature.output.classes.map(String);
  let previous: { version: number; counts: QualityCounts | undefined } | null = null;
  if (rollback.when === 'worse-than-previous') {
    const to = await rollbackTarget(input, model);
    if (to !== null) {
      const earlier = await source.counts({
        model,
        from: now - parseDuration(rollback.previousWindow, 'monitor.rollback.previousWindow'),
        until: now,
      });
      previous = { version: to, counts: find(earlier, to, 'production') };
    }
  }
  report.production = judgeProduction({
    model,
    version: prod,
    counts: find(counts, prod, 'production'),
    classes,
    policy: rollback,
    gate: card.gate.thresholds,
    previous,
  });
  const compared =
    (roles.canary || roles.shadow) && comparison !== window
      ? await source.counts(comparison)
      : counts;
  if (roles.canary) {
    report.canary = judgeCanary({
      model,
      production: { version: prod, counts: find(compared, prod, 'production') },
      canary: { ...roles.canary, counts: find(compared, roles.canary.version, 'canary') },
      policy: live,
    });
  }
  if (roles.shadow) {
    report.shadow = judgeShadow({
      model,
      production: { version: prod },
      shadow: { version: roles.shadow.version },
      classes,
      pairs: await shadowPairs(source, comparison, prod, roles.shadow.version),
      policy: live,
      resamples: 1000,
      seed: 7,
    });
  }
  return { report, rollback };
}

/** The version a rollback would restore; null when there is none. */
async function rollbackTarget(
  input: Pick<MonitorLive, 'repo' | 'at' | 'base'>,
  model: string,
): Promise<number | null> {
  try {
    const { plan } = await planRollbackProposal({ ...input, model });
    return plan.to ?? null;
  } catch (err) {
    if (err instanceof RegistryError) return null;
    throw err;
  }
}

/** What the judgement calls for: a degraded production comes first. */
function actOf(report: LiveReport): LiveAct | null {
  if (report.production?.verdict === 'degraded') return 'rollback';
  if (report.canary?.decision.action === 'promote') return 'promote-canary';
  if (report.canary?.decision.action === 'remove') return 'remove-canary';
  return null;
}

/** The models judged: those named, else every model with a production version. */
async function servedModels(input: MonitorLive): Promise<string[]> {
  if (input.models.length > 0) return [...input.models];
  const served: string[] = [];
  for (const model of await listModels(input.repo, input.at)) {
    if (productionVersion(await readModelState(input.repo, input.at, model)) !== null) {
      served.push(model);
    }
  }
  return served;
}

/** Judges every model and, with `propose`, proposes what each judgement calls for. */
export async function monitorLive(input: MonitorLive): Promise<ModelLive[]> {
  const outcomes: ModelLive[] = [];
  for (const model of await servedModels(input)) {
    let judged: Awaited<ReturnType<typeof judgeModel>>;
    try {
      judged = await judgeModel(input, model);
    } catch (err) {
      if (!(err instanceof PinmlError)) throw err;
      outcomes.push({
        model,
        report: null,
        markdown: '',
        act: null,
        proposal: null,
        error: err.message,
      });
      continue;
    }
    const { report } = judged;
    const markdown = renderLiveReport(report, judged.rollback.alpha);
    const act = actOf(report);
    let proposal: Applied | Unchanged | null = null;
    if (act !== null && input.propose !== null) {
      const base = { ...input.propose, repo: input.repo, base: input.base, at: input.at, model };
      if (act === 'rollback') {
        if ((await rollbackTarget(input, model)) === null) {
          outcomes.push({
            model,
            report,
            markdown,
            act,
            proposal: null,
            error: `${model}@${report.production?.version} is degraded, but it is the first production version: there is nothing to roll back to`,
          });
          continue;
        }
        proposal = await proposeRollback({
          ...base,
          reason: 'live quality below the rollback rule',
          evidence: markdown,
        });
      } else if (act === 'promote-canary') {
        proposal = await proposePromotion({
          ...base,
          version: report.canary?.canary.version as number,
          evidence: markdown,
        });
      } else {
        proposal = await proposeRoleChange({
          ...base,
          change: { role: 'canary', off: true },
          evidence: markdown,
        });
      }
    }
    outcomes.push({ model, report, markdown, act, proposal, error: null });
  }
  return outcomes;
}
