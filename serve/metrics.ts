/**
 * The server's Prometheus metrics, in a registry of their own (so several apps can live in one
 * process, as in tests). Names follow Prometheus conventions: `_total` counters, `_seconds`
 * durations, `_info` gauges of value 1 whose labels carry the facts.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

import type { ServedModel } from './follow/load-registry.ts';

/** What the app and the reconciler record. */
export interface ServeMetrics {
  readonly registry: Registry;
  /** One finished HTTP request. */
  request(method: string, route: string, status: number, seconds: number): void;
  /** A refused or failed request, by its error code. */
  error(route: string, code: string): void;
  /** Predicted rows of a served model: `counts[c]` rows of class c. */
  predictions(model: ServedModel, counts: Uint32Array): void;
  /** One reconcile: its trigger, its result and how long it took. */
  reconcile(trigger: string, result: 'changed' | 'unchanged' | 'failed', seconds: number): void;
  /** A pinned version that could not be loaded. */
  loadFailure(model: string): void;
  /** The models now served (replaces the previous set). */
  served(models: Iterable<ServedModel>, degraded: boolean): void;
}

/** Creates the metrics; `defaults` adds Node's process metrics (memory, CPU, event loop). */
export function createMetrics(options: { defaults?: boolean } = {}): ServeMetrics {
  const registry = new Registry();
  if (options.defaults ?? true) collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: 'pinml_http_requests_total',
    help: 'HTTP requests answered, by method, route and status.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'pinml_http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by method and route.',
    labelNames: ['method', 'route'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const errors = new Counter({
    name: 'pinml_http_errors_total',
    help: 'Requests answered with an error, by route and error code (internal = a 500).',
    labelNames: ['route', 'code'] as const,
    registers: [registry],
  });
  const predictions = new Counter({
    name: 'pinml_predictions_total',
    help: 'Predicted rows, by model, version and predicted class.',
    labelNames: ['model', 'version', 'class'] as const,
    registers: [registry],
  });
  const reconciles = new Counter({
    name: 'pinml_reconcile_total',
    help: 'Reconciles with the registry, by trigger (startup, poll, webhook) and result.',
    labelNames: ['trigger', 'result'] as const,
    registers: [registry],
  });
  const reconcileSeconds = new Histogram({
    name: 'pinml_reconcile_duration_seconds',
    help: 'Time of a reconcile: fetch, read, verify and compile.',
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const loadFailures = new Counter({
    name: 'pinml_model_load_failures_total',
    help: 'Pinned versions that failed to load (hash, schema, format), by model.',
    labelNames: ['model'] as const,
    registers: [registry],
  });
  const modelInfo = new Gauge({
    name: 'pinml_model_info',
    help: 'The model versions served (value 1), with the registry commit and artifact kind.',
    labelNames: ['model', 'version', 'commit', 'kind', 'sha256'] as const,
    registers: [registry],
  });
  const degradedGauge = new Gauge({
    name: 'pinml_degraded',
    help: '1 while the last reconcile left a problem (see /health), else 0.',
    registers: [registry],
  });
  const lastSuccess = new Gauge({
    name: 'pinml_reconcile_last_success_timestamp_seconds',
    help: 'When a reconcile last finished without a problem (Unix time).',
    registers: [registry],
  });

  return {
    registry,
    request(method, route, status, seconds) {
      requests.inc({ method, route, status: String(status) });
      latency.observe({ method, route }, seconds);
    },
    error(route, code) {
      errors.inc({ route, code });
    },
    predictions(model, counts) {
      const version = String(model.version);
      for (let c = 0; c < counts.length; c++) {
        const n = counts[c] as number;
        if (n > 0) predictions.inc({ model: model.name, version, class: model.classKeys[c] }, n);
      }
    },
    reconcile(trigger, result, seconds) {
      reconciles.inc({ trigger, result });
      reconcileSeconds.observe(seconds);
      if (result !== 'failed') lastSuccess.set(Date.now() / 1000);
    },
    loadFailure(model) {
      loadFailures.inc({ model });
    },
    served(models, degraded) {
      modelInfo.reset();
      for (const m of models) {
        modelInfo.set(
          {
            model: m.name,
            version: String(m.version),
            commit: m.commit,
            kind: m.predictor.kind,
            sha256: m.card.artifact.sha256,
          },
          1,
        );
      }
      degradedGauge.set(degraded ? 1 : 0);
    },
  };
}
