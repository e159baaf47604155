import { describe, expect, it } from 'vitest';

import { predictProba } from '../../pipeline/models/predictor.ts';
import { createApp } from '../app.ts';
import { VERSION_HEADER } from '../answer/respond.ts';
import { COMMIT_B, depsOf, stateOf } from '../testing/fixtures.ts';
import { FEATURES, forest, logistic, one, post, rows, two } from '../testing/routes.ts';
import { errorSchema } from './declare.ts';
import { oipInferResponseSchema } from './oip.ts';

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
