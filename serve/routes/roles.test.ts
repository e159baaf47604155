/**
 * A model with a canary and a shadow, through every prediction protocol: the arm chosen by the
 * request's key, the pin named in headers and bodies, and a shadow that changes nothing in an
 * answer while its predictions are counted per version and pin.
 */
import { describe, expect, it } from 'vitest';

import { KEY_HEADER, PIN_HEADER, VERSION_HEADER } from '../answer/respond.ts';
import { rowReader } from '../answer/rows.ts';
import { createApp } from '../app.ts';
import type { ServedModel, ServedRoles } from '../follow/load-registry.ts';
import type { ServingState } from '../follow/reconcile.ts';
import { COMMIT_B, depsOf, irisLogistic, stateOf } from '../testing/fixtures.ts';
import { FEATURES, forest, json, post, rowObject, rows } from '../testing/routes.ts';

const canary = await irisLogistic('iris', 2, COMMIT_B);
const shadow = await irisLogistic('iris', 3, COMMIT_B);

function withRoles(roles: ServedRoles): ServingState {
  return stateOf([forest], { roles: new Map([['iris', roles]]) });
}

/** The shadow with its features renamed: requests lack one, so reading its rows fails. */
function shadowWithFeatures(features: string[]): ServedModel {
  return {
    ...shadow,
    predictor: { ...shadow.predictor, features },
    inputs: rowReader(features),
  };
}

