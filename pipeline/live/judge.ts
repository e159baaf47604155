/**
 * The monitor's judgements on live labelled rows, pure (counts in, verdicts with their reasons
 * out): is production degraded (`monitor.rollback`), and should a canary be promoted, kept or
 * removed (the model's `compare` policy on independent arms, `monitor.canary`) — and the same
 * question of a shadow, whose rows are paired with production's (the offline comparison's
 * exact McNemar test and bootstrap intervals, `pipeline/compare.ts`).
 */
import { comparePredictions, decide, pct, pv, type PairedComparison } from '../compare.ts';
import type { CompareConfig } from '../config.ts';
import { liveQuality, type Interval } from '../log/quality.ts';
import type { QualityCounts } from '../log/store.ts';
import type { CanaryConfig, RollbackConfig } from './policy.ts';
import {
  normalTail,
  rowsPerArm,
  twoProportion,
  type ArmCounts,
  type TwoProportion,
} from './tests.ts';

/** A figure with 3 decimals (never `-0.000`), as the live report prints it. */
export const f3 = (x: number): string => (Object.is(x, -0) ? 0 : x).toFixed(3);

/** Labelled rows and right answers of a window's counts (zero without counts). */
export function armOf(counts: QualityCounts | undefined): ArmCounts {
  let rows = 0;
  let correct = 0;
  for (const cell of counts?.confusion ?? []) {
    rows += cell.rows;
    if (cell.label === cell.predicted) correct += cell.rows;
  }
  return { correct, rows };
}

/** What production is judged against. */
export interface ProductionInput {
  model: string;
  version: number;
  /** The version's counts as production over the window (undefined: no rows). */
  counts: QualityCounts | undefined;
  classes: readonly string[];
  policy: RollbackConfig;
  /** The gate the version passed (its card's thresholds). */
  gate: { minAccuracy: number; minMacroF1: number };
  /** With `when: worse-than-previous`: the version a rollback would restore, and its counts as production. */
  previous?: { version: number; counts: QualityCounts | undefined } | null;
}

export type ProductionVerdict = 'degraded' | 'healthy' | 'insufficient';

/** Production's live quality against the rollback policy. */
export interface ProductionJudgement {
  model: string;
  version: number;
  verdict: ProductionVerdict;
  rule: RollbackConfig['when'];
  labelled: number;
  correct: number;
  /** Two-sided at 1 − 2·alpha: `high` is the one-sided 1 − alpha upper bound. */
  accuracy: Interval | null;
  macroF1: Interval | null;
  /** The thresholds of the rule (gate, or minAccuracy). */
  thresholds: { accuracy?: number; macroF1?: number };
  previous: null | {
    version: number;
    labelled: number;
    correct: number;
    /** One-sided: the chance of live accuracy this far below the previous version's if they were equal. */
    test: TwoProportion | null;
    pValue: number | null;
  };
  reasons: string[];
}

