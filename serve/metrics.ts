/**
 * The server's Prometheus metrics, in a registry of their own (so several apps can live in one
 * process, as in tests). Names follow Prometheus conventions: `_total` counters, `_seconds`
 * durations, `_info` gauges of value 1 whose labels carry the facts.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

import type { ServedModel } from './models.ts';

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
  // The per-request series are counted in cells of our own (plain additions, no label objects,
  // no label hashing, which prom-client does on every call, even for a bound child) and handed
  // to prom-client when it collects, that is on every scrape.
  const requestCells: CounterCell[] = [];
  const requests = new Counter({
    name: 'pinml_http_requests_total',
    help: 'HTTP requests answered, by method, route and status.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
    collect: () => flush(requestCells),
  });
  const latency = new SeriesHistogram({
    name: 'pinml_http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by method and route.',
    labelNames: ['method', 'route'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  });
  // why: the registry takes any object with a name, `get()` and `reset()`; its type lists
  // prom-client's own classes only.
  registry.registerMetric(latency as unknown as Histogram);
  const errors = new Counter({
    name: 'pinml_http_errors_total',
    help: 'Requests answered with an error, by route and error code (internal = a 500).',
    labelNames: ['route', 'code'] as const,
    registers: [registry],
  });
  const predictionCells: CounterCell[] = [];
  const predictions = new Counter({
    name: 'pinml_predictions_total',
    help: 'Predicted rows, by model, version and predicted class.',
    labelNames: ['model', 'version', 'class'] as const,
    registers: [registry],
    collect: () => flush(predictionCells),
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

  // method → route → its cells; a model → one cell per class (shared by the copies of a served
  // model that differ only in their commit).
  const routes = new Map<string, Map<string, RouteCells>>();
  const modelCells = new WeakMap<ServedModel, CounterCell[]>();
  const versionCells = new Map<string, CounterCell[]>();
  const routeCells = (method: string, route: string): RouteCells => {
    let byRoute = routes.get(method);
    if (byRoute === undefined) {
      byRoute = new Map();
      routes.set(method, byRoute);
    }
    let cells = byRoute.get(route);
    if (cells === undefined) {
      cells = { latency: latency.series([method, route]), statuses: new Map() };
      byRoute.set(route, cells);
    }
    return cells;
  };
  const classCells = (model: ServedModel): CounterCell[] => {
    let cells = modelCells.get(model);
    if (cells === undefined) {
      const version = String(model.version);
      const key = `${model.name}\0${version}`;
      cells = versionCells.get(key);
      if (cells === undefined) {
        cells = model.classKeys.map((c) => counterCell(predictions.labels(model.name, version, c)));
        predictionCells.push(...cells);
        versionCells.set(key, cells);
      }
      modelCells.set(model, cells);
    }
    return cells;
  };
  return {
    registry,
    request(method, route, status, seconds) {
      const cells = routes.get(method)?.get(route) ?? routeCells(method, route);
      let counted = cells.statuses.get(status);
      if (counted === undefined) {
        counted = counterCell(requests.labels(method, route, String(status)));
        requestCells.push(counted);
        cells.statuses.set(status, counted);
      }
      counted.pending += 1;
      cells.latency.observe(seconds);
    },
    error(route, code) {
      errors.inc({ route, code });
    },
    predictions(model, counts) {
      const cells = classCells(model);
      for (let c = 0; c < counts.length; c++) {
        const cell = cells[c];
        if (cell !== undefined) cell.pending += counts[c] as number;
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

/** A counter series bound once, and what it counted since prom-client last collected. */
interface CounterCell {
  readonly child: Counter.Internal;
  pending: number;
}

function counterCell(child: Counter.Internal): CounterCell {
  return { child, pending: 0 };
}

/** Hands the pending counts to prom-client (on a scrape). */
function flush(cells: readonly CounterCell[]): void {
  for (const cell of cells) {
    if (cell.pending > 0) {
      cell.child.inc(cell.pending);
      cell.pending = 0;
    }
  }
}

/** The cells of one method and route. */
interface RouteCells {
  readonly latency: HistogramSeries;
  readonly statuses: Map<number, CounterCell>;
}

/** One series of a {@link SeriesHistogram}: observing it is a few additions. */
export class HistogramSeries {
  readonly labels: Readonly<Record<string, string>>;
  readonly #bounds: readonly number[];
  /** Observations per bucket (not cumulative); the last one counts those above every bound. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(labels: Readonly<Record<string, string>>, bounds: readonly number[]) {
    this.labels = labels;
    this.#bounds = bounds;
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const bounds = this.#bounds;
    let i = 0;
    while (i < bounds.length && value > (bounds[i] as number)) i++;
    this.counts[i] = (this.counts[i] as number) + 1;
    this.sum += value;
    this.count += 1;
  }
}

/**
 * A Prometheus histogram whose series are bound once and observed without a label lookup: the
 * same exposition as prom-client's `Histogram` (buckets `le`, `_sum`, `_count`; a series shows
 * once observed, and `reset()` hides them all again), served by the same registry.
 */
export class SeriesHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly labelNames: readonly string[];
  readonly #buckets: readonly number[];
  readonly #series = new Map<string, HistogramSeries>();

  constructor(config: {
    name: string;
    help: string;
    labelNames: readonly string[];
    buckets: readonly number[];
  }) {
    this.name = config.name;
    this.help = config.help;
    this.labelNames = config.labelNames;
    this.#buckets = [...config.buckets].sort((a, b) => a - b);
  }

  /** The series of these label values (in `labelNames` order), made on first use. */
  series(values: readonly string[]): HistogramSeries {
    const key = values.join('\0');
    let s = this.#series.get(key);
    if (s === undefined) {
      const labels = Object.fromEntries(this.labelNames.map((n, i) => [n, values[i] ?? '']));
      s = new HistogramSeries(labels, this.#buckets);
      this.#series.set(key, s);
    }
    return s;
  }

  /** What prom-client's `Histogram.get()` gives, for the registry. */
  get(): Promise<{
    name: string;
    help: string;
    type: string;
    aggregator: string;
    values: { labels: Record<string, string | number>; value: number; metricName: string }[];
  }> {
    const values = [];
    for (const s of this.#series.values()) {
      if (s.count === 0) continue;
      let acc = 0;
      for (let i = 0; i < this.#buckets.length; i++) {
        acc += s.counts[i] as number;
        values.push({
          labels: { le: this.#buckets[i] as number, ...s.labels },
          value: acc,
          metricName: `${this.name}_bucket`,
        });
      }
      values.push(
        { labels: { le: '+Inf', ...s.labels }, value: s.count, metricName: `${this.name}_bucket` },
        { labels: { ...s.labels }, value: s.sum, metricName: `${this.name}_sum` },
        { labels: { ...s.labels }, value: s.count, metricName: `${this.name}_count` },
      );
    }
    return Promise.resolve({
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values,
    });
  }

  reset(): void {
    for (const s of this.#series.values()) {
      s.counts.fill(0);
      s.sum = 0;
      s.count = 0;
    }
  }
}
