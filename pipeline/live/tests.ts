/**
 * The tests a live comparison of two independent arms needs (production against a canary:
 * different requests, so nothing is paired): the pooled two-proportion z-test on labelled
 * accuracy, Newcombe's hybrid score interval of the difference (from the arms' Wilson
 * intervals), and the rows per arm still needed to detect a given difference (Cohen's h, as
 * statsmodels' `NormalIndPower`). The paired case (the shadow answers the same rows) is the
 * offline comparison's exact McNemar test (`pipeline/compare.ts`). Reference values come from
 * statsmodels and scipy (`fixtures/make-fixtures.py`).
 */
import { errorFunction } from 'simple-statistics';
import { normalQuantile, wilsonInterval, type Interval } from '../log/quality.ts';

/**
 * P(Z > z) for a standard normal Z, from simple-statistics' erf (absolute error below 1.2e-7;
 * tails below 1e-6 are good to about 1e-16 absolute, enough for a p-value).
 */
export function normalTail(z: number): number {
  const erfc = 1 - errorFunction(Math.abs(z) / Math.SQRT2);
  return z >= 0 ? erfc / 2 : 1 - erfc / 2;
}

/** One arm's labelled rows and how many of them it answered right. */
export interface ArmCounts {
  correct: number;
  rows: number;
}

/** Canary against production: the difference of accuracy (canary − production), its test and interval. */
export interface TwoProportion {
  production: number;
  canary: number;
  difference: number;
  /** Newcombe's hybrid score interval of the difference at confidence 1 − alpha. */
  interval: { low: number; high: number };
  /** The pooled z statistic and its two-sided p-value. */
  z: number;
  pValue: number;
  alpha: number;
}

function checkArm(name: string, arm: ArmCounts): void {
  if (!Number.isInteger(arm.rows) || arm.rows < 1 || !Number.isInteger(arm.correct)) {
    throw new RangeError(`${name} needs at least one labelled row, got ${JSON.stringify(arm)}`);
  }
  if (arm.correct < 0 || arm.correct > arm.rows) {
    throw new RangeError(`${name} has ${arm.correct} right of ${arm.rows} rows`);
  }
}

/**
 * The two-proportion comparison of `canary` with `production`. The z-test pools the arms under
 * the null hypothesis of equal accuracy (z is 0 when both are all right or all wrong); the
 * interval is Newcombe's (method 10), which keeps its coverage near 0 and 1 where the Wald
 * interval does not — live accuracy sits near 1.
 */
export function twoProportion(
  production: ArmCounts,
  canary: ArmCounts,
  alpha: number,
): TwoProportion {
  checkArm('production', production);
  checkArm('the canary', canary);
  const p = production.correct / production.rows;
  const c = canary.correct / canary.rows;
  const wp: Interval = wilsonInterval(production.correct, production.rows, 1 - alpha);
  const wc: Interval = wilsonInterval(canary.correct, canary.rows, 1 - alpha);
  const difference = c - p;
  const pooled = (production.correct + canary.correct) / (production.rows + canary.rows);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / production.rows + 1 / canary.rows));
  const z = se === 0 ? 0 : difference / se;
  return {
    production: p,
    canary: c,
    difference,
    interval: {
      low: difference - Math.hypot(c - wc.low, wp.high - p),
      high: difference + Math.hypot(wc.high - c, p - wp.low),
    },
    z,
    pValue: Math.min(1, 2 * normalTail(Math.abs(z))),
    alpha,
  };
}

/**
 * Labelled rows per arm a two-sided test at `alpha` needs to detect, with probability `power`,
 * a fall of accuracy from `accuracy` by `difference`: `2·((z₁₋α/₂ + z_power) / h)²` with Cohen's
 * `h = 2·asin√p₁ − 2·asin√p₂` (each arm's transformed accuracy has variance 1/n, their difference
 * 2/n); not rounded up.
 */
export function rowsPerArm(
  accuracy: number,
  difference: number,
  alpha: number,
  power: number,
): number {
  if (!(difference > 0 && difference < 1)) {
    throw new RangeError(`the difference must be in (0, 1), got ${difference}`);
  }
  const p1 = Math.min(1, Math.max(0, accuracy));
  const p2 = Math.max(0, p1 - difference);
  const h = Math.abs(2 * Math.asin(Math.sqrt(p1)) - 2 * Math.asin(Math.sqrt(p2)));
  const z = normalQuantile(1 - alpha / 2) + normalQuantile(power);
  return 2 * (z / h) ** 2;
}
