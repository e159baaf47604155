/**
 * The server's Prometheus metrics, in a registry of their own (so several apps can live in one
 * process, as in tests). Names follow Prometheus conventions: `_total` counters, `_seconds`
 * durations, `_info` gauges of value 1 whose labels carry the facts.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

import type { ProfilePsi } from '../pipeline/drift/profile-psi.ts';
import type { LiveQuality } from '../pipeline/log/quality.ts';
import type { Pin } from '../pipeline/log/store.ts';
import type { ServedModel, ServedRoles } from './follow/load-registry.ts';
import type { RecorderStatus } from './log/recorder.ts';

/** A production version's PSI over the live window (serve/log/live.ts). */
export interface LiveDrift extends ProfilePsi {
  model: string;
  version: number;
}

/** `pinml_drift_severity`'s values. */
export const SEVERITY_VALUE = { none: 0, low: 1, medium: 2, high: 3 } as const;

/** What the app and the reconciler record. */
export interface ServeMetrics {
  readonly registry: Registry;
  /** One finished HTTP request. */
  request(method: string, route: string, status: number, seconds: number): void;
  /** A refused or failed request, by its error code. */
  error(route: string, code: string): void;
  /** Predicted rows of a served version in a pin: `counts[c]` rows of class c. */
  predictions(model: ServedModel, pin: Pin, counts: Uint32Array): void;
  /**
   * One prediction request answered by a version in a pin (for a shadow: predicted after the
   * answer), and how long it took: from arrival to the answer, or the shadow's own work.
   */
  answered(model: ServedModel, pin: Pin, seconds: number): void;
  /** A shadow prediction that failed (it never reaches the caller). */
  shadowFailure(model: ServedModel): void;
  /** One reconcile: its trigger, its result and how long it took. */
  reconcile(trigger: string, result: 'changed' | 'unchanged' | 'failed', seconds: number): void;
  /** A pinned version that could not be loaded. */
  loadFailure(model: string): void;
  /**
   * The models now served, with their canaries and shadows, and the registry commit they were
   * read at (replaces the previous set).
   */
  served(
    models: Iterable<ServedModel>,
    degraded: boolean,
    roles?: ReadonlyMap<string, ServedRoles>,
    commit?: string | null,
  ): void;
  /** The commit the followed ref pointed at when it was last fetched. */
  fetched(commit: string): void;
  /** Reads the prediction log's queue and counts on every scrape. */
  logStatus(status: () => RecorderStatus): void;
  /** The live quality of the last computation (replaces the previous figures). */
  live(figures: readonly LiveQuality[]): void;
  /** The drift of the last computation (replaces the previous figures). */
  drift(figures: readonly LiveDrift[]): void;
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
    help: 'Predicted rows, by model, version, pin and predicted class.',
    labelNames: ['model', 'version', 'pin', 'class'] as const,
    registers: [registry],
  });
  const modelRequests = new Counter({
    name: 'pinml_prediction_requests_total',
    help: 'Prediction requests, by the model, version and pin that answered (shadow: predicted after).',
    labelNames: ['model', 'version', 'pin'] as const,
    registers: [registry],
  });
  const modelLatency = new Histogram({
    name: 'pinml_prediction_duration_seconds',
    help: 'Arrival to answer of a prediction request, by model, version and pin (shadow: its own work).',
    labelNames: ['model', 'version', 'pin'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const shadowFailures = new Counter({
    name: 'pinml_shadow_failures_total',
    help: 'Shadow predictions that failed (never seen by callers), by model and version.',
    labelNames: ['model', 'version'] as const,
    registers: [registry],
  });
  // A version's labelled children, made once per version and pin: no label object per answer.
  interface Children {
    requests: ReturnType<typeof modelRequests.labels>;
    latency: ReturnType<typeof modelLatency.labels>;
    classes: ReturnType<typeof predictions.labels>[];
  }
  const children = new Map<Pin, WeakMap<ServedModel, Children>>();
  const childrenOf = (model: ServedModel, pin: Pin): Children => {
    let byModel = children.get(pin);
    if (byModel === undefined) children.set(pin, (byModel = new WeakMap()));
    let c = byModel.get(model);
    if (c === undefined) {
      const labels = { model: model.name, version: String(model.version), pin };
      c = {
        requests: modelRequests.labels(labels),
        latency: modelLatency.labels(labels),
        classes: model.classKeys.map((k) => predictions.labels({ ...labels, class: k })),
      };
      byModel.set(model, c);
    }
    return c;
  };
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
    labelNames: ['model', 'version', 'pin', 'commit', 'kind', 'sha256'] as const,
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

  const gauge = (name: string, help: string, labelNames: readonly string[] = []): Gauge =>
    new Gauge({ name, help, labelNames, registers: [registry] });
  const refCommit = gauge(
    'pinml_ref_commit_info',
    'The commit the followed ref pointed at when last fetched (value 1).',
    ['commit'],
  );
  const servedCommit = gauge(
    'pinml_served_commit_info',
    'The registry commit the served models were last read at (value 1).',
    ['commit'],
  );
  const gateAccuracy = gauge(
    'pinml_gate_min_accuracy',
    "The gate's minimum hold-out accuracy a served version passed (its card).",
    ['model', 'version'],
  );
  const gateF1 = gauge(
    'pinml_gate_min_macro_f1',
    "The gate's minimum hold-out macro-F1 a served version passed (its card).",
    ['model', 'version'],
  );
  const driftPsi = gauge(
    'pinml_drift_psi',
    "PSI of the live window's logged inputs of a production version against its card's reference profile.",
    ['model', 'version', 'feature'],
  );
  const driftRows = gauge('pinml_drift_rows', 'Logged rows the drift figures were computed on.', [
    'model',
    'version',
  ]);
  const driftSeverity = gauge(
    'pinml_drift_severity',
    "The production version's drift severity by PSI: 0 none, 2 medium, 3 high.",
    ['model'],
  );
  const version = ['model', 'version', 'pin'] as const;
  const liveGauges = {
    rows: gauge('pinml_live_rows', 'Predictions recorded in the live window.', version),
    labelled: gauge(
      'pinml_live_labelled_rows',
      'Recorded predictions with feedback in the live window.',
      version,
    ),
    accuracy: gauge(
      'pinml_live_accuracy',
      'Accuracy on the labelled rows of the live window.',
      version,
    ),
    accuracyLow: gauge(
      'pinml_live_accuracy_low',
      'Lower end of the Wilson interval (95%) of pinml_live_accuracy.',
      version,
    ),
    accuracyHigh: gauge(
      'pinml_live_accuracy_high',
      'Upper end of the Wilson interval (95%) of pinml_live_accuracy.',
      version,
    ),
    f1: gauge('pinml_live_macro_f1', 'Macro-F1 on the labelled rows of the live window.', version),
    f1Low: gauge(
      'pinml_live_macro_f1_low',
      'Lower end of the bootstrap interval (95%) of pinml_live_macro_f1.',
      version,
    ),
    f1High: gauge(
      'pinml_live_macro_f1_high',
      'Upper end of the bootstrap interval (95%) of pinml_live_macro_f1.',
      version,
    ),
    sampleRate: gauge(
      'pinml_live_sample_rate',
      'Share of the predictions recorded (1: all) in the live window.',
      version,
    ),
    share: gauge(
      'pinml_live_predicted_share',
      "Share of the live window's predictions per predicted class.",
      [...version, 'class'],
    ),
  };
  let status: (() => RecorderStatus) | undefined;
  const fromStatus = (read: (s: RecorderStatus) => number) =>
    function (this: Gauge) {
      if (status !== undefined) this.set(read(status()));
    };
  new Gauge({
    name: 'pinml_log_queue_rows',
    help: 'Rows waiting to be written to the prediction log.',
    registers: [registry],
    collect: fromStatus((s) => s.queued),
  });
  new Gauge({
    name: 'pinml_log_queue_peak_rows',
    help: 'The most rows that have waited at once since start.',
    registers: [registry],
    collect: fromStatus((s) => s.peakQueued),
  });
  const total = (name: string, help: string, read: (s: RecorderStatus) => number): void => {
    new Counter({
      name,
      help,
      registers: [registry],
      collect(this: Counter) {
        if (status === undefined) return;
        this.reset();
        this.inc(read(status()));
      },
    });
  };
  total('pinml_log_rows_written_total', 'Rows written to the prediction log.', (s) => s.written);
  total(
    'pinml_log_rows_dropped_total',
    'Rows dropped because the queue was full (the store could not keep up or be written).',
    (s) => s.dropped,
  );
  total(
    'pinml_log_write_failures_total',
    'Writes to the prediction log that failed (rows stay queued).',
    (s) => s.failures,
  );
  total(
    'pinml_feedback_unmatched_total',
    'Feedback that never met its row within the retention window.',
    (s) => s.unmatchedFeedback,
  );
  new Gauge({
    name: 'pinml_log_degraded',
    help: '1 while the prediction log cannot be written, else 0.',
    registers: [registry],
    collect: fromStatus((s) => (s.state === 'ok' ? 0 : 1)),
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
    predictions(model, pin, counts) {
      const classes = childrenOf(model, pin).classes;
      for (let c = 0; c < counts.length; c++) {
        const n = counts[c] as number;
        if (n > 0) classes[c]?.inc(n);
      }
    },
    answered(model, pin, seconds) {
      const c = childrenOf(model, pin);
      c.requests.inc();
      c.latency.observe(seconds);
    },
    shadowFailure(model) {
      shadowFailures.inc({ model: model.name, version: String(model.version) });
    },
    reconcile(trigger, result, seconds) {
      reconciles.inc({ trigger, result });
      reconcileSeconds.observe(seconds);
      if (result !== 'failed') lastSuccess.set(Date.now() / 1000);
    },
    loadFailure(model) {
      loadFailures.inc({ model });
    },
    served(models, degraded, roles = new Map(), commit = null) {
      modelInfo.reset();
      gateAccuracy.reset();
      gateF1.reset();
      servedCommit.reset();
      if (commit !== null) servedCommit.set({ commit }, 1);
      const info = (m: ServedModel, pin: Pin): void => {
        const version = { model: m.name, version: String(m.version) };
        gateAccuracy.set(version, m.card.gate.thresholds.minAccuracy);
        gateF1.set(version, m.card.gate.thresholds.minMacroF1);
        modelInfo.set(
          {
            model: m.name,
            version: String(m.version),
            pin,
            commit: m.commit,
            kind: m.predictor.kind,
            sha256: m.card.artifact.sha256,
          },
          1,
        );
      };
      for (const m of models) info(m, 'production');
      for (const r of roles.values()) {
        if (r.canary !== undefined) info(r.canary.model, 'canary');
        if (r.shadow !== undefined) info(r.shadow, 'shadow');
      }
      degradedGauge.set(degraded ? 1 : 0);
    },
    fetched(commit) {
      refCommit.reset();
      refCommit.set({ commit }, 1);
    },
    logStatus(read) {
      status = read;
    },
    live(figures) {
      for (const g of Object.values(liveGauges)) g.reset();
      for (const f of figures) {
        const labels = { model: f.model, version: String(f.version), pin: f.pin };
        liveGauges.rows.set(labels, f.rows);
        liveGauges.labelled.set(labels, f.labelled);
        liveGauges.sampleRate.set(labels, f.sampleRate);
        if (f.accuracy !== null) {
          liveGauges.accuracy.set(labels, f.accuracy.estimate);
          liveGauges.accuracyLow.set(labels, f.accuracy.low);
          liveGauges.accuracyHigh.set(labels, f.accuracy.high);
        }
        if (f.macroF1 !== null) {
          liveGauges.f1.set(labels, f.macroF1.estimate);
          liveGauges.f1Low.set(labels, f.macroF1.low);
          liveGauges.f1High.set(labels, f.macroF1.high);
        }
        for (const [cls, share] of Object.entries(f.predictedShare)) {
          liveGauges.share.set({ ...labels, class: cls }, share);
        }
      }
    },
    drift(figures) {
      driftPsi.reset();
      driftRows.reset();
      driftSeverity.reset();
      for (const f of figures) {
        const version = { model: f.model, version: String(f.version) };
        driftRows.set(version, f.rows);
        for (const { feature, psi } of f.features) driftPsi.set({ ...version, feature }, psi);
        driftSeverity.set({ model: f.model }, SEVERITY_VALUE[f.severity]);
      }
    },
  };
}
