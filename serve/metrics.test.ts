import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';

import { SeriesHistogram, createMetrics } from './metrics.ts';
import { irisForest } from './testing/fixtures.ts';

describe('SeriesHistogram', () => {
  it("renders the text prom-client's Histogram renders for the same observations", async () => {
    const config = {
      name: 'x_duration_seconds',
      help: 'Time.',
      labelNames: ['method', 'route'] as const,
      buckets: [0.001, 0.01, 0.1, 1],
    };
    const theirs = new Registry();
    const ours = new Registry();
    const histogram = new Histogram({ ...config, registers: [theirs] });
    const series = new SeriesHistogram(config);
    ours.registerMetric(series as unknown as Histogram);
    const values = [0.0005, 0.001, 0.002, 0.05, 0.7, 3, 0.01, 0.00001, 1, 0.3];
    for (const [i, v] of values.entries()) {
      const labels = i % 3 === 0 ? ['GET', '/a'] : ['POST', '/b'];
      histogram.labels(...labels).observe(v);
      series.series(labels).observe(v);
    }
    const text = await ours.metrics();
    expect(text).toContain('x_duration_seconds_bucket{le="0.01",method="POST",route="/b"} 3');
    expect(text).toBe(await theirs.metrics());

    histogram.reset();
    series.reset();
    expect(await ours.metrics()).toBe(await theirs.metrics());
  });
});

describe('createMetrics', () => {
  it('shows every request and prediction counted before a scrape, and adds the later ones', async () => {
    const metrics = createMetrics({ defaults: false });
    const iris = await irisForest();
    metrics.request('POST', '/predict', 200, 0.0004);
    metrics.request('POST', '/predict', 200, 0.002);
    metrics.request('POST', '/predict', 400, 0.0001);
    metrics.predictions(iris, Uint32Array.from([2, 0, 1]));
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
    expect(first).toContain('pinml_predictions_total{model="iris",version="1",class="setosa"} 2');
    expect(first).not.toContain('class="versicolor"');

    metrics.request('POST', '/predict', 200, 0.03);
    // A copy of the served model with a newer commit counts in the same series.
    metrics.predictions({ ...iris, commit: 'c'.repeat(40) }, Uint32Array.from([1, 1, 0]));
    const second = await metrics.registry.metrics();
    expect(second).toContain(
      'pinml_http_requests_total{method="POST",route="/predict",status="200"} 3',
    );
    expect(second).toContain(
      'pinml_http_request_duration_seconds_count{method="POST",route="/predict"} 4',
    );
    expect(second).toContain('pinml_predictions_total{model="iris",version="1",class="setosa"} 3');
    expect(second).toContain(
      'pinml_predictions_total{model="iris",version="1",class="versicolor"} 1',
    );
  });
});
