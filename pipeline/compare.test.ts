import { describe, expect, it } from 'vitest';
import {
  comparePredictions,
  decide,
  type DecisionInput,
  type PairedComparison,
  type PairedPredictions,
} from './compare.ts';

/**
 * `n` rows over three classes: `both` rows both models get right, `productionOnly` rows only
 * production gets right, `candidateOnly` only the candidate, and the rest neither.
 */
function crafted(
  n: number,
  both: number,
  productionOnly: number,
  candidateOnly: number,
): PairedPredictions {
  const yTrue: number[] = [];
  const production: number[] = [];
  const candidate: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = i % 3;
    const wrong = (t + 1) % 3;
    const prodRight = i < both || (i >= both && i < both + productionOnly);
    const candRight =
      i < both || (i >= both + productionOnly && i < both + productionOnly + candidateOnly);
    yTrue.push(t);
    production.push(prodRight ? t : wrong);
    candidate.push(candRight ? t : wrong);
  }
  return { classes: ['a', 'b', 'c'], yTrue, production, candidate };
}

const options = { alpha: 0.05, resamples: 2000, seed: 7 };
const nonInferiority = { policy: 'non-inferiority', tolerance: 0.02, alpha: 0.05 } as const;
const strict = { ...nonInferiority, policy: 'strict' } as const;
const passed = { passed: true, reasons: [] };

function decideOn(
  comparison: PairedComparison,
  policy: DecisionInput['policy'],
): ReturnType<typeof decide> {
  return decide({
    gate: passed,
    policy,
    production: { ref: 'iris@1', sameTrainingKey: false, comparison },
  });
}

describe('comparePredictions', () => {
  it('counts the discordant rows, scores both models and states how it resampled', () => {
    const cmp = comparePredictions(crafted(400, 300, 5, 45), options);
    expect(cmp.rows).toBe(400);
    expect(cmp.mcnemar).toMatchObject({ productionOnly: 5, candidateOnly: 45, significant: true });
    expect(cmp.accuracy.production).toBeCloseTo(305 / 400, 12);
    expect(cmp.accuracy.candidate).toBeCloseTo(345 / 400, 12);
    expect(cmp.accuracy.delta).toBeCloseTo(0.1, 12);
    expect(cmp.accuracy.interval.low).toBeLessThan(0.1);
    expect(cmp.accuracy.interval.high).toBeGreaterThan(0.1);
    expect(cmp.bootstrap).toMatchObject({ resamples: 2000, seed: 7, confidence: 0.95 });
    expect(cmp.perClass).toHaveLength(3);
    expect(cmp.perClass[0]?.delta.f1).toBeCloseTo(
      (cmp.perClass[0]?.candidate.f1 ?? 0) - (cmp.perClass[0]?.production.f1 ?? 0),
      12,
    );
    expect(cmp.production.confusion).toHaveLength(3);
  });

  it('is deterministic for a seed', () => {
    const pairs = crafted(300, 200, 20, 25);
    expect(comparePredictions(pairs, options)).toEqual(comparePredictions(pairs, options));
  });

  it('refuses predictions of different lengths and an empty set', () => {
    const pairs = crafted(30, 20, 2, 2);
    expect(() => comparePredictions({ ...pairs, candidate: [0] }, options)).toThrow(RangeError);
    expect(() =>
      comparePredictions({ classes: ['a'], yTrue: [], production: [], candidate: [] }, options),
    ).toThrow(RangeError);
  });
});

describe('the decision policy on crafted pairs of predictions', () => {
  const cases: {
    what: string;
    pairs: PairedPredictions;
    nonInferiority: string;
    strict: string;
    check?: (cmp: PairedComparison) => void;
  }[] = [
    {
      what: 'clearly better',
      pairs: crafted(400, 300, 5, 45),
      nonInferiority: 'promote',
      strict: 'promote',
    },
    {
      what: 'equal (same right and wrong rows)',
      pairs: crafted(400, 340, 0, 0),
      nonInferiority: 'promote',
      strict: 'hold',
    },
    {
      what: 'equal (as many wins as losses)',
      pairs: crafted(1000, 850, 10, 10),
      nonInferiority: 'promote',
      strict: 'hold',
    },
    {
      what: 'worse beyond the tolerance, although McNemar is not significant',
      pairs: crafted(20, 13, 5, 0),
      nonInferiority: 'reject',
      strict: 'reject',
      check: (cmp) => {
        expect(cmp.mcnemar.pValue).toBeCloseTo(0.0625, 12);
        expect(cmp.accuracy.interval.high).toBeLessThan(-0.02);
      },
    },
    {
      what: 'significantly worse',
      pairs: crafted(400, 300, 40, 10),
      nonInferiority: 'reject',
      strict: 'reject',
      check: (cmp) => expect(cmp.mcnemar.pValue).toBeLessThan(0.001),
    },
    {
      what: 'better but not significantly',
      pairs: crafted(400, 300, 10, 18),
      nonInferiority: 'promote',
      strict: 'hold',
      check: (cmp) => {
        expect(cmp.mcnemar.pValue).toBeGreaterThan(0.05);
        expect(cmp.accuracy.interval.low).toBeGreaterThan(-0.02);
      },
    },
    {
      what: 'a little worse on a small hold-out (the interval reaches below the tolerance)',
      pairs: crafted(45, 40, 2, 1),
      nonInferiority: 'hold',
      strict: 'hold',
      check: (cmp) => expect(cmp.accuracy.interval.low).toBeLessThan(-0.02),
    },
  ];

  for (const c of cases) {
    it(`${c.what}: ${c.nonInferiority} under non-inferiority, ${c.strict} under strict`, () => {
      const cmp = comparePredictions(c.pairs, options);
      c.check?.(cmp);
      const a = decideOn(cmp, nonInferiority);
      const b = decideOn(cmp, strict);
      expect(a.action).toBe(c.nonInferiority);
      expect(b.action).toBe(c.strict);
      for (const d of [a, b]) {
        expect(d.reasons.length).toBeGreaterThan(0);
        expect(d.reasons.join(' ')).toContain('iris@1');
      }
    });
  }

  it('rejects a candidate that fails the gate, whatever production is', () => {
    const d = decide({
      gate: { passed: false, reasons: ['hold-out accuracy 0.8000 is below the gate minimum 0.9'] },
      policy: nonInferiority,
      production: null,
    });
    expect(d.action).toBe('reject');
    expect(d.reasons).toContain('hold-out accuracy 0.8000 is below the gate minimum 0.9');
  });

  it('promotes a candidate that passes the gate when there is no production version', () => {
    expect(decide({ gate: passed, policy: strict, production: null }).action).toBe('promote');
  });

  it('says unchanged when the candidate has the training key of production', () => {
    const d = decide({
      gate: passed,
      policy: nonInferiority,
      production: { ref: 'iris@4', sameTrainingKey: true, comparison: null },
    });
    expect(d).toMatchObject({ action: 'unchanged' });
    expect(d.reasons[0]).toContain('iris@4');
  });

  it('holds when the two models cannot be scored on the same rows, and says why', () => {
    const d = decide({
      gate: passed,
      policy: nonInferiority,
      production: {
        ref: 'iris@2',
        sameTrainingKey: false,
        comparison: null,
        incomparable: 'production takes a feature "x" the dataset does not have',
      },
    });
    expect(d.action).toBe('hold');
    expect(d.reasons[0]).toContain('feature "x"');
  });
});
