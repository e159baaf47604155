/**
 * The A/B step: the candidate and the production version scored on the same hold-out rows,
 * compared with paired statistics, and the decision policy of `pinml.yaml`'s `compare`
 * section. Pure: values in, values out (the git and file reads are in compare-run.ts).
 *
 * Decision policy (README.md, "A/B comparison and the promotion report"):
 *
 * 1. the candidate fails the gate → `reject`;
 * 2. there is no production version → `promote`;
 * 3. the candidate has production's training key → `unchanged`;
 * 4. the two cannot be scored on the same rows → `hold`;
 * 5. significantly worse (exact McNemar p < alpha, production alone right more often) → `reject`;
 * 6. worse beyond the tolerance (the whole accuracy-difference interval below −tolerance) → `reject`;
 * 7. `non-inferiority`: the interval's lower end above −tolerance → `promote`, else `hold`;
 *    `strict`: significantly better (p < alpha, the candidate alone right more often) → `promote`,
 *    else `hold`.
 */
import type { CompareConfig } from './config.ts';
import type { GateVerdict } from './gate.ts';
import type { Label } from './label.ts';
import { macroF1Of, round, scoreClassification, type Metrics } from './metrics.ts';
import { mcnemarExact, percentileBootstrap, type BootstrapInterval } from './stats.ts';

/** Two models' predicted class indices for the same rows, and the true ones. */
export interface PairedPredictions {
  classes: readonly Label[];
  yTrue: readonly number[];
  production: readonly number[];
  candidate: readonly number[];
}

/** How the comparison resamples and tests. */
export type ComparisonOptions = Pick<CompareConfig, 'alpha' | 'resamples' | 'seed'>;

/** A figure of both models, their difference (candidate − production) and its interval. */
export interface PairedFigure {
  production: number;
  candidate: number;
  delta: number;
  /** Percentile bootstrap interval of `delta` at confidence 1 − alpha. */
  interval: { low: number; high: number };
}

/** One class's figures for both models and the candidate's change. */
export interface ClassDelta {
  class: Label;
  /** Rows of this class among those compared. */
  support: number;
  production: { precision: number; recall: number; f1: number };
  candidate: { precision: number; recall: number; f1: number };
  delta: { precision: number; recall: number; f1: number };
}

/** The paired comparison of a candidate with production on the same rows. */
export interface PairedComparison {
  rows: number;
  accuracy: PairedFigure;
  macroF1: PairedFigure;
  /** Exact McNemar test on the rows exactly one model got right. */
  mcnemar: {
    /** Rows only production got right (McNemar's b). */
    productionOnly: number;
    /** Rows only the candidate got right (McNemar's c). */
    candidateOnly: number;
    pValue: number;
    alpha: number;
    significant: boolean;
  };
  bootstrap: Omit<BootstrapInterval, 'estimate' | 'low' | 'high'>;
  perClass: ClassDelta[];
  /** Full metrics of both models on the compared rows (confusion matrices included). */
  production: Metrics;
  candidate: Metrics;
}

const pick = (m: { precision: number; recall: number; f1: number }) => ({
  precision: m.precision,
  recall: m.recall,
  f1: m.f1,
});

/**
 * Compares two models on the same rows: accuracy and macro-F1 of each, percentile bootstrap
 * intervals of their differences (rows resampled paired), the exact McNemar test, and
 * per-class changes. Throws RangeError when the arrays differ in length or are empty.
 */
export function comparePredictions(
  input: PairedPredictions,
  options: ComparisonOptions,
): PairedComparison {
  const n = input.yTrue.length;
  if (input.production.length !== n || input.candidate.length !== n) {
    throw new RangeError(
      `paired predictions differ in length: ${n} true, ${input.production.length} production, ${input.candidate.length} candidate`,
    );
  }
  if (n === 0) throw new RangeError('there are no rows to compare the models on');
  const k = input.classes.length;
  const production = scoreClassification(input.yTrue, input.production, input.classes);
  const candidate = scoreClassification(input.yTrue, input.candidate, input.classes);

  let productionOnly = 0;
  let candidateOnly = 0;
  const d = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const t = input.yTrue[i];
    const p = input.production[i] === t ? 1 : 0;
    const c = input.candidate[i] === t ? 1 : 0;
    d[i] = c - p;
    if (p > c) productionOnly++;
    if (c > p) candidateOnly++;
  }
  const bootstrapOptions = {
    resamples: options.resamples,
    seed: options.seed,
    confidence: 1 - options.alpha,
  };
  const accuracy = percentileBootstrap(
    n,
    (rows) => {
      let s = 0;
      for (const i of rows) s += d[i] as number;
      return s / rows.length;
    },
    bootstrapOptions,
  );
  const macroF1 = percentileBootstrap(
    n,
    (rows) =>
      macroF1Of(input.yTrue, input.candidate, rows, k) -
      macroF1Of(input.yTrue, input.production, rows, k),
    bootstrapOptions,
  );
  const test = mcnemarExact(productionOnly, candidateOnly);
  const figure = (prod: number, cand: number, interval: BootstrapInterval): PairedFigure => ({
    production: prod,
    candidate: cand,
    delta: round(cand - prod),
    interval: { low: round(interval.low), high: round(interval.high) },
  });
  const { estimate: _e, low: _l, high: _h, ...bootstrap } = accuracy;
  return {
    rows: n,
    accuracy: figure(production.accuracy, candidate.accuracy, accuracy),
    macroF1: figure(production.macroF1, candidate.macroF1, macroF1),
    mcnemar: {
      productionOnly,
      candidateOnly,
      pValue: round(test.pValue),
      alpha: options.alpha,
      significant: test.pValue < options.alpha,
    },
    bootstrap,
    perClass: input.classes.map((label, c) => {
      const a = production.perClass[c] as Metrics['perClass'][number];
      const b = candidate.perClass[c] as Metrics['perClass'][number];
      return {
        class: label,
        support: a.support,
        production: pick(a),
        candidate: pick(b),
        delta: {
          precision: round(b.precision - a.precision),
          recall: round(b.recall - a.recall),
          f1: round(b.f1 - a.f1),
        },
      };
    }),
    production,
    candidate,
  };
}

