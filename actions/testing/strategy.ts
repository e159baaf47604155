/**
 * A matrix job's legs, run as GitHub's `strategy` says ("Running variations of jobs in a
 * workflow"):
 *
 * - `max-parallel` caps how many legs run at once (default: as many as the runners allow, here
 *   all of them); the others are queued and start in order as a slot frees;
 * - `fail-fast` (default `true`): when a leg fails, GitHub cancels every queued leg and every
 *   leg in progress. The harness cannot interrupt a step half-way: a leg in progress is
 *   cancelled before its next step; a queued leg never starts. `fail-fast: false` lets every
 *   leg run to its end.
 *
 * Test helper only.
 */

/** A leg's result, as far as the strategy cares. */
export interface LegOutcome {
  /** The leg's job name (`Train iris / forest`), for the cancellation reason. */
  name?: string;
  result: 'success' | 'failure' | 'skipped' | 'cancelled';
}

export interface StrategyOptions {
  failFast: boolean;
  maxParallel: number;
}

/** Reads `fail-fast` and `max-parallel` from an evaluated `strategy:` (null when there is none). */
export function strategyOptions(strategy: unknown, legs: number): StrategyOptions {
  const s =
    strategy !== null && typeof strategy === 'object' && !Array.isArray(strategy)
      ? (strategy as Record<string, unknown>)
      : {};
  const failFast = s['fail-fast'] ?? true;
  if (typeof failFast !== 'boolean')
    throw new Error(`strategy.fail-fast must be true or false, not ${JSON.stringify(failFast)}`);
  const max = s['max-parallel'] ?? legs;
  if (typeof max !== 'number' || !Number.isInteger(max) || max < 1)
    throw new Error(
      `strategy.max-parallel must be a whole number of 1 or more, not ${JSON.stringify(max)}`,
    );
  return { failFast, maxParallel: Math.min(max, legs) };
}

/**
 * Runs `legs` legs with the strategy. `run(index, cancelled)` runs leg `index`; it calls
 * `cancelled()` before each step and stops as cancelled when it returns a reason. A leg that
 * never starts is given to `skip(index, reason)` for its cancelled outcome. Results keep the
 * legs' order.
 */
export async function runStrategy<T extends LegOutcome>(
  legs: number,
  options: StrategyOptions,
  run: (index: number, cancelled: () => string | undefined) => Promise<T>,
  skip: (index: number, reason: string) => T,
): Promise<T[]> {
  const results: T[] = new Array<T>(legs);
  let reason: string | undefined;
  const cancelled = (): string | undefined => reason;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < legs) {
      const index = next++;
      if (reason !== undefined) {
        results[index] = skip(index, reason);
        continue;
      }
      const outcome = await run(index, cancelled);
      results[index] = outcome;
      if (options.failFast && outcome.result === 'failure' && reason === undefined)
        reason = `The strategy configuration was canceled because "${outcome.name ?? `leg ${index + 1}`}" failed`;
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.maxParallel, legs) }, worker));
  return results;
}
