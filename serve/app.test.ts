import { describe, expect, it, vi } from 'vitest';

import { createApp } from './app.ts';
import { COMMIT_HEADER, VERSION_HEADER } from './context.ts';
import type { ServedModel } from './models.ts';
import { errorSchema, healthSchema, predictResponseSchema } from './openapi.ts';
import { oipInferResponseSchema } from './oip.ts';
import { predictProba } from '../pipeline/models/predictor.ts';
import type { ReconcileResult, ServingState } from './reconcile.ts';
import {
  COMMIT_A,
  COMMIT_B,
  depsOf,
  irisForest,
  irisLogistic,
  irisRows,
  stateOf,
} from './testing/fixtures.ts';
import { signBody } from './webhook.ts';

const forest = await irisForest(COMMIT_A);
const logistic = await irisLogistic('iris-lr', 2, COMMIT_B);
const rows = await irisRows();
const FEATURES = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];
const rowObject = (r: readonly number[]): Record<string, number> =>
  Object.fromEntries(FEATURES.map((f, j) => [f, r[j] as number]));

const one = createApp(depsOf(stateOf([forest])));
const two = createApp(depsOf(stateOf([forest, logistic])));

function post(path: string, body: unknown, headers: Record<string, string> = {}): Request {
  return new Request(`http://pinml.test${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

async function json(res: Response): Promise<Record<string, unknown>> {
  return (await res.json()) as Record<string, unknown>;
}

function probabilitiesOf(model: ServedModel, row: readonly number[]): Record<string, number> {
  const p = predictProba(model.predictor, [row])[0] as number[];
  return Object.fromEntries(model.classKeys.map((k, j) => [k, p[j] as number]));
}

describe('POST /predict', () => {
  it('answers one row with the class, its probabilities, the version and the commit', async () => {
    const row = rows[60] as number[];
    const res = await one.request(post('/predict', { inputs: rowObject(row), id: 'r1' }));
    expect(res.status).toBe(200);
    expect(res.headers.get(VERSION_HEADER)).toBe('iris@1');
    expect(res.headers.get(COMMIT_HEADER)).toBe(COMMIT_A);
    const body = await json(res);
    expect(predictResponseSchema.parse(body)).toBeTruthy();
    const probabilities = probabilitiesOf(forest, row);
    const best = Object.entries(probabilities).sort((a, b) => b[1] - a[1])[0]?.[0];
    expect(body).toEqual({
      model: 'iris',
      version: 1,
      commit: COMMIT_A,
      id: 'r1',
      prediction: { class: best, probabilities },
    });
  });

  it('answers a batch in order, each row as the compiled model predicts it', async () => {
    const batch = [rows[0], rows[70], rows[140]] as number[][];
    const res = await one.request(
      post('/predict', { model: 'iris', inputs: batch.map(rowObject) }),
    );
    expect(res.status).toBe(200);
    const body = await json(res);
    const predictions = body.predictions as {
      class: string;
      probabilities: Record<string, number>;
    }[];
    expect(predictions.map((p) => p.probabilities)).toEqual(
      batch.map((r) => probabilitiesOf(forest, r)),
    );
    expect(predictions[0]?.class).toBe('setosa');
    expect(predictions[2]?.class).toBe('virginica');
  });

  it('picks the model named in the body or the path when several are served', async () => {
    const row = rowObject(rows[100] as number[]);
    const byBody = await two.request(post('/predict', { model: 'iris-lr', inputs: row }));
    expect(byBody.status).toBe(200);
    expect(byBody.headers.get(VERSION_HEADER)).toBe('iris-lr@2');
    expect(byBody.headers.get(COMMIT_HEADER)).toBe(COMMIT_B);
    expect((await json(byBody)).prediction).toEqual({
      class: 'virginica',
      probabilities: probabilitiesOf(logistic, rows[100] as number[]),
    });
    const byPath = await two.request(post('/models/iris/predict', { inputs: row }));
    expect(byPath.status).toBe(200);
    expect(byPath.headers.get(VERSION_HEADER)).toBe('iris@1');
    expect(((await json(byPath)) as { version: number }).version).toBe(1);
  });

  const good = rowObject(rows[0] as number[]);
  const { petal_width: _drop, ...missing } = good;
  it.each([
    ['a missing feature', { inputs: missing }, 400, 'inputs.petal_width', /is missing/],
    ['an extra feature', { inputs: { ...good, colour: 1 } }, 400, 'inputs.colour', /not a feature/],
    [
      'a string',
      { inputs: { ...good, sepal_width: '3.1' } },
      400,
      'inputs.sepal_width',
      /finite number, got a string/,
    ],
    ['null', { inputs: { ...good, petal_length: null } }, 400, 'inputs.petal_length', /got null/],
    [
      'a boolean',
      { inputs: { ...good, petal_length: true } },
      400,
      'inputs.petal_length',
      /got a boolean/,
    ],
    [
      'a row that is a list',
      { inputs: [[5.1, 3.5, 1.4, 0.2]] },
      400,
      'inputs[0]',
      /must be an object of features/,
    ],
    ['a nested batch', { inputs: [[good]] }, 400, 'inputs[0]', /got an array/],
    [
      'a bad row in a batch',
      { inputs: [good, good, { ...good, sepal_length: {} }] },
      400,
      'inputs[2].sepal_length',
      /got an object/,
    ],
    ['an empty batch', { inputs: [] }, 400, 'inputs', /empty batch/],
    [
      'a batch over the limit',
      { inputs: Array.from({ length: 6 }, () => good) },
      400,
      'inputs',
      /6 rows is over this server's limit of 5/,
    ],
    ['no inputs', { model: 'iris' }, 400, 'inputs', /is missing/],
    ['inputs that are a number', { inputs: 4 }, 400, 'inputs', /must be an object of features/],
    ['an unknown field', { inputs: good, threshold: 0.5 }, 400, 'threshold', /not a field/],
    [
      'a model that is not a string',
      { model: 3, inputs: good },
      400,
      'model',
      /must be a model name/,
    ],
    ['a body that is a list', [good], 400, '(body)', /must be a JSON object/],
    ['a body that is null', 'null', 400, '(body)', /must be a JSON object/],
    [
      'a version that is not an integer',
      { version: 1.5, inputs: good },
      400,
      'version',
      /positive integer/,
    ],
    [
      'a version that is not served',
      { version: 2, inputs: good },
      404,
      'version',
      /iris@2 is not served: iris@1 is/,
    ],
    [
      'a model that is not served',
      { model: 'roses', inputs: good },
      404,
      'model',
      /no model named "roses"/,
    ],
  ])('refuses %s with a 4xx naming the field', async (_what, body, status, field, message) => {
    const res = await one.request(post('/predict', body));
    expect(res.status).toBe(status);
    const error = errorSchema.parse(await res.json());
    expect(error.field).toBe(field);
    expect(error.error).toMatch(message);
    expect(res.headers.get(COMMIT_HEADER)).toBe(COMMIT_A);
  });

  it.each([
    ['Infinity (1e999)', '1e999', 'Infinity'],
    ['-Infinity', '-1e999', '-Infinity'],
  ])('refuses %s, which JSON.parse lets through', async (_what, literal, got) => {
    const text = JSON.stringify({ inputs: good }).replace(
      '"petal_width":0.2',
      `"petal_width":${literal}`,
    );
    const res = await one.request(post('/predict', text));
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      field: 'inputs.petal_width',
      error: expect.stringContaining(`got ${got}`) as unknown,
    });
  });

  it.each([
    ['NaN', '{"inputs": {"sepal_length": NaN}}'],
    ['a truncated body', '{"inputs": {"sepal_length": 5.1,'],
    ['an empty body', ''],
  ])('refuses malformed JSON (%s) with 400 invalid_json', async (_what, text) => {
    const res = await one.request(post('/predict', text));
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: 'invalid_json', field: '(body)' });
  });

  it('refuses a body that is not declared as JSON with 415', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded']) {
      const res = await one.request(post('/predict', { inputs: good }, { 'content-type': type }));
      expect(res.status).toBe(415);
      expect(await res.json()).toMatchObject({ code: 'unsupported_media_type' });
    }
    const bare = await one.request(
      new Request('http://pinml.test/predict', { method: 'POST', body: '{}' }),
    );
    expect([415]).toContain(bare.status);
  });

  it('accepts application/json with a charset and vendor +json types', async () => {
    for (const type of ['application/json; charset=utf-8', 'application/vnd.pinml+json']) {
      const res = await one.request(post('/predict', { inputs: good }, { 'content-type': type }));
      expect(res.status).toBe(200);
    }
  });

  it('refuses a body over the limit with 413, streamed or with a length', async () => {
    const big = JSON.stringify({ inputs: good, id: 'x'.repeat(5000) });
    const res = await one.request(post('/predict', big));
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ code: 'payload_too_large' });
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(big));
        controller.close();
      },
    });
    const init = {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: stream,
      duplex: 'half' as const,
    };
    const chunked = await one.request(new Request('http://pinml.test/predict', init));
    expect(chunked.status).toBe(413);
  });

  it('asks which model when several are served and none is named', async () => {
    const res = await two.request(post('/predict', { inputs: good }));
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      field: 'model',
      error: expect.stringMatching(/iris, iris-lr/) as unknown,
    });
  });

  it('refuses a body model that contradicts the path', async () => {
    const res = await two.request(post('/models/iris/predict', { model: 'iris-lr', inputs: good }));
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ field: 'model' });
  });

  it('answers 404 for an unknown model in the path and 503 while nothing is served', async () => {
    const res = await two.request(post('/models/roses/predict', { inputs: good }));
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ code: 'model_not_found' });
    const empty = createApp(depsOf(stateOf([], { reconciledAt: null, commit: null })));
    const waiting = await empty.request(post('/predict', { inputs: good }));
    expect(waiting.status).toBe(503);
    expect(waiting.headers.get(VERSION_HEADER)).toBe('none');
    expect(waiting.headers.get(COMMIT_HEADER)).toBe('none');
    const broken = createApp(depsOf(stateOf([], { pinned: ['iris'] })));
    const notLoaded = await broken.request(post('/models/iris/predict', { inputs: good }));
    expect(notLoaded.status).toBe(503);
    expect(await notLoaded.json()).toMatchObject({ code: 'model_not_ready' });
  });

  it('never answers a 5xx to random bodies', async () => {
    const values: unknown[] = [
      null,
      true,
      0,
      -1,
      1e308,
      '',
      'x',
      [],
      {},
      [[]],
      [{}],
      { a: 1 },
      good,
      [good],
    ];
    let seed = 7;
    const pick = (): unknown => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return values[seed % values.length];
    };
    for (let i = 0; i < 200; i++) {
      const body: Record<string, unknown> = { inputs: pick() };
      if (i % 3 === 0) body.model = pick();
      if (i % 5 === 0) body.version = pick();
      if (i % 7 === 0) body.inputs = { ...good, [FEATURES[i % 4] as string]: pick() };
      const res = await one.request(post('/predict', body));
      expect(res.status, JSON.stringify(body)).toBeLessThan(500);
    }
  });
});

describe('Open Inference Protocol v2', () => {
  it('answers live, ready and server metadata', async () => {
    expect(await (await one.request('/v2/health/live')).json()).toEqual({ live: true });
    const ready = await one.request('/v2/health/ready');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ready: true });
    for (const path of ['/v2', '/v2/']) {
      expect(await (await one.request(path)).json()).toEqual({
        name: 'pinml',
        version: '0.0.0-test',
        extensions: [],
      });
    }
    const starting = createApp(depsOf(stateOf([], { reconciledAt: null, commit: null })));
    const notReady = await starting.request('/v2/health/ready');
    expect(notReady.status).toBe(400);
    expect(await notReady.json()).toEqual({ ready: false });
  });

  it('describes a model: one FP64 tensor per feature, label and probabilities', async () => {
    for (const path of ['/v2/models/iris', '/v2/models/iris/versions/1']) {
      const res = await one.request(path);
      expect(res.status).toBe(200);
      expect(res.headers.get(VERSION_HEADER)).toBe('iris@1');
      expect(await res.json()).toMatchObject({
        name: 'iris',
        versions: ['1'],
        platform: 'pinml/ml-random-forest',
        inputs: FEATURES.map((name) => ({ name, datatype: 'FP64', shape: [-1] })),
        outputs: [
          { name: 'label', datatype: 'BYTES', shape: [-1] },
          { name: 'probabilities', datatype: 'FP64', shape: [-1, 3] },
        ],
      });
    }
    expect((await one.request('/v2/models/iris/versions/2')).status).toBe(404);
    expect((await one.request('/v2/models/iris/versions/latest')).status).toBe(404);
    expect((await one.request('/v2/models/roses')).status).toBe(404);
  });

  it('answers model readiness', async () => {
    const ready = await one.request('/v2/models/iris/ready');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ name: 'iris', ready: true });
    expect((await one.request('/v2/models/iris/versions/1/ready')).status).toBe(200);
    expect((await one.request('/v2/models/roses/ready')).status).toBe(404);
    const broken = createApp(depsOf(stateOf([], { pinned: ['iris'] })));
    const notLoaded = await broken.request('/v2/models/iris/ready');
    expect(notLoaded.status).toBe(400);
    expect(await notLoaded.json()).toEqual({ name: 'iris', ready: false });
  });

  it('infers from one tensor per feature', async () => {
    const batch = [rows[0], rows[120]] as number[][];
    const res = await two.request(
      post('/v2/models/iris-lr/versions/2/infer', {
        id: 'q',
        inputs: FEATURES.map((name, j) => ({
          name,
          datatype: 'FP32',
          shape: [2],
          data: batch.map((r) => r[j]),
        })),
      }),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get(VERSION_HEADER)).toBe('iris-lr@2');
    const body = oipInferResponseSchema.parse(await res.json());
    expect(body).toMatchObject({
      model_name: 'iris-lr',
      model_version: '2',
      id: 'q',
      parameters: { registry_commit: COMMIT_B },
    });
    expect(body.outputs[0]).toEqual({
      name: 'label',
      datatype: 'BYTES',
      shape: [2],
      data: ['setosa', 'virginica'],
    });
    expect(body.outputs[1]).toEqual({
      name: 'probabilities',
      datatype: 'FP64',
      shape: [2, 3],
      data: predictProba(logistic.predictor, batch).flat(),
    });
  });

  it('infers from one [N, d] tensor, flat or nested, and returns only the outputs asked for', async () => {
    const batch = [rows[10], rows[60], rows[110]] as number[][];
    for (const data of [batch.flat(), batch]) {
      const res = await one.request(
        post('/v2/models/iris/infer', {
          inputs: [{ name: 'input-0', datatype: 'FP64', shape: [3, 4], data }],
          outputs: [{ name: 'probabilities' }],
        }),
      );
      expect(res.status).toBe(200);
      const body = oipInferResponseSchema.parse(await res.json());
      expect(body.outputs).toEqual([
        {
          name: 'probabilities',
          datatype: 'FP64',
          shape: [3, 3],
          data: predictProba(forest.predictor, batch).flat(),
        },
      ]);
    }
  });

  const tensor = { name: 'input-0', datatype: 'FP64', shape: [1, 4], data: [5.1, 3.5, 1.4, 0.2] };
  it.each([
    ['no inputs', {}, 'inputs'],
    ['a shape that is not [N, d]', { inputs: [{ ...tensor, shape: [1, 3] }] }, 'inputs[0].shape'],
    [
      'data that does not fill the shape',
      { inputs: [{ ...tensor, shape: [2, 4] }] },
      'inputs[0].data',
    ],
    [
      'a string in the data',
      { inputs: [{ ...tensor, data: [5.1, 'x', 1.4, 0.2] }] },
      'inputs[0].data[1]',
    ],
    [
      'null in the data',
      { inputs: [{ ...tensor, data: [5.1, null, 1.4, 0.2] }] },
      'inputs[0].data[1]',
    ],
    ['a BYTES tensor', { inputs: [{ ...tensor, datatype: 'BYTES' }] }, 'inputs[0].datatype'],
    ['an empty batch', { inputs: [{ ...tensor, shape: [0, 4], data: [] }] }, 'inputs[0].shape'],
    [
      'a batch over the limit',
      { inputs: [{ ...tensor, shape: [6, 4], data: Array(24).fill(1) }] },
      'inputs[0].shape',
    ],
    ['a negative dimension', { inputs: [{ ...tensor, shape: [-1, 4] }] }, 'inputs[0].shape[0]'],
    [
      'an unknown feature tensor',
      {
        inputs: [...FEATURES.slice(0, 3), 'colour'].map((name) => ({
          name,
          datatype: 'FP32',
          shape: [1],
          data: [1],
        })),
      },
      'inputs[3].name',
    ],
    [
      'a missing feature tensor',
      {
        inputs: FEATURES.slice(0, 3).map((name) => ({
          name,
          datatype: 'FP32',
          shape: [1],
          data: [1],
        })),
      },
      'inputs',
    ],
    [
      'feature tensors of different lengths',
      {
        inputs: FEATURES.map((name, j) => ({
          name,
          datatype: 'FP32',
          shape: [j === 2 ? 2 : 1],
          data: j === 2 ? [1, 2] : [1],
        })),
      },
      'inputs[2].shape',
    ],
    ['an unknown output', { inputs: [tensor], outputs: [{ name: 'logits' }] }, 'outputs[0].name'],
  ])('refuses %s with 400 naming the field', async (_what, body, field) => {
    const res = await one.request(post('/v2/models/iris/infer', body));
    expect(res.status).toBe(400);
    const error = errorSchema.parse(await res.json());
    expect(error.field).toBe(field);
  });

  it('answers 404 for an unknown model or version, and 415 without a JSON content type', async () => {
    const body = { inputs: [tensor] };
    expect((await one.request(post('/v2/models/roses/infer', body))).status).toBe(404);
    const wrong = await one.request(post('/v2/models/iris/versions/7/infer', body));
    expect(wrong.status).toBe(404);
    expect(await wrong.json()).toMatchObject({ code: 'version_not_found' });
    expect(
      (await one.request(post('/v2/models/iris/infer', body, { 'content-type': 'text/plain' })))
        .status,
    ).toBe(415);
  });
});

describe('health, readiness and models', () => {
  it('says ok and ready when every pinned model is served', async () => {
    const res = await one.request('/health');
    expect(res.status).toBe(200);
    const body = healthSchema.parse(await res.json());
    expect(body).toMatchObject({
      status: 'ok',
      ready: true,
      commit: COMMIT_A,
      models: [{ name: 'iris', version: 1 }],
    });
    const ready = await one.request('/ready');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ready: true, reasons: [] });
  });

  it('stays 200 but says degraded, with the reason, while a pinned version fails to load', async () => {
    const problem = {
      model: 'iris',
      version: 2,
      commit: COMMIT_B,
      code: 'E_REGISTRY',
      message: 'artifact is corrupt',
    };
    const app = createApp(depsOf(stateOf([forest], { commit: COMMIT_B, problems: [problem] })));
    const res = await app.request('/health');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      status: 'degraded',
      ready: true,
      problems: [problem],
      models: [{ version: 1, commit: COMMIT_A }],
    });
    expect(res.headers.get(COMMIT_HEADER)).toBe(COMMIT_B);
  });

  it('is not ready while starting, with nothing pinned, or with a pinned model not loaded', async () => {
    const cases: [Partial<ServingState>, RegExp][] = [
      [{ reconciledAt: null, commit: null }, /first reconcile/],
      [{ pinned: [] }, /no model is pinned/],
      [{ pinned: ['iris'] }, /iris is pinned but no version/],
    ];
    for (const [extra, reason] of cases) {
      const app = createApp(depsOf(stateOf([], extra)));
      const res = await app.request('/ready');
      expect(res.status).toBe(503);
      expect(((await res.json()) as { reasons: string[] }).reasons.join()).toMatch(reason);
      expect((await app.request('/health')).status).toBe(200);
    }
    const starting = createApp(depsOf(stateOf([], { reconciledAt: null, commit: null })));
    expect(await (await starting.request('/health')).json()).toMatchObject({
      status: 'starting',
      ready: false,
    });
  });

  it('turns readiness off while draining', async () => {
    const app = createApp(depsOf(stateOf([forest]), { draining: () => true }));
    expect((await app.request('/ready')).status).toBe(503);
    expect((await app.request('/v2/health/ready')).status).toBe(400);
    expect((await app.request('/v2/health/live')).status).toBe(200);
  });

  it('lists the served models with pin, commit, card summary and signature', async () => {
    const res = await two.request('/models');
    expect(res.headers.get(VERSION_HEADER)).toBe('iris@1, iris-lr@2');
    const body = (await res.json()) as { models: Record<string, unknown>[] };
    expect(body.models.map((m) => [m.name, m.version, m.commit, m.kind])).toEqual([
      ['iris', 1, COMMIT_A, 'ml-random-forest'],
      ['iris-lr', 2, COMMIT_B, 'logistic-regression'],
    ]);
    expect(body.models[0]).toMatchObject({
      signature: forest.card.signature,
      card: {
        trainingKey: forest.card.trainingKey,
        artifact: forest.card.artifact,
        candidate: forest.card.candidate,
      },
    });
    const single = await two.request('/models/iris-lr');
    expect(single.status).toBe(200);
    expect(single.headers.get(VERSION_HEADER)).toBe('iris-lr@2');
    expect(single.headers.get(COMMIT_HEADER)).toBe(COMMIT_B);
    const unknown = await two.request('/models/roses');
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ code: 'model_not_found' });
  });
});

describe('metrics, OpenAPI and docs', () => {
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
    expect(text).toContain('pinml_predictions_total{model="iris",version="1",class="setosa"} 2');
    expect(text).toContain('pinml_predictions_total{model="iris",version="1",class="virginica"} 1');
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
    expect(text).toContain(`pinml_model_info{model="iris",version="1",commit="${COMMIT_A}"`);
  });

  it('generates the OpenAPI document from the request schemas, one path per served model', async () => {
    const res = await two.request('/openapi.json');
    expect(res.status).toBe(200);
    const doc = (await res.json()) as {
      openapi: string;
      paths: Record<string, unknown>;
      components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
    };
    expect(doc.openapi).toBe('3.1.0');
    for (const path of [
      '/predict',
      '/models/iris/predict',
      '/models/iris-lr/predict',
      '/health',
      '/ready',
      '/metrics',
      '/v2/health/live',
      '/v2/models/{model}/versions/{version}/infer',
      '/webhooks/github',
    ]) {
      expect(doc.paths, path).toHaveProperty([path]);
    }
    const iris = doc.components.schemas.PredictRequest_iris;
    expect(iris?.properties?.inputs).toMatchObject({
      anyOf: [
        { type: 'object', required: FEATURES, additionalProperties: false },
        { type: 'array', minItems: 1, maxItems: 5 },
      ],
    });
  });

  it('serves a docs page that needs nothing from the network', async () => {
    const res = await one.request('/docs');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await res.text();
    expect(html).toContain("fetch('/openapi.json')");
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
  });
});

describe('POST /webhooks/github', () => {
  const SECRET = "It's a Secret to Everybody";
  const push = JSON.stringify({ ref: 'refs/heads/main', after: COMMIT_B });
  function delivery(
    body: string,
    event: string,
    signature: string | null,
    type = 'application/json',
  ): Request {
    const headers: Record<string, string> = {
      'content-type': type,
      'x-github-event': event,
      'x-github-delivery': 'd1',
    };
    if (signature !== null) headers['x-hub-signature-256'] = signature;
    return new Request('http://pinml.test/webhooks/github', { method: 'POST', headers, body });
  }
  function appWithWebhook(): {
    app: ReturnType<typeof createApp>;
    reconcile: ReturnType<typeof vi.fn>;
  } {
    const reconcile = vi.fn(() => Promise.resolve({} as ReconcileResult));
    return {
      app: createApp(depsOf(stateOf([forest]), { webhookSecret: SECRET, reconcile })),
      reconcile,
    };
  }

  it('matches GitHub’s documented signature example', () => {
    // docs.github.com, "Validating webhook deliveries": secret and payload as given there.
    expect(signBody(SECRET, 'Hello, World!')).toBe(
      'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17',
    );
  });

  it('reconciles at once on a signed push to the followed branch', async () => {
    const { app, reconcile } = appWithWebhook();
    const res = await app.request(delivery(push, 'push', signBody(SECRET, push)));
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ accepted: true, ref: 'refs/heads/main', after: COMMIT_B });
    expect(reconcile).toHaveBeenCalledWith('webhook');
  });

  it('accepts the form-encoded payload GitHub can send', async () => {
    const { app, reconcile } = appWithWebhook();
    const body = `payload=${encodeURIComponent(push)}`;
    const res = await app.request(
      delivery(body, 'push', signBody(SECRET, body), 'application/x-www-form-urlencoded'),
    );
    expect(res.status).toBe(202);
    expect(reconcile).toHaveBeenCalledTimes(1);
  });

  it.each([
    ['a missing signature', null],
    ['a wrong signature', signBody('another secret', push)],
    ['a signature of another body', signBody(SECRET, `${push} `)],
    ['a truncated signature', signBody(SECRET, push).slice(0, 30)],
    ['a sha1 signature', 'sha1=0123456789abcdef0123456789abcdef01234567'],
  ])('refuses %s with 401 and changes nothing', async (_what, signature) => {
    const { app, reconcile } = appWithWebhook();
    const res = await app.request(delivery(push, 'push', signature));
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({
      code: 'invalid_signature',
      field: 'X-Hub-Signature-256',
    });
    expect(reconcile).not.toHaveBeenCalled();
  });

  it('answers a ping, and ignores pushes to other branches and other events', async () => {
    const { app, reconcile } = appWithWebhook();
    const ping = JSON.stringify({ zen: 'Keep it logically awesome.' });
    const pong = await app.request(delivery(ping, 'ping', signBody(SECRET, ping)));
    expect(pong.status).toBe(200);
    expect(await pong.json()).toMatchObject({ ok: true, zen: 'Keep it logically awesome.' });
    const other = JSON.stringify({ ref: 'refs/heads/pinml/promote-iris' });
    const ignored = await app.request(delivery(other, 'push', signBody(SECRET, other)));
    expect(ignored.status).toBe(202);
    expect(await ignored.json()).toMatchObject({ accepted: false });
    const issue = await app.request(delivery(push, 'issues', signBody(SECRET, push)));
    expect(issue.status).toBe(202);
    const bad = await app.request(delivery('not json', 'push', signBody(SECRET, 'not json')));
    expect(bad.status).toBe(400);
    expect(reconcile).not.toHaveBeenCalled();
  });

  it('answers 404 when no secret is configured', async () => {
    const res = await one.request(delivery(push, 'push', signBody(SECRET, push)));
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ code: 'webhook_disabled' });
  });
});

describe('every response', () => {
  it('carries the model version and registry commit headers, errors and 404s included', async () => {
    const requests: (string | Request)[] = [
      '/health',
      '/ready',
      '/models',
      '/models/iris',
      '/models/roses',
      '/metrics',
      '/openapi.json',
      '/docs',
      '/v2',
      '/v2/health/live',
      '/v2/health/ready',
      '/v2/models/iris',
      '/v2/models/iris/ready',
      '/nowhere',
      post('/predict', { inputs: {} }),
      post('/predict', 'x'),
      post('/webhooks/github', {}),
      post('/v2/models/iris/infer', {}),
    ];
    for (const r of requests) {
      const res = await one.request(r);
      const what = typeof r === 'string' ? r : r.url;
      expect(res.headers.get(VERSION_HEADER), what).toMatch(/^iris@1$/);
      expect(res.headers.get(COMMIT_HEADER), what).toBe(COMMIT_A);
    }
  });
});
