import { describe, expect, it } from 'vitest';

import { createApp } from '../app.ts';
import { COMMIT_A, depsOf, stateOf } from '../testing/fixtures.ts';
import { forest, post, rowObject, rows } from '../testing/routes.ts';

describe('GET /metrics', () => {
  it('counts requests, predictions by model, version and class, errors and latency', async () => {
    const deps = depsOf(stateOf([forest]));
    const app = createApp(deps);
    deps.metrics.served([forest], false);
    await app.request(
      post('/predict', {
        inputs: [rows[0], rows[1], rows[149]].map((r) => rowObject(r as number[])),
      }),
    );
    await app.request(post('/predict', { inputs: {} }));
    const res = await app.request('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toContain(
      'pinml_predictions_total{model="iris",version="1",pin="production",class="setosa"} 2',
    );
    expect(text).toContain(
      'pinml_predictions_total{model="iris",version="1",pin="production",class="virginica"} 1',
    );
    expect(text).toContain(
      'pinml_http_requests_total{method="POST",route="/predict",status="200"} 1',
    );
    expect(text).toContain(
      'pinml_http_requests_total{method="POST",route="/predict",status="400"} 1',
    );
    expect(text).toContain('pinml_http_errors_total{route="/predict",code="invalid_input"} 1');
    expect(text).toMatch(
      /pinml_http_request_duration_seconds_bucket\{le="[^"]+",method="POST",route="\/predict"\}/,
    );
    expect(text).toContain(
      `pinml_model_info{model="iris",version="1",pin="production",commit="${COMMIT_A}"`,
    );
    expect(text).toContain(
      'pinml_prediction_requests_total{model="iris",version="1",pin="production"} 1',
    );
  });
});
