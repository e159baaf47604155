import { describe, expect, it } from 'vitest';

import { VERSION_HEADER } from '../answer/respond.ts';
import { createApp } from '../app.ts';
import { depsOf, stateOf } from '../testing/fixtures.ts';
import { forest, logistic, one, post, probabilitiesOf, rows, two } from '../testing/routes.ts';

const FEATURES = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];
const batch = [rows[0], rows[70], rows[140]] as number[][];
/** The class the compiled forest gives each row of `batch`. */
const labels = batch.map((r) => {
  const p = probabilitiesOf(forest, r);
  return Object.entries(p).sort((a, b) => b[1] - a[1])[0]?.[0];
});
const records = batch.map((r) => Object.fromEntries(FEATURES.map((f, j) => [f, r[j]])));

function csv(header: string[], data: (number | string)[][]): Request {
  return new Request('http://pinml.test/invocations', {
    method: 'POST',
    headers: { 'content-type': 'text/csv' },
    body: [header.join(','), ...data.map((r) => r.join(','))].join('\n'),
  });
}

describe('POST /invocations (MLflow scoring protocol)', () => {
  // The request shapes of MLflow's documentation ("Deploy MLflow models": REST API examples).
  it.each([
    ['dataframe_split', { dataframe_split: { columns: FEATURES, data: batch } }],
    [
      'dataframe_split with columns in another order',
      {
        dataframe_split: {
          columns: [...FEATURES].reverse(),
          data: batch.map((r) => [...r].reverse()),
          index: [0, 1, 2],
        },
      },
    ],
    ['dataframe_records', { dataframe_records: records }],
    ['instances as arrays in signature order', { instances: batch }],
    ['instances as objects', { instances: records }],
    ['inputs as arrays (the documented {"inputs": [[…]]})', { inputs: batch }],
    [
      'inputs as columns',
      { inputs: Object.fromEntries(FEATURES.map((f, j) => [f, batch.map((r) => r[j])])) },
    ],
    ['with empty params', { inputs: batch, params: {} }],
  ])('answers %s with the class labels as MLflow does', async (_what, body) => {
    const res = await one.request(post('/invocations', body));
    expect(res.status).toBe(200);
    expect(res.headers.get(VERSION_HEADER)).toBe('iris@1');
    expect(await res.json()).toEqual({ predictions: labels });
  });

  it('answers text/csv with a header row', async () => {
    const res = await one.request(csv(FEATURES, batch));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ predictions: labels });
  });

  it('is told the model by X-Pinml-Model or ?model= when several are served', async () => {
    const body = { inputs: [batch[2]] };
    const byHeader = await two.request(post('/invocations', body, { 'x-pinml-model': 'iris-lr' }));
    expect(byHeader.status).toBe(200);
    expect(byHeader.headers.get(VERSION_HEADER)).toBe('iris-lr@2');
    const best = Object.entries(probabilitiesOf(logistic, batch[2] as number[])).sort(
      (a, b) => b[1] - a[1],
    )[0]?.[0];
    expect(await byHeader.json()).toEqual({ predictions: [best] });
    const byQuery = await two.request(post('/invocations?model=iris@1', body));
    expect(byQuery.status).toBe(200);
    expect(byQuery.headers.get(VERSION_HEADER)).toBe('iris@1');
    const unnamed = await two.request(post('/invocations', body));
    expect(unnamed.status).toBe(400);
    expect(await unnamed.json()).toMatchObject({
      field: 'X-Pinml-Model',
      error_code: 'BAD_REQUEST',
    });
    const wrongVersion = await two.request(post('/invocations?model=iris@7', body));
    expect(wrongVersion.status).toBe(404);
    expect(await wrongVersion.json()).toMatchObject({ error_code: 'RESOURCE_DOES_NOT_EXIST' });
  });

  it.each([
    [
      'no input field',
      { rows: batch },
      400,
      'BAD_REQUEST',
      'rows',
      /exactly one of the input fields/,
    ],
    [
      'two input fields',
      { inputs: batch, instances: batch },
      400,
      'BAD_REQUEST',
      'inputs',
      /exactly one/,
    ],
    ['a list body', [batch], 400, 'BAD_REQUEST', '(body)', /must be a JSON object/],
    [
      'a short row',
      { inputs: [[5.1, 3.5, 1.4]] },
      400,
      'BAD_REQUEST',
      'inputs[0]',
      /has 3 values; a row in signature order has 4/,
    ],
    [
      'a string value',
      { instances: [[5.1, 'x', 1.4, 0.2]] },
      400,
      'BAD_REQUEST',
      'instances[0][1]',
      /finite number, got a string/,
    ],
    [
      'a missing column',
      { dataframe_split: { columns: FEATURES.slice(1), data: batch.map((r) => r.slice(1)) } },
      400,
      'BAD_REQUEST',
      'dataframe_split',
      /is missing sepal_length/,
    ],
    [
      'an unknown column',
      { dataframe_split: { columns: [...FEATURES.slice(1), 'colour'], data: batch } },
      400,
      'BAD_REQUEST',
      'dataframe_split.columns[3]',
      /"colour" is not a feature/,
    ],
    [
      'a ragged row',
      { dataframe_split: { columns: FEATURES, data: [[1, 2, 3]] } },
      400,
      'BAD_REQUEST',
      'dataframe_split.data[0]',
      /4 values/,
    ],
    [
      'a missing record feature',
      { dataframe_records: [{ sepal_length: 1 }] },
      400,
      'BAD_REQUEST',
      'dataframe_records[0].sepal_width',
      /is missing/,
    ],
    [
      'columns of different lengths',
      { inputs: { ...Object.fromEntries(FEATURES.map((f) => [f, [1, 2]])), petal_width: [1] } },
      400,
      'BAD_REQUEST',
      'inputs.petal_width',
      /has 1 values; the first column has 2/,
    ],
    ['an empty batch', { instances: [] }, 400, 'BAD_REQUEST', 'instances', /empty batch/],
    [
      'params the model does not take',
      { inputs: batch, params: { temperature: 1 } },
      400,
      'BAD_REQUEST',
      'params',
      /takes no inference parameters/,
    ],
    ['malformed JSON', '{"inputs": [[5.1,', 400, 'MALFORMED_REQUEST', '(body)', /not valid JSON/],
  ])(
    'refuses %s with MLflow’s error_code and message, and pinml’s field',
    async (_what, body, status, errorCode, field, message) => {
      const res = await one.request(post('/invocations', body));
      expect(res.status).toBe(status);
      const error = (await res.json()) as Record<string, string>;
      expect(error).toMatchObject({ error_code: errorCode, field });
      expect(error.message).toMatch(message);
      expect(error.error).toBe(error.message);
    },
  );

  it('refuses CSV it cannot read, naming the line and column', async () => {
    const bad = await one.request(
      csv(FEATURES, [
        [5.1, 3.5, 1.4, 0.2],
        [5.1, 'abc', 1.4, 0.2],
      ]),
    );
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({
      field: 'line 3, column sepal_width',
      error_code: 'BAD_REQUEST',
    });
    const empty = await one.request(csv(FEATURES, [[5.1, '', 1.4, 0.2]]));
    expect(await empty.json()).toMatchObject({
      message: expect.stringMatching(/empty cell/) as unknown,
    });
    const ragged = await one.request(csv(FEATURES, [[5.1, 3.5]]));
    expect(ragged.status).toBe(400);
    expect(await ragged.json()).toMatchObject({ error_code: 'BAD_REQUEST' });
  });

  it('refuses other content types and charsets with 415', async () => {
    const plain = await one.request(
      post('/invocations', { inputs: batch }, { 'content-type': 'text/plain' }),
    );
    expect(plain.status).toBe(415);
    expect(await plain.json()).toMatchObject({
      code: 'unsupported_media_type',
      error_code: 'BAD_REQUEST',
    });
    const latin = await one.request(
      post(
        '/invocations',
        { inputs: batch },
        { 'content-type': 'application/json; charset=latin-1' },
      ),
    );
    expect(latin.status).toBe(415);
  });
});

describe('GET /ping, /health and /version (MLflow, SageMaker)', () => {
  it('answers ping with 200 when ready and 503 when not', async () => {
    const ok = await one.request('/ping');
    expect(ok.status).toBe(200);
    expect((await one.request('/health')).status).toBe(200);
    const starting = createApp(depsOf(stateOf([], { reconciledAt: null, commit: null })));
    const notReady = await starting.request('/ping');
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toMatchObject({ error_code: 'TEMPORARILY_UNAVAILABLE' });
  });

  it('answers the server version', async () => {
    const res = await one.request('/version');
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('0.0.0-test');
  });
});
