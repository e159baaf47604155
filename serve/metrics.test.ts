import { describe, expect, it } from 'vitest';

import { createMetrics } from './metrics.ts';
import { irisForest } from './testing/fixtures.ts';

describe('createMetrics', () => {
  it('shows every request and prediction counted before a scrape, and adds the later ones', async () => {
    const metrics = createMetrics({ defaults: false });
    const iris = await irisForest();
    metrics.request('POST', '/predict', 200, 0.0004);
    metrics.request('POST', '/predict', 200, 0.002);
    metrics.request('POST', '/predict', 400, 0.0001);
    metrics.predictions(iris, 'production', Uint32Array.from([2, 0, 1]));
    const first = await metrics.registry.metrics();
    expect(first).toContain(
      'pinml_http_requests_total{method="POST",route="/predict",status="200"} 2',
    );
    expect(first).toContain(
      'pinml_http_requests_total{method="POST",route="/predict",status="400"} 1',
    );
    expect(first).toContain(
      'pinml_http_request_duration_seconds_bucket{le="0.0005",method="POST",route="/predict"} 2',
    );
    expect(first).toContain(
      'pinml_http_request_duration_seconds_count{method="POST",route="/predict"} 3',
    );
    expect(first).toContain(
      'pinml_predictions_total{model="iris",version="1",pin="production",class="setosa"} 2',
    );
    expect(first).not.toContain('class="versicolor"');

    metrics.request('POST', '/predict', 200, 0.03);
    // A copy of the served model with a newer commit counts in the same series.
    metrics.predictions(
      { ...iris, commit: 'c'.repeat(40) },
      'production',
      Uint32Array.from([1, 1, 0]),
    );
    const second = await metrics.registry.metrics();
    expect(second).toContain(
      'pinml_http_requests_total{method="POST",route="/predict",status="200"} 3',
    );
    expect(second).toContain(
      'pinml_http_request_duration_seconds_count{method="POST",route="/predict"} 4',
    );
    expect(second).toContain(
      'pinml_predictions_total{model="iris",version="1",pin="production",class="setosa"} 3',
    );
    expect(second).toContain(
      'pinml_predictions_total{model="iris",version="1",pin="production",class="versicolor"} 1',
    );
  });

  it('counts requests, latency and classes per version and pin, and failed shadows', async () => {
    const metrics = createMetrics({ defaults: false });
    const iris = await irisForest();
    metrics.answered(iris, 'production', 0.0004);
    metrics.answered(iris, 'canary', 0.002);
    metrics.answered(iris, 'canary', 0.002);
    metrics.predictions(iris, 'shadow', Uint32Array.from([0, 3, 0]));
    metrics.shadowFailure(iris);
    const text = await metrics.registry.metrics();
    expect(text).toContain(
      'pinml_prediction_requests_total{model="iris",version="1",pin="production"} 1',
    );
    expect(text).toContain(
      'pinml_prediction_requests_total{model="iris",version="1",pin="canary"} 2',
    );
    expect(text).toContain(
      'pinml_prediction_duration_seconds_bucket{le="0.001",model="iris",version="1",pin="canary"} 0',
    );
    expect(text).toContain(
      'pinml_prediction_duration_seconds_bucket{le="0.0025",model="iris",version="1",pin="canary"} 2',
    );
    expect(text).toContain(
      'pinml_predictions_total{model="iris",version="1",pin="shadow",class="versicolor"} 3',
    );
    expect(text).toContain('pinml_shadow_failures_total{model="iris",version="1"} 1');
  });
  it('exports the commits, the gates of the served versions and the drift, each replacing the last', async () => {
    const metrics = createMetrics({ defaults: false });
    const iris = await irisForest();
    metrics.fetched('b'.repeat(40));
    metrics.served([iris], false, new Map(), 'a'.repeat(40));
    metrics.drift([
      {
        model: 'iris',
        version: 1,
        rows: 300,
        severity: 'medium',
        features: [
          { feature: 'sepal_width', psi: 0.17 },
          { feature: 'petal_length', psi: 0.02 },
        ],
      },
    ]);
    const text = await metrics.registry.metrics();
    expect(text).toContain(`pinml_ref_commit_info{commit="${'b'.repeat(40)}"} 1`);
    expect(text).toContain(`pinml_served_commit_info{commit="${'a'.repeat(40)}"} 1`);
    const { minAccuracy, minMacroF1 } = iris.card.gate.thresholds;
    expect(text).toContain(`pinml_gate_min_accuracy{model="iris",version="1"} ${minAccuracy}`);
    expect(text).toContain(`pinml_gate_min_macro_f1{model="iris",version="1"} ${minMacroF1}`);
    expect(text).toContain('pinml_drift_psi{model="iris",version="1",feature="sepal_width"} 0.17');
    expect(text).toContain('pinml_drift_rows{model="iris",version="1"} 300');
    expect(text).toContain('pinml_drift_severity{model="iris"} 2');

    metrics.fetched('c'.repeat(40));
    metrics.served([], false, new Map(), 'c'.repeat(40));
    metrics.drift([]);
    const later = await metrics.registry.metrics();
    expect(later).not.toContain('b'.repeat(40));
    expect(later).not.toContain(`commit="${'a'.repeat(40)}"`);
    expect(later).not.toMatch(/pinml_gate_min_accuracy\{/);
    expect(later).not.toMatch(/pinml_drift_psi\{/);
  });
});
