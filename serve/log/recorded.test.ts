/**
 * The prediction log as the routes fill it, with the real SQLite store: every answered row on
 * every protocol, with its row id, version and commit; feedback joined (also when it came
 * first); `/logs` read back as NDJSON and CSV with a cursor; the admin token.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';

import { openSqliteLog } from '../../pipeline/log/sqlite.ts';
import { LOG_CURSOR_HEADER, type LoggedRow } from '../../pipeline/log/store.ts';
import { createApp } from '../app.ts';
import { COMMIT_A, COMMIT_B, depsOf, stateOf } from '../testing/fixtures.ts';
import { FEATURES, forest, logistic, post, probabilitiesOf, rows } from '../testing/routes.ts';
import { pinmlWith } from '../../pipeline/testing/run-cli.ts';
import type { LiveQuality } from '../../pipeline/log/quality.ts';
import { createHttpServer } from '../http/server.ts';
import { listenLoopback, stopServer } from '../testing/server.ts';
import { LiveMonitor } from './live.ts';
import { Recorder } from './recorder.ts';

const TOKEN = 'test-admin-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };
const dir = await mkdtemp(join(tmpdir(), 'pinml-recorded-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

let counter = 0;
function served(options: { logInputs?: boolean; adminToken?: string | undefined } = {}) {
  const deps = depsOf(stateOf([forest, logistic]));
  const store = openSqliteLog(join(dir, `log-${++counter}.db`));
  const recorder = new Recorder({
    store,
    log: pino({ level: 'silent' }),
    logInputs: options.logInputs ?? true,
    sampleRate: 1,
    queueRows: 10_000,
    flushMs: 50,
    batchRows: 1000,
    retention: {},
    retentionEveryMs: 60_000,
  });
  deps.metrics.logStatus(() => recorder.status());
  let n = 0;
  const app = createApp(
    depsOf(deps.state, {
      metrics: deps.metrics,
      recorder,
      adminToken: 'adminToken' in options ? options.adminToken : TOKEN,
      limits: { bodyBytes: 1 << 20, batchRows: 100 },
      requestId: () => `made-${++n}`,
    }),
  );
  return { app, recorder, store, deps };
}

async function allRows(app: ReturnType<typeof served>['app'], query = ''): Promise<LoggedRow[]> {
  const out: LoggedRow[] = [];
  let after = '';
  for (;;) {
    const res = await app.request(`/logs?limit=3${query}${after}`, { headers: auth });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/application\/x-ndjson/);
    const text = await res.text();
    for (const line of text.split('\n').filter(Boolean)) out.push(JSON.parse(line) as LoggedRow);
    const next = res.headers.get(LOG_CURSOR_HEADER);
    if (next === null) return out;
    after = `&after=${next}`;
  }
}

const r = (i: number): number[] => rows[i] as number[];
const asObject = (row: readonly number[]): Record<string, number> =>
  Object.fromEntries(FEATURES.map((f, j) => [f, row[j] as number]));
const best = (p: Record<string, number>): string =>
  Object.entries(p).reduce((a, b) => (b[1] > a[1] ? b : a))[0];

describe('the prediction log, filled by the routes', () => {
  it('records every answered row of every protocol with its row id, version, commit and inputs', async () => {
    const { app, recorder } = served();
    const sent: { path: string; body: unknown; headers?: Record<string, string> }[] = [
      {
        path: '/predict',
        body: { model: 'iris', inputs: asObject(r(0)) },
        headers: { 'x-request-id': 'one' },
      },
      { path: '/predict', body: { model: 'iris', id: 'body-id', inputs: asObject(r(60)) } },
      { path: '/predict', body: { model: 'iris-lr', inputs: [r(1), r(61), r(121)].map(asObject) } },
      {
        path: '/v2/models/iris/infer',
        body: {
          id: 'oip',
          inputs: [{ name: 'input-0', datatype: 'FP64', shape: [2, 4], data: [r(2), r(62)] }],
        },
      },
      {
        path: '/invocations?model=iris-lr',
        body: { inputs: [r(3), r(63)] },
        headers: { 'x-request-id': 'mlflow' },
      },
      { path: '/v1/models/iris:predict', body: { instances: [asObject(r(122))] } },
    ];
    const answers: { status: number; id: string | null }[] = [];
    for (const s of sent) {
      const res = await app.request(post(s.path, s.body, s.headers));
      answers.push({ status: res.status, id: res.headers.get('x-request-id') });
    }
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(answers.map((a) => a.id)).toEqual([
      'one',
      'body-id',
      'made-2',
      'oip',
      'mlflow',
      'made-4',
    ]);
    await recorder.flush();

    const logged = await allRows(app);
    const expected: [string, string, number, string, number[]][] = [
      ['one', 'iris', 1, COMMIT_A, r(0)],
      ['body-id', 'iris', 1, COMMIT_A, r(60)],
      ['made-2:0', 'iris-lr', 2, COMMIT_B, r(1)],
      ['made-2:1', 'iris-lr', 2, COMMIT_B, r(61)],
      ['made-2:2', 'iris-lr', 2, COMMIT_B, r(121)],
      ['oip:0', 'iris', 1, COMMIT_A, r(2)],
      ['oip:1', 'iris', 1, COMMIT_A, r(62)],
      ['mlflow:0', 'iris-lr', 2, COMMIT_B, r(3)],
      ['mlflow:1', 'iris-lr', 2, COMMIT_B, r(63)],
      ['made-4', 'iris', 1, COMMIT_A, r(122)],
    ];
    expect(logged.map((l) => [l.id, l.model, l.version, l.commit, l.inputs])).toEqual(
      expected.map(([id, model, version, commit, row]) => [
        id,
        model,
        version,
        commit,
        asObject(row),
      ]),
    );
    for (const [i, l] of logged.entries()) {
      const model = l.model === 'iris' ? forest : logistic;
      const p = probabilitiesOf(
        model,
        (expected[i] as [string, string, number, string, number[]])[4],
      );
      expect(l.probabilities).toEqual(p);
      expect(l.class).toBe(best(p));
      expect(l.pin).toBe('production');
      expect(l.label).toBeNull();
      expect(l.latencyMs).toBeGreaterThanOrEqual(0);
      expect(l.sampleRate).toBe(1);
    }
    expect(recorder.status()).toMatchObject({ state: 'ok', written: 10, dropped: 0, queued: 0 });
  });

  it('records nothing for a refused request, and no inputs with --log-inputs off', async () => {
    const { app, recorder } = served({ logInputs: false });
    expect(
      (await app.request(post('/predict', { model: 'iris', inputs: [{ a: 1 }] }))).status,
    ).toBe(400);
    expect(
      (await app.request(post('/predict', { model: 'iris', inputs: asObject(r(5)) }))).status,
    ).toBe(200);
    await recorder.flush();
    const logged = await allRows(app);
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ model: 'iris', inputs: null });
    expect(logged[0]?.probabilities).toEqual(probabilitiesOf(forest, r(5)));
  });

  it('joins feedback, also feedback that came before its row, and answers a batch item by item', async () => {
    const { app, recorder } = served();
    // Feedback for a row that is not written yet.
    const early = await app.request(
      post('/feedback', { id: 'later', label: 'virginica', model: 'iris' }, auth),
    );
    expect(early.status).toBe(200);
    expect(await early.json()).toMatchObject({ id: 'later', outcome: 'created' });

    await app.request(
      post(
        '/predict',
        { model: 'iris', inputs: [r(0), r(50), r(100)].map(asObject) },
        { 'x-request-id': 'b' },
      ),
    );
    await app.request(
      post('/predict', { model: 'iris', inputs: asObject(r(140)) }, { 'x-request-id': 'later' }),
    );
    await recorder.flush();

    const res = await app.request(
      post(
        '/feedback?model=iris',
        [
          { id: 'b:0', label: 'setosa' },
          { id: 'b:1', label: 'virginica' },
          { id: 'b:0', label: 'setosa' },
          { id: 'b:2', label: 'tulip' },
          { id: 'b:2', lable: 'virginica' },
          { id: '', label: 'setosa' },
        ],
        auth,
      ),
    );
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      results: Record<string, unknown>[];
      created: number;
      unchanged: number;
      replaced: number;
      refused: number;
    };
    expect(body).toMatchObject({ created: 2, unchanged: 1, replaced: 0, refused: 3 });
    expect(body.results.map((x) => x.outcome ?? x.field)).toEqual([
      'created',
      'created',
      'unchanged',
      '[3].label',
      '[4].lable',
      '[5].id',
    ]);
    expect(String(body.results[3]?.error)).toMatch(/"tulip" is not a class of iris/);

    // A different label for the same id replaces it, and says so.
    const again = await app.request(
      post('/feedback', { id: 'b:1', label: 'versicolor', model: 'iris' }, auth),
    );
    expect(await again.json()).toMatchObject({ outcome: 'replaced', label: 'versicolor' });

    const labelled = await allRows(app, '&labelled=true');
    expect(labelled.map((l) => [l.id, l.label])).toEqual([
      ['b:0', 'setosa'],
      ['b:1', 'versicolor'],
      ['later', 'virginica'],
    ]);
    const unlabelled = await allRows(app, '&labelled=false');
    expect(unlabelled.map((l) => l.id)).toEqual(['b:2']);
  });

  it('pages as CSV with input and probability columns, filtered by model and version', async () => {
    const { app, recorder } = served();
    await app.request(
      post('/predict', { model: 'iris', inputs: asObject(r(0)) }, { 'x-request-id': 'x' }),
    );
    await app.request(
      post('/predict', { model: 'iris-lr', inputs: asObject(r(1)) }, { 'x-request-id': 'y' }),
    );
    await recorder.flush();
    const res = await app.request('/logs?format=csv&model=iris-lr&version=2', { headers: auth });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/csv/);
    const [header, line, end] = (await res.text()).split('\n');
    expect(header).toBe(
      'seq,id,time,model,version,commit,pin,class,label,latency_ms,sample_rate,' +
        'input.sepal_length,input.sepal_width,input.petal_length,input.petal_width,' +
        'probability.setosa,probability.versicolor,probability.virginica',
    );
    expect(line).toContain(`,y,`);
    expect(line).toContain(`,iris-lr,2,${COMMIT_B},production,`);
    expect(end).toBe('');
    const byAccept = await app.request('/logs?model=iris', {
      headers: { ...auth, accept: 'text/csv' },
    });
    expect(await byAccept.text()).toMatch(/^seq,id,/);
  });

  it('refuses /logs and /feedback without the token, and says how to turn them on when off', async () => {
    const { app } = served();
    for (const headers of [
      {} as Record<string, string>,
      { authorization: 'Bearer wrong' },
      { authorization: TOKEN },
    ]) {
      const res = await app.request('/logs', { headers });
      expect(res.status).toBe(401);
      const text = await res.text();
      expect(text).not.toContain(TOKEN);
    }
    expect((await app.request(post('/feedback', { id: 'a', label: 'setosa' }))).status).toBe(401);

    const off = served({ adminToken: undefined }).app;
    const res = await off.request('/logs', { headers: auth });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: string }).error).toMatch(/PINML_ADMIN_TOKEN/);
  });

  it('refuses bad log queries and bad feedback with the field named', async () => {
    const { app } = served();
    const cases: [string, string][] = [
      ['/logs?limit=0', 'limit'],
      ['/logs?limit=abc', 'limit'],
      ['/logs?version=-1', 'version'],
      ['/logs?pin=blue', 'pin'],
      ['/logs?from=yesterday', 'from'],
      ['/logs?labelled=maybe', 'labelled'],
      ['/logs?format=xml', 'format'],
      ['/logs?modle=iris', 'modle'],
    ];
    for (const [path, field] of cases) {
      const res = await app.request(path, { headers: auth });
      expect(res.status, path).toBe(400);
      expect(await res.json(), path).toMatchObject({ field });
    }
    const feedback: [unknown, string, number][] = [
      [{ id: 'a', label: 'setosa' }, '(body).model', 400],
      [{ id: 'a', label: 'setosa', model: 'roses' }, '(body).model', 404],
      [{ id: 7, label: 'setosa', model: 'iris' }, '(body).id', 400],
      [{ id: 'a', label: null, model: 'iris' }, '(body).label', 400],
      [[], '(body)', 400],
      ['not json', '(body)', 400],
    ];
    for (const [body, field, status] of feedback) {
      const res = await app.request(post('/feedback', body, auth));
      expect(res.status, JSON.stringify(body)).toBe(status);
      expect(await res.json(), JSON.stringify(body)).toMatchObject({ field });
    }
  });

  it('computes live accuracy from the labelled rows as a hand count does, and exports it', async () => {
    const { app, recorder, store, deps } = served();
    const classes = forest.classKeys;
    let correct = 0;
    let labelled = 0;
    const feedback: { id: string; label: string; model: string }[] = [];
    for (let i = 0; i < 60; i++) {
      const row = r(i * 2 + 1);
      const res = await app.request(
        post('/predict', { model: 'iris', inputs: asObject(row) }, { 'x-request-id': `q${i}` }),
      );
      expect(res.status).toBe(200);
      if (i % 3 === 2) continue; // a third never gets its ground truth
      const predicted = best(probabilitiesOf(forest, row));
      // Every fourth labelled row was wrong: its truth is the next class.
      const wrong = labelled % 4 === 3;
      const label = wrong
        ? (classes[(classes.indexOf(predicted) + 1) % classes.length] as string)
        : predicted;
      feedback.push({ id: `q${i}`, label, model: 'iris' });
      labelled++;
      if (!wrong) correct++;
    }
    // Rows of another model in the same window stay apart.
    await app.request(post('/predict', { model: 'iris-lr', inputs: asObject(r(0)) }));
    await recorder.flush();
    const res = await app.request(post('/feedback', feedback, auth));
    expect(await res.json()).toMatchObject({ created: 40, refused: 0 });

    const live = new LiveMonitor({
      store,
      metrics: deps.metrics,
      log: pino({ level: 'silent' }),
      state: deps.state,
      windowMs: 3_600_000,
      intervalMs: 60_000,
    });
    const figures = await live.update();
    const iris = figures.find((f) => f.model === 'iris');
    expect(iris).toMatchObject({ version: 1, pin: 'production', rows: 60, labelled: 40 });
    expect(iris?.accuracy?.estimate).toBe(correct / labelled);
    expect(correct / labelled).toBe(0.75);
    expect(iris?.accuracy?.low).toBeLessThan(0.75);
    expect(iris?.accuracy?.high).toBeGreaterThan(0.75);
    expect(figures.find((f) => f.model === 'iris-lr')).toMatchObject({
      rows: 1,
      labelled: 0,
      accuracy: null,
    });

    // `pinml live --server` reads the same rows through GET /logs, over a socket.
    const server = createHttpServer(app.fetch, {
      requestTimeoutMs: 30_000,
      headersTimeoutMs: 10_000,
    });
    const port = await listenLoopback(server);
    try {
      const live = (...extra: string[]) =>
        pinmlWith(
          { cwd: dir, env: { PINML_ADMIN_TOKEN: TOKEN } },
          'live',
          'iris',
          '--server',
          `http://127.0.0.1:${port}`,
          ...extra,
        );
      const cli = await live('--json');
      expect(cli.stderr).toBe('');
      expect(cli.code).toBe(0);
      const [fromServer] = JSON.parse(cli.stdout) as LiveQuality[];
      expect(fromServer).toEqual(iris);
      const human = await live();
      expect(human.stdout).toMatch(/0\.75/);
      expect(human.stdout + human.stderr).not.toContain(TOKEN);
    } finally {
      await stopServer(server);
    }

    const metrics = await (await app.request('/metrics')).text();
    expect(metrics).toContain(
      'pinml_live_accuracy{model="iris",version="1",pin="production"} 0.75',
    );
    expect(metrics).toContain(
      'pinml_live_labelled_rows{model="iris",version="1",pin="production"} 40',
    );
    expect(metrics).toMatch(/pinml_log_rows_written_total 61\b/);
    expect(metrics).toMatch(/pinml_log_rows_dropped_total 0\b/);
  });
});
