/**
 * A model's shadow: a version that predicts every request of its model after the answer is
 * sent, so its predictions reach the prediction log (`pin: 'shadow'`) and `/metrics` beside the
 * answering version's, and never reach the caller. It runs in a `setImmediate` callback: the
 * answer is a `Response` with a string body, which `@hono/node-server` writes (`end`) in the
 * microtasks that follow the handler, and immediates run only after those. Its failures are
 * caught, counted (`pinml_shadow_failures_total`) and logged at most once per interval.
 */
import type { AppDeps } from '../deps.ts';
import type { ServedModel } from '../follow/load-registry.ts';
import { predictRows, type Asked, type Protocol } from './answer.ts';

/** How long between two log lines about failing shadows. */
const WARN_EVERY_MS = 30_000;
let lastWarning = -Infinity;

/** Whether two versions read the same rows (same features in the same order). */
function sameFeatures(a: ServedModel, b: ServedModel): boolean {
  const x = a.predictor.features;
  const y = b.predictor.features;
  return x.length === y.length && x.every((f, i) => f === y[i]);
}

/**
 * Predicts `request` with `shadow` once the answer is on its way: the rows the answering
 * version read when the shadow's signature has the same features, else the request read again
 * by the shadow's signature. Returns at once; never throws.
 */
export function predictShadow<R extends Asked>(
  deps: Pick<AppDeps, 'metrics' | 'limits' | 'recorder' | 'log'>,
  protocol: Protocol<R>,
  request: R,
  shadow: ServedModel,
  answered: ServedModel,
  rows: readonly Float64Array[],
  id: string,
): void {
  setImmediate(() => {
    const started = performance.now();
    try {
      const own = sameFeatures(shadow, answered)
        ? rows
        : protocol.rows(request, shadow, deps.limits.batchRows);
      const predictions = predictRows(shadow, own);
      const ms = performance.now() - started;
      deps.metrics.predictions(shadow, 'shadow', predictions.counts);
      deps.metrics.answered(shadow, 'shadow', ms / 1000);
      deps.recorder?.record(shadow, 'shadow', id, own, predictions, ms);
    } catch (err) {
      deps.metrics.shadowFailure(shadow);
      const now = Date.now();
      if (now - lastWarning < WARN_EVERY_MS) return;
      lastWarning = now;
      deps.log.warn(
        { err, model: shadow.name, version: shadow.version, id },
        `the shadow ${shadow.name}@${shadow.version} failed to predict request ${id} ` +
          '(the caller was answered; see pinml_shadow_failures_total for how often)',
      );
    }
  });
}