/** Judges production by `policy.when` (see `monitor.rollback` in live/policy.ts). */
export function judgeProduction(input: ProductionInput): ProductionJudgement {
  const { policy } = input;
  const arm = armOf(input.counts);
  const quality =
    input.counts === undefined || arm.rows === 0
      ? null
      : liveQuality(input.counts, input.classes, {
          confidence: 1 - 2 * policy.alpha,
          resamples: 1000,
          seed: 7,
          maxBootstrapRows: 10_000,
          minLabelled: policy.minLabelled,
        });
  const base = {
    model: input.model,
    version: input.version,
    rule: policy.when,
    labelled: arm.rows,
    correct: arm.correct,
    accuracy: quality?.accuracy ?? null,
    macroF1: quality?.macroF1
      ? { estimate: quality.macroF1.estimate, low: quality.macroF1.low, high: quality.macroF1.high }
      : null,
    previous: null,
  };
  const ref = `${input.model}@${input.version}`;
  const level = pct(1 - policy.alpha);
  if (arm.rows < policy.minLabelled) {
    return {
      ...base,
      verdict: 'insufficient',
      thresholds: {},
      reasons: [
        `${ref} has ${arm.rows} labelled rows in the window; the rollback rule waits for ${policy.minLabelled}`,
      ],
    };
  }
  const accuracy = base.accuracy as Interval;
  const macroF1 = base.macroF1 as Interval;
  if (policy.when === 'worse-than-previous') {
    const previous = input.previous ?? null;
    if (previous === null) {
      return {
        ...base,
        verdict: 'insufficient',
        thresholds: {},
        reasons: [`${ref} has no previous production version to compare with`],
      };
    }
    const prev = armOf(previous.counts);
    if (prev.rows < policy.minLabelled) {
      return {
        ...base,
        verdict: 'insufficient',
        thresholds: {},
        previous: { version: previous.version, ...prevOf(prev), test: null, pValue: null },
        reasons: [
          `the previous production version ${input.model}@${previous.version} has ${prev.rows} labelled rows as production in the previous window; the rule needs ${policy.minLabelled}`,
        ],
      };
    }
    const test = twoProportion(prev, arm, policy.alpha * 2);
    const pValue = normalTail(-test.z);
    const worse = test.difference < 0 && pValue < policy.alpha;
    const said =
      `live accuracy ${f3(test.canary)} on ${arm.rows} rows against ${f3(test.production)} of ${input.model}@${previous.version} on ${prev.rows} rows: ` +
      `difference ${f3(test.difference)}, one-sided two-proportion p = ${pv(pValue)}`;
    return {
      ...base,
      verdict: worse ? 'degraded' : 'healthy',
      thresholds: {},
      previous: { version: previous.version, ...prevOf(prev), test, pValue },
      reasons: [
        worse
          ? `${ref} is significantly worse than the previous production version: ${said} < ${policy.alpha}`
          : `${ref} is not significantly worse than the previous production version: ${said}, not below ${policy.alpha}`,
      ],
    };
  }
  const thresholds =
    policy.when === 'gate'
      ? { accuracy: input.gate.minAccuracy, macroF1: input.gate.minMacroF1 }
      : { accuracy: policy.minAccuracy as number };
  const reasons: string[] = [];
  const below = (name: string, i: Interval, threshold: number): boolean => {
    const is = i.high < threshold;
    reasons.push(
      `live ${name} ${f3(i.estimate)} on ${arm.rows} labelled rows, ${level} upper bound ${f3(i.high)} ` +
        `${is ? 'below' : 'not below'} the ${policy.when === 'gate' ? 'gate' : 'threshold'} ${threshold}`,
    );
    return is;
  };
  let degraded = below('accuracy', accuracy, thresholds.accuracy);
  if (thresholds.macroF1 !== undefined)
    degraded = below('macro-F1', macroF1, thresholds.macroF1) || degraded;
  return { ...base, verdict: degraded ? 'degraded' : 'healthy', thresholds, reasons };
}

const prevOf = (a: ArmCounts) => ({ labelled: a.rows, correct: a.correct });

/** What the canary decision says. */
export type LiveAction = 'promote' | 'watch' | 'remove';

export interface LiveDecision {
  action: LiveAction;
  reasons: string[];
}

export type LivePolicy = Pick<CompareConfig, 'policy' | 'tolerance' | 'alpha'> & CanaryConfig;

/** Production against its canary on the labelled rows of each arm. */
export interface CanaryJudgement {
  model: string;
  production: { version: number } & ArmCounts;
  canary: { version: number; weight: number } & ArmCounts;
  policy: LivePolicy;
  test: TwoProportion | null;
  /** Labelled rows per arm a test with the policy's power needs to detect `tolerance`. */
  rowsPerArm: number;
  /** Rows still to come in each arm before that many are in (0 when they are). */
  rowsStillNeeded: { production: number; canary: number };
  decision: LiveDecision;
}