/** What the A/B step decides; only `promote` leads to a promotion. */
export type DecisionAction = 'promote' | 'hold' | 'reject' | 'unchanged';

export interface Decision {
  action: DecisionAction;
  /** Why, in sentences a reviewer reads first. */
  reasons: string[];
}

/** What the decision is taken on. */
export interface DecisionInput {
  gate: Pick<GateVerdict, 'passed' | 'reasons'>;
  policy: Pick<CompareConfig, 'policy' | 'tolerance' | 'alpha'>;
  /** The production version compared against; null when there is none. */
  production: null | {
    /** `iris@3`, for the reasons. */
    ref: string;
    sameTrainingKey: boolean;
    /** Null when the two could not be scored on the same rows. */
    comparison: PairedComparison | null;
    /** Why they could not be compared, when `comparison` is null. */
    incomparable?: string;
  };
}

const f3 = (x: number): string => (Object.is(round(x), -0) ? 0 : round(x)).toFixed(3);
/** A share as a percentage with one decimal (`95%`, `12.5%`). */
export const pct = (x: number): string => `${Math.round(x * 1000) / 10}%`;
/** A p-value as reports print it (4 decimals, or 2 significant digits below 0.0001). */
export const pv = (p: number): string => (p < 0.0001 ? p.toExponential(2) : p.toFixed(4));

/** Applies the decision policy (see the module comment); never throws on an outcome. */
export function decide(input: DecisionInput): Decision {
  const { gate, policy, production } = input;
  if (!gate.passed) {
    return { action: 'reject', reasons: ['the candidate failed the gate', ...gate.reasons] };
  }
  if (production === null) {
    return {
      action: 'promote',
      reasons: ['there is no production version yet, and the candidate passed the gate'],
    };
  }
  if (production.sameTrainingKey) {
    return {
      action: 'unchanged',
      reasons: [
        `the candidate has the training key of production (${production.ref}): nothing changed`,
      ],
    };
  }
  const cmp = production.comparison;
  if (cmp === null) {
    return {
      action: 'hold',
      reasons: [
        `the candidate could not be compared with production (${production.ref}): ${production.incomparable ?? 'unknown reason'}; a reviewer must decide`,
      ],
    };
  }
  const { accuracy, mcnemar } = cmp;
  const interval = `[${f3(accuracy.interval.low)}, ${f3(accuracy.interval.high)}]`;
  const level = pct(1 - policy.alpha);
  const test =
    `exact McNemar p = ${pv(mcnemar.pValue)} on ${cmp.rows} rows ` +
    `(production alone right on ${mcnemar.productionOnly}, the candidate alone on ${mcnemar.candidateOnly})`;
  const worse = mcnemar.productionOnly > mcnemar.candidateOnly;
  const better = mcnemar.candidateOnly > mcnemar.productionOnly;
  if (mcnemar.pValue < policy.alpha && worse) {
    return {
      action: 'reject',
      reasons: [
        `significantly worse than production (${production.ref}): ${test} < ${policy.alpha}`,
        `accuracy ${f3(accuracy.candidate)} vs ${f3(accuracy.production)}, difference ${f3(accuracy.delta)}, ${level} interval ${interval}`,
      ],
    };
  }
  if (accuracy.interval.high < -policy.tolerance) {
    return {
      action: 'reject',
      reasons: [
        `worse than production (${production.ref}) by more than the tolerance ${policy.tolerance}: ` +
          `the ${level} interval of the accuracy difference ${interval} lies below −${policy.tolerance}`,
        test,
      ],
    };
  }
  if (policy.policy === 'strict') {
    if (mcnemar.pValue < policy.alpha && better) {
      return {
        action: 'promote',
        reasons: [
          `significantly better than production (${production.ref}): ${test} < ${policy.alpha}`,
          `accuracy difference ${f3(accuracy.delta)}, ${level} interval ${interval}`,
        ],
      };
    }
    return {
      action: 'hold',
      reasons: [
        `not a significant improvement over production (${production.ref}), which the strict policy requires: ${test}, not below ${policy.alpha}` +
          (better ? '' : ' (and the candidate is not ahead)'),
        `accuracy difference ${f3(accuracy.delta)}, ${level} interval ${interval}`,
      ],
    };
  }
  if (accuracy.interval.low > -policy.tolerance) {
    return {
      action: 'promote',
      reasons: [
        `not worse than production (${production.ref}) by more than the tolerance ${policy.tolerance}: ` +
          `the ${level} interval of the accuracy difference is ${interval}, its lower end above −${policy.tolerance}`,
        test,
      ],
    };
  }
  return {
    action: 'hold',
    reasons: [
      `cannot rule out that the candidate is worse than production (${production.ref}) by more than the tolerance ${policy.tolerance}: ` +
        `the ${level} interval of the accuracy difference ${interval} reaches below −${policy.tolerance}` +
        (cmp.rows < 200 ? ` (${cmp.rows} hold-out rows leave a wide interval)` : ''),
      test,
    ],
  };
}
