/**
 * The gate: absolute thresholds a candidate's hold-out figures must meet before it can be
 * registered. A failing candidate is a verdict with reasons, not an exception.
 */
import type { GateConfig } from './config.ts';
import type { Metrics } from './metrics.ts';

export interface GateCheck {
  metric: 'accuracy' | 'macroF1';
  value: number;
  /** The minimum, inclusive. */
  threshold: number;
  passed: boolean;
}

export interface GateVerdict {
  passed: boolean;
  checks: GateCheck[];
  /** One sentence per failed check; empty when the gate passes. */
  reasons: string[];
}

/** Checks hold-out metrics against the gate's thresholds. */
export function applyGate(
  metrics: Pick<Metrics, 'accuracy' | 'macroF1'>,
  gate: GateConfig,
): GateVerdict {
  const checks: GateCheck[] = [
    {
      metric: 'accuracy',
      value: metrics.accuracy,
      threshold: gate.minAccuracy,
      passed: metrics.accuracy >= gate.minAccuracy,
    },
    {
      metric: 'macroF1',
      value: metrics.macroF1,
      threshold: gate.minMacroF1,
      passed: metrics.macroF1 >= gate.minMacroF1,
    },
  ];
  const reasons = checks
    .filter((c) => !c.passed)
    .map(
      (c) =>
        `hold-out ${c.metric} ${c.value.toFixed(4)} is below the gate's minimum ${c.threshold}`,
    );
  return { passed: reasons.length === 0, checks, reasons };
}