/** Judges a canary by the compare policy (the offline A/B step's rules on independent arms). */
export function judgeCanary(input: {
  model: string;
  production: { version: number; counts: QualityCounts | undefined };
  canary: { version: number; weight: number; counts: QualityCounts | undefined };
  policy: LivePolicy;
}): CanaryJudgement {
  const { policy } = input;
  const p = armOf(input.production.counts);
  const c = armOf(input.canary.counts);
  const ref = `${input.model}@${input.production.version}`;
  const needed = Math.ceil(
    rowsPerArm(p.rows > 0 ? p.correct / p.rows : 1, policy.tolerance, policy.alpha, policy.power),
  );
  const base = {
    model: input.model,
    production: { version: input.production.version, ...p },
    canary: { version: input.canary.version, weight: input.canary.weight, ...c },
    policy,
    rowsPerArm: needed,
    rowsStillNeeded: {
      production: Math.max(0, needed - p.rows),
      canary: Math.max(0, needed - c.rows),
    },
  };
  const sample = `a test with power ${policy.power} needs about ${needed} labelled rows per arm to detect a difference of ${policy.tolerance}`;
  if (p.rows < policy.minLabelled || c.rows < policy.minLabelled) {
    return {
      ...base,
      test: null,
      decision: {
        action: 'watch',
        reasons: [
          `${p.rows} labelled rows of production and ${c.rows} of the canary; the decision waits for ${policy.minLabelled} in each`,
          sample,
        ],
      },
    };
  }
  const t = twoProportion(p, c, policy.alpha);
  const interval = `[${f3(t.interval.low)}, ${f3(t.interval.high)}]`;
  const level = pct(1 - policy.alpha);
  const said =
    `accuracy ${f3(t.canary)} on ${c.rows} rows against production's ${f3(t.production)} on ${p.rows} (${ref}): ` +
    `difference ${f3(t.difference)}, ${level} interval ${interval}, two-proportion p = ${pv(t.pValue)}`;
  const decision = (action: LiveAction, first: string, more = false): CanaryJudgement => ({
    ...base,
    test: t,
    decision: { action, reasons: [first, said, ...(more ? [sample] : [])] },
  });
  if (t.pValue < policy.alpha && t.difference < 0) {
    return decision(
      'remove',
      `the canary is significantly worse than production (p < ${policy.alpha})`,
    );
  }
  if (t.interval.high < -policy.tolerance) {
    return decision(
      'remove',
      `the canary is worse than production by more than the tolerance ${policy.tolerance}: the interval lies below −${policy.tolerance}`,
    );
  }
  if (policy.policy === 'strict') {
    return t.pValue < policy.alpha && t.difference > 0
      ? decision(
          'promote',
          `the canary is significantly better than production (p < ${policy.alpha})`,
        )
      : decision(
          'watch',
          `the canary is not yet a significant improvement, which the strict policy requires`,
          true,
        );
  }
  if (t.interval.low > -policy.tolerance) {
    return decision(
      'promote',
      `the canary is not worse than production by more than the tolerance ${policy.tolerance}: the interval's lower end is above −${policy.tolerance}`,
    );
  }
  return decision(
    'watch',
    `cannot yet rule out that the canary is worse than production by more than the tolerance ${policy.tolerance}`,
    true,
  );
}

/** One labelled row answered by production and by the shadow (the same row id). */
export interface ShadowPair {
  label: string;
  production: string;
  shadow: string;
}

/** Production against its shadow on the same labelled rows. */
export interface ShadowJudgement {
  model: string;
  production: { version: number };
  shadow: { version: number };
  rows: number;
  /** The offline comparison's figures (null without paired rows). */
  comparison: PairedComparison | null;
  decision: LiveDecision;
}

/**
 * Judges a shadow on the rows it answered beside production, with the offline A/B step's
 * paired test and decision: its promote is "promote the shadow" (as a canary, or to production),
 * hold is "keep watching", reject is "remove the shadow".
 */
export function judgeShadow(input: {
  model: string;
  production: { version: number };
  shadow: { version: number };
  classes: readonly string[];
  pairs: readonly ShadowPair[];
  policy: LivePolicy;
  resamples: number;
  seed: number;
}): ShadowJudgement {
  const { policy } = input;
  const base = {
    model: input.model,
    production: input.production,
    shadow: input.shadow,
    rows: input.pairs.length,
  };
  if (input.pairs.length < policy.minLabelled) {
    return {
      ...base,
      comparison: null,
      decision: {
        action: 'watch',
        reasons: [
          `${input.pairs.length} labelled rows answered by both; the decision waits for ${policy.minLabelled}`,
        ],
      },
    };
  }
  const classes = [...input.classes];
  const index = (name: string): number => {
    let i = classes.indexOf(name);
    if (i < 0) i = classes.push(name) - 1;
    return i;
  };
  const yTrue = input.pairs.map((p) => index(p.label));
  const production = input.pairs.map((p) => index(p.production));
  const candidate = input.pairs.map((p) => index(p.shadow));
  const comparison = comparePredictions(
    { classes, yTrue, production, candidate },
    { alpha: policy.alpha, resamples: input.resamples, seed: input.seed },
  );
  const offline = decide({
    gate: { passed: true, reasons: [] },
    policy,
    production: {
      ref: `${input.model}@${input.production.version}`,
      sameTrainingKey: false,
      comparison,
    },
  });
  const action: LiveAction =
    offline.action === 'promote' ? 'promote' : offline.action === 'reject' ? 'remove' : 'watch';
  return {
    ...base,
    comparison,
    decision: {
      action,
      reasons: offline.reasons.map((r) => r.replace(/the candidate/g, 'the shadow')),
    },
  };
}
