import { describe, expect, it } from 'vitest';
import reference from './fixtures/statsmodels.json' with { type: 'json' };
import { normalTail, rowsPerArm, twoProportion } from './tests.ts';

describe('two independent arms', () => {
  it.each(reference.twoProportion)(
    'matches statsmodels for production $production against canary $canary',
    (ref) => {
      const [a, n1] = ref.production as [number, number];
      const [b, n2] = ref.canary as [number, number];
      const t = twoProportion({ correct: a, rows: n1 }, { correct: b, rows: n2 }, ref.alpha);
      expect(t.difference).toBeCloseTo(b / n2 - a / n1, 12);
      expect(t.interval.low).toBeCloseTo(ref.newcombe[0] as number, 6);
      expect(t.interval.high).toBeCloseTo(ref.newcombe[1] as number, 6);
      expect(t.z).toBeCloseTo(ref.z, 9);
      if (ref.pValue > 1e-6)
        expect(Math.abs(t.pValue - ref.pValue) / ref.pValue).toBeLessThan(1e-6);
      else expect(t.pValue).toBeCloseTo(ref.pValue, 12);
    },
  );

  it('has z 0 and p 1 when both arms are all right', () => {
    const t = twoProportion({ correct: 50, rows: 50 }, { correct: 80, rows: 80 }, 0.05);
    expect(t).toMatchObject({ difference: 0, z: 0, pValue: 1 });
    expect(t.interval.low).toBeLessThan(0);
    expect(t.interval.high).toBeGreaterThan(0);
  });

  it('refuses an arm without rows or with more right than rows', () => {
    expect(() => twoProportion({ correct: 0, rows: 0 }, { correct: 1, rows: 1 }, 0.05)).toThrow(
      /production needs at least one labelled row/,
    );
    expect(() => twoProportion({ correct: 1, rows: 1 }, { correct: 3, rows: 2 }, 0.05)).toThrow(
      /the canary has 3 right of 2 rows/,
    );
  });

  it('has a normal tail that is symmetric and matches known points', () => {
    expect(normalTail(0)).toBeCloseTo(0.5, 7);
    expect(normalTail(1.959963984540054)).toBeCloseTo(0.025, 8);
    expect(normalTail(-1.959963984540054)).toBeCloseTo(0.975, 8);
  });
});

describe('rows per arm', () => {
  it.each(reference.sampleSize)(
    'matches statsmodels NormalIndPower at accuracy $accuracy, difference $difference',
    (ref) => {
      const n = rowsPerArm(ref.accuracy, ref.difference, ref.alpha, ref.power);
      expect(Math.abs(n - ref.perArm) / ref.perArm).toBeLessThan(1e-4);
    },
  );

  it('refuses a difference outside (0, 1)', () => {
    expect(() => rowsPerArm(0.9, 0, 0.05, 0.8)).toThrow(/difference must be in \(0, 1\)/);
  });
});
