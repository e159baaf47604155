import { describe, expect, it } from 'vitest';
import { applyGate } from './gate.ts';

describe('applyGate', () => {
  const gate = { minAccuracy: 0.9, minMacroF1: 0.85 };

  it('passes a candidate that meets both thresholds, inclusive', () => {
    expect(applyGate({ accuracy: 0.9, macroF1: 0.85 }, gate)).toMatchObject({
      passed: true,
      reasons: [],
    });
  });

  it('fails with one reason per missed threshold', () => {
    const verdict = applyGate({ accuracy: 0.8, macroF1: 0.7 }, gate);
    expect(verdict.passed).toBe(false);
    expect(verdict.reasons).toHaveLength(2);
    expect(verdict.reasons[0]).toContain('accuracy 0.8000 is below');
    expect(verdict.checks.map((c) => c.passed)).toEqual([false, false]);
  });

  it('fails on macro-F1 alone', () => {
    const verdict = applyGate({ accuracy: 0.95, macroF1: 0.8 }, gate);
    expect(verdict.passed).toBe(false);
    expect(verdict.reasons).toEqual([expect.stringContaining('macroF1')]);
  });
});
