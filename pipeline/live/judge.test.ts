import { describe, expect, it } from 'vitest';
import type { QualityCounts } from '../log/store.ts';
import { judgeCanary, judgeProduction, judgeShadow, type LivePolicy } from './judge.ts';
import { DEFAULT_CANARY, rollbackConfigSchema } from './policy.ts';

const CLASSES = ['setosa', 'versicolor', 'virginica'];

/** Counts of `rows` labelled rows, `wrong` of them answered versicolor for a true setosa. */
function counts(
  version: number,
  rows: number,
  wrong: number,
  pin: QualityCounts['pin'] = 'production',
): QualityCounts {
  const right = rows - wrong;
  const confusion = [
    { label: 'setosa', predicted: 'setosa', rows: Math.ceil(right / 3) },
    { label: 'setosa', predicted: 'versicolor', rows: wrong },
    { label: 'versicolor', predicted: 'versicolor', rows: Math.floor(right / 3) },
    {
      label: 'virginica',
      predicted: 'virginica',
      rows: right - Math.ceil(right / 3) - Math.floor(right / 3),
    },
  ].filter((c) => c.rows > 0);
  return {
    model: 'iris',
    version,
    pin,
    rows,
    sampleRate: 1,
    classes: CLASSES,
    predicted: {},
    confusion,
  };
}

const gate = { minAccuracy: 0.9, minMacroF1: 0.9 };

describe('judgeProduction', () => {
  const policy = rollbackConfigSchema.parse({});

  it('calls production degraded when the upper bound of live accuracy is below the gate', () => {
    const j = judgeProduction({
      model: 'iris',
      version: 2,
      counts: counts(2, 200, 60),
      classes: CLASSES,
      policy,
      gate,
    });
    expect(j.verdict).toBe('degraded');
    expect(j).toMatchObject({
      labelled: 200,
      correct: 140,
      thresholds: { accuracy: 0.9, macroF1: 0.9 },
    });
    expect(j.accuracy?.estimate).toBeCloseTo(0.7, 12);
    expect(j.accuracy?.high).toBeLessThan(0.9);
    expect(j.reasons[0]).toMatch(
      /live accuracy 0\.700 on 200 labelled rows, 95% upper bound 0\.75\d below the gate 0\.9/,
    );
  });

  it('keeps a production that is below the gate by chance alone: the bound, not the estimate, decides', () => {
    // 0.885 on 200 rows: below 0.9, but its 95% upper bound is not.
    const j = judgeProduction({
      model: 'iris',
      version: 2,
      counts: counts(2, 200, 23),
      classes: CLASSES,
      policy,
      gate,
    });
    expect(j.accuracy?.estimate).toBeLessThan(0.9);
    expect(j.verdict).toBe('healthy');
  });

  it('waits for minLabelled rows', () => {
    const j = judgeProduction({
      model: 'iris',
      version: 2,
      counts: counts(2, 99, 99),
      classes: CLASSES,
      policy,
      gate,
    });
    expect(j.verdict).toBe('insufficient');
    expect(j.reasons[0]).toContain(
      '99 labelled rows in the window; the rollback rule waits for 100',
    );
    expect(
      judgeProduction({
        model: 'iris',
        version: 2,
        counts: undefined,
        classes: CLASSES,
        policy,
        gate,
      }).verdict,
    ).toBe('insufficient');
  });

  it('uses minAccuracy with when: accuracy-below, and the macro-F1 gate only with when: gate', () => {
    const below = rollbackConfigSchema.parse({ when: 'accuracy-below', minAccuracy: 0.6 });
    const j = judgeProduction({
      model: 'iris',
      version: 2,
      counts: counts(2, 200, 60),
      classes: CLASSES,
      policy: below,
      gate,
    });
    expect(j).toMatchObject({ verdict: 'healthy', thresholds: { accuracy: 0.6 } });
    expect(j.reasons).toHaveLength(1);
  });

  it('compares with the previous production version when: worse-than-previous', () => {
    const prev = rollbackConfigSchema.parse({ when: 'worse-than-previous' });
    /** iris@2 wrong on `wrong` of 300 rows, iris@1 before it on `before` of `beforeRows`. */
    const judged = (wrong: number, beforeRows: number, before: number) =>
      judgeProduction({
        model: 'iris',
        version: 2,
        counts: counts(2, 300, wrong),
        classes: CLASSES,
        policy: prev,
        gate,
        previous: { version: 1, counts: counts(1, beforeRows, before) },
      });
    const worse = judged(30, 300, 3);
    expect(worse.verdict).toBe('degraded');
    expect(worse.previous).toMatchObject({ version: 1, labelled: 300, correct: 297 });
    expect(worse.previous?.pValue).toBeLessThan(0.001);
    expect(judged(6, 300, 3).verdict).toBe('healthy');
    const none = judged(30, 20, 0);
    expect(none.verdict).toBe('insufficient');
    expect(none.reasons[0]).toContain('iris@1 has 20 labelled rows');
  });

  it('refuses minAccuracy without accuracy-below, and accuracy-below without it', () => {
    expect(() => rollbackConfigSchema.parse({ when: 'accuracy-below' })).toThrow(
      /required with `when: accuracy-below`/,
    );
    expect(() => rollbackConfigSchema.parse({ minAccuracy: 0.9 })).toThrow(/only used with/);
    expect(() => rollbackConfigSchema.parse({ window: '24 hours' })).toThrow(/duration/);
  });
});

