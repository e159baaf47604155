import { describe, expect, it } from 'vitest';

import { createApp } from '../app.ts';
import { COMMIT_HEADER, PIN_HEADER, VERSION_HEADER } from '../answer/respond.ts';
import { COMMIT_A, COMMIT_B, depsOf, stateOf } from '../testing/fixtures.ts';
import {
  forest,
  json,
  logistic,
  one,
  post,
  probabilitiesOf,
  rowObject,
  rows,
  two,
} from '../testing/routes.ts';
import { errorSchema } from './declare.ts';
import { predictResponseSchema } from './predict.ts';

describe('POST /predict', () => {
  it('answers one row with the class, its probabilities, the version, the pin and the commit', async () => {
    const row = rows[60] as number[];
    const res = await one.request(post('/predict', { inputs: rowObject(row), id: 'r1' }));
    expect(res.status).toBe(200);
    expect(res.headers.get(VERSION_HEADER)).toBe('iris@1');
    expect(res.headers.get(COMMIT_HEADER)).toBe(COMMIT_A);
    expect(res.headers.get(PIN_HEADER)).toBe('production');
    const body = await json(res);
    expect(predictResponseSchema.parse(body)).toBeTruthy();
    const probabilities = probabilitiesOf(forest, row);
    const best = Object.entries(probabilities).sort((a, b) => b[1] - a[1])[0]?.[0];
    expect(body).toEqual({
      model: 'iris',
      version: 1,
      commit: COMMIT_A,
      pin: 'production',
      id: 'r1',
      prediction: { id: 'r1', class: best, probabilities },
    });
    expect(res.headers.get('x-request-id')).toBe('r1');
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
    // Each row of a batch has its own id in the log: the request id and its index.
    const id = res.headers.get('x-request-id') as string;
    expect(body.id).toBe(id);
    expect(predictions.map((p) => (p as { id?: string }).id)).toEqual([
      `${id}:0`,
      `${id}:1`,
      `${id}:2`,
    ]);
    expect(predictions[2]?.class).toBe('virginica');
  });

  it('picks the model named in the body or the path when several are served', async () => {
    const row = rowObject(rows[100] as number[]);
    const byBody = await two.request(post('/predict', { model: 'iris-lr', inputs: row }));
    expect(byBody.status).toBe(200);
    expect(byBody.headers.get(VERSION_HEADER)).toBe('iris-lr@2');
    expect(byBody.headers.get(COMMIT_HEADER)).toBe(COMMIT_B);
    expect((await json(byBody)).prediction).toMatchObject({
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

  it('shows the right shape to a flat body (the features at the top level, as FastAPI tutorials send them)', async () => {
    const res = await one.request(post('/predict', good));
    expect(res.status).toBe(400);
    const error = errorSchema.parse(await res.json());
    expect(error.field).toBe('inputs');
    expect(error.error).toMatch(
      /the features must be inside "inputs": send \{"inputs": \{"sepal_length":5\.1,/,
    );
  });

  it('refuses JSON nested absurdly deep before parsing it', async () => {
    const deep = `{"inputs": ${'['.repeat(5000)}${']'.repeat(5000)}}`;
    const res = await createApp(
      depsOf(stateOf([forest]), { limits: { bodyBytes: 1 << 20, batchRows: 5 } }),
    ).request(post('/predict', deep));
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      code: 'invalid_json',
      error: expect.stringMatching(/more than 32 deep/) as unknown,
    });
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
});