/** Lets every shadow scheduled so far run (they run in immediates after the answer). */
const shadowsRun = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('a canary', () => {
  const app = createApp(depsOf(withRoles({ canary: { model: canary, weight: 0.2 } })));

  it('answers 20 % ± 2 % of 10,000 requests with distinct keys, naming itself', async () => {
    const row = rowObject(rows[0] as number[]);
    const pins = { production: 0, canary: 0 };
    for (let i = 0; i < 10_000; i++) {
      const res = await app.request(post('/predict', { inputs: row }, { [KEY_HEADER]: `u${i}` }));
      const pin = res.headers.get(PIN_HEADER) as 'production' | 'canary';
      if (i < 100) {
        expect((await json(res)).pin).toBe(pin);
        expect(res.headers.get(VERSION_HEADER)).toBe(pin === 'canary' ? 'iris@2' : 'iris@1');
      }
      pins[pin]++;
    }
    expect(pins.production + pins.canary).toBe(10_000);
    expect(Math.abs(pins.canary / 10_000 - 0.2)).toBeLessThanOrEqual(0.02);
  });

  it('always lands a repeated key on the same arm, from the header or the body', async () => {
    for (let i = 0; i < 50; i++) {
      const key = `user-${i}`;
      const arms = new Set<string | null>();
      for (let j = 0; j < 4; j++) {
        const row = rowObject(rows[(i * 3 + j) % rows.length] as number[]);
        const byHeader = await app.request(
          post('/predict', { inputs: row }, { [KEY_HEADER]: key }),
        );
        const byBody = await app.request(post('/predict', { inputs: [row, row], key }));
        arms.add(byHeader.headers.get(PIN_HEADER)).add(byBody.headers.get(PIN_HEADER));
      }
      expect(arms.size).toBe(1);
    }
  });

  it('chooses by the header over the body key, and by the request id without either', async () => {
    // Keys found to land on different arms at 0.2.
    const { canaryKey, productionKey } = keysOnEachArm(app);
    const row = rowObject(rows[0] as number[]);
    const both = await app.request(
      post(
        '/predict',
        { inputs: row, key: await productionKey },
        { [KEY_HEADER]: await canaryKey },
      ),
    );
    expect(both.headers.get(PIN_HEADER)).toBe('canary');
    const byId = await app.request(
      post('/predict', { inputs: row }, { 'x-request-id': await canaryKey }),
    );
    expect(byId.headers.get(PIN_HEADER)).toBe('canary');
  });

  it('answers a request that insists on a version with that version, in either pin', async () => {
    const row = rowObject(rows[0] as number[]);
    for (const [version, pin] of [
      [1, 'production'],
      [2, 'canary'],
    ] as const) {
      for (let i = 0; i < 20; i++) {
        const res = await app.request(
          post('/predict', { inputs: row, version }, { [KEY_HEADER]: `k${i}` }),
        );
        expect(res.headers.get(PIN_HEADER)).toBe(pin);
        expect((await json(res)).version).toBe(version);
      }
    }
    const missing = await app.request(post('/predict', { inputs: row, version: 3 }));
    expect(missing.status).toBe(404);
    expect((await json(missing)).error).toMatch(/iris@2 as its canary/);
  });

  it('names its pin in the OIP parameters and in the headers of MLflow and KServe', async () => {
    const key = await keysOnEachArm(app).canaryKey;
    const oip = await app.request(
      post(
        '/v2/models/iris/infer',
        { inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP64', data: rows[0] }] },
        { [KEY_HEADER]: key },
      ),
    );
    expect(oip.status).toBe(200);
    const body = await json(oip);
    expect(body).toMatchObject({ model_version: '2', parameters: { pin: 'canary' } });
    for (const [path, payload] of [
      ['/invocations', { inputs: [rows[0]] }],
      ['/v1/models/iris:predict', { instances: [rows[0]] }],
    ] as const) {
      const res = await app.request(post(path, payload, { [KEY_HEADER]: key }));
      expect(res.status).toBe(200);
      expect(res.headers.get(PIN_HEADER)).toBe('canary');
      expect(res.headers.get(VERSION_HEADER)).toBe('iris@2');
    }
  });

  it('is listed beside production in /models and /health', async () => {
    const models = await json(await app.request('/models/iris'));
    expect(models).toMatchObject({ version: 1, pin: 'production' });
    expect(models.roles).toMatchObject([{ version: 2, pin: 'canary', weight: 0.2 }]);
    const health = await json(await app.request('/health'));
    expect(health.models).toMatchObject([
      { name: 'iris', version: 1, pin: 'production' },
      { name: 'iris', version: 2, pin: 'canary', weight: 0.2 },
    ]);
  });
});

/** A key the canary answers and one production answers, found by asking the app. */
function keysOnEachArm(app: ReturnType<typeof createApp>): {
  canaryKey: Promise<string>;
  productionKey: Promise<string>;
} {
  const find = async (pin: string): Promise<string> => {
    for (let i = 0; ; i++) {
      const res = await app.request(
        post('/predict', { inputs: rowObject(rows[0] as number[]) }, { [KEY_HEADER]: `f${i}` }),
      );
      if (res.headers.get(PIN_HEADER) === pin) return `f${i}`;
    }
  };
  return { canaryKey: find('canary'), productionKey: find('production') };
}

describe('a shadow', () => {
  const requests = (): Request[] => [
    ...rows.map((r, i) =>
      post('/predict', { inputs: rowObject(r), id: `row-${i}` }, { 'x-request-id': `q${i}` }),
    ),
    ...Array.from({ length: 30 }, (_, i) =>
      post(
        '/predict',
        { inputs: rows.slice(i * 5, i * 5 + 5).map(rowObject) },
        { 'x-request-id': `b${i}` },
      ),
    ),
    ...rows
      .slice(0, 40)
      .map((r, i) =>
        post(
          '/v2/models/iris/infer',
          { id: `o${i}`, inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP64', data: r }] },
          { 'x-request-id': `o${i}` },
        ),
      ),
    ...rows
      .slice(0, 40)
      .map((r, i) => post('/invocations', { inputs: [r] }, { 'x-request-id': `m${i}` })),
  ];

  async function answers(state: ServingState): Promise<{ out: string[]; shadowed: number }> {
    const deps = depsOf(state, { limits: { bodyBytes: 65536, batchRows: 5 } });
    const app = createApp(deps);
    const out: string[] = [];
    for (const req of requests()) {
      const res = await app.request(req);
      const headers = [...res.headers.entries()].map(([k, v]) => `${k}: ${v}`).join('\n');
      out.push(`${res.status}\n${headers}\n\n${await res.text()}`);
    }
    await shadowsRun();
    const metric = await deps.metrics.registry.getSingleMetricAsString(
      'pinml_prediction_requests_total',
    );
    const shadowed = /pin="shadow"\} (\d+)/.exec(metric)?.[1];
    return { out, shadowed: Number(shadowed ?? 0) };
  }

  it('leaves every answer byte-identical, headers included, on every protocol', async () => {
    const without = await answers(stateOf([forest]));
    const shadowed = await answers(withRoles({ shadow }));
    const reordered = await answers(
      withRoles({ shadow: shadowWithFeatures([...FEATURES].reverse()) }),
    );
    const total = rows.length + 30 + 80;
    expect(without.out).toHaveLength(total);
    expect(without.out.every((a) => a.startsWith('200\n'))).toBe(true);
    expect(without.shadowed).toBe(0);
    expect(shadowed.out).toEqual(without.out);
    expect(shadowed.shadowed).toBe(total);
    expect(reordered.out).toEqual(without.out);
    expect(reordered.shadowed).toBe(total);
  });

  it('predicts every request after its answer, counted under its own version and pin', async () => {
    const deps = depsOf(withRoles({ shadow }));
    const app = createApp(deps);
    const row = rowObject(rows[100] as number[]);
    const answersBefore = await deps.metrics.registry.metrics();
    expect(answersBefore).not.toContain('pin="shadow"');
    const res = await app.request(post('/predict', { inputs: [row, row, row] }));
    expect(res.headers.get(PIN_HEADER)).toBe('production');
    await shadowsRun();
    const text = await deps.metrics.registry.metrics();
    expect(text).toContain(
      'pinml_prediction_requests_total{model="iris",version="3",pin="shadow"} 1',
    );
    expect(text).toContain(
      'pinml_prediction_requests_total{model="iris",version="1",pin="production"} 1',
    );
    expect(text).toMatch(
      /pinml_predictions_total\{model="iris",version="3",pin="shadow",class="\w+"\} 3/,
    );
  });

  it('fails without the caller seeing it, counted as a shadow failure', async () => {
    const broken = shadowWithFeatures([
      'petal_width',
      'petal_length',
      'sepal_width',
      'sepal_height',
    ]);
    const deps = depsOf(withRoles({ shadow: broken }));
    const app = createApp(deps);
    const res = await app.request(post('/predict', { inputs: rowObject(rows[0] as number[]) }));
    expect(res.status).toBe(200);
    expect((await json(res)).pin).toBe('production');
    await shadowsRun();
    const text = await deps.metrics.registry.metrics();
    expect(text).toContain('pinml_shadow_failures_total{model="iris",version="3"} 1');
    expect(text).not.toContain('pinml_http_errors_total{');
  });
});