describe('judgeCanary', () => {
  const policy: LivePolicy = {
    policy: 'non-inferiority',
    tolerance: 0.02,
    alpha: 0.05,
    ...DEFAULT_CANARY,
  };
  const judge = (
    p: QualityCounts | undefined,
    c: QualityCounts | undefined,
    over: Partial<LivePolicy> = {},
  ) =>
    judgeCanary({
      model: 'iris',
      production: { version: 1, counts: p },
      canary: { version: 2, weight: 0.2, counts: c },
      policy: { ...policy, ...over },
    });

  it('promotes a canary not worse by more than the tolerance', () => {
    const j = judge(counts(1, 400, 28), counts(2, 400, 0, 'canary'));
    expect(j.decision.action).toBe('promote');
    expect(j.test?.interval.low).toBeGreaterThan(-0.02);
    expect(j.decision.reasons[1]).toMatch(
      /accuracy 1\.000 on 400 rows against production's 0\.930 on 400 \(iris@1\)/,
    );
  });

  it('removes a canary significantly worse', () => {
    const j = judge(counts(1, 200, 0), counts(2, 200, 100, 'canary'));
    expect(j.decision.action).toBe('remove');
    expect(j.decision.reasons[0]).toContain('significantly worse');
  });

  it('keeps watching with the rows still needed', () => {
    const j = judge(counts(1, 150, 8), counts(2, 150, 9, 'canary'));
    expect(j.decision.action).toBe('watch');
    expect(j.rowsPerArm).toBeGreaterThan(150);
    expect(j.rowsStillNeeded).toEqual({
      production: j.rowsPerArm - 150,
      canary: j.rowsPerArm - 150,
    });
    expect(j.decision.reasons.at(-1)).toContain(`about ${j.rowsPerArm} labelled rows per arm`);
    const early = judge(counts(1, 500, 0), counts(2, 40, 0, 'canary'));
    expect(early.decision.action).toBe('watch');
    expect(early.test).toBeNull();
    expect(early.decision.reasons[0]).toContain('40 of the canary; the decision waits for 100');
  });

  it('under the strict policy promotes only a significant improvement', () => {
    expect(
      judge(counts(1, 400, 4), counts(2, 400, 2, 'canary'), { policy: 'strict' }).decision.action,
    ).toBe('watch');
    expect(
      judge(counts(1, 400, 40), counts(2, 400, 2, 'canary'), { policy: 'strict' }).decision.action,
    ).toBe('promote');
  });
});

describe('judgeShadow', () => {
  const policy: LivePolicy = {
    policy: 'non-inferiority',
    tolerance: 0.02,
    alpha: 0.05,
    ...DEFAULT_CANARY,
  };
  const pairs = (n: number, shadowWrong: number, productionWrong: number) =>
    Array.from({ length: n }, (_, i) => ({
      label: CLASSES[i % 3] as string,
      production: CLASSES[(i < productionWrong ? i + 2 : i) % 3] as string,
      shadow: CLASSES[(i >= n - shadowWrong ? i + 1 : i) % 3] as string,
    }));
  const judge = (p: ReturnType<typeof pairs>) =>
    judgeShadow({
      model: 'iris',
      production: { version: 1 },
      shadow: { version: 3 },
      classes: CLASSES,
      pairs: p,
      policy,
      resamples: 500,
      seed: 7,
    });

  it('pairs the rows: McNemar counts the rows only one got right', () => {
    const j = judge(pairs(300, 40, 0));
    expect(j.comparison?.mcnemar).toMatchObject({ productionOnly: 40, candidateOnly: 0 });
    expect(j.decision.action).toBe('remove');
    expect(j.decision.reasons[0]).toMatch(/^significantly worse than production \(iris@1\)/);
  });

  it('promotes a shadow as good as production, and waits below minLabelled', () => {
    expect(judge(pairs(300, 0, 0)).decision.action).toBe('promote');
    const early = judge(pairs(50, 0, 0));
    expect(early).toMatchObject({ rows: 50, comparison: null, decision: { action: 'watch' } });
  });
});
