/**
 * The alert rules and the dashboard against a real Prometheus (Debian's `prometheus` and
 * `promtool`): `promtool check rules` and `promtool test rules` (every alert, firing and not);
 * then Prometheus, started on loopback with the example configuration pointed at a running
 * pinml server, scrapes it, the per-version series are read back through the query API, and
 * every PromQL expression of the dashboard and the rules evaluates without error, returning
 * data where the test produced some.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { startServe, type ServeProcess } from '../../pipeline/testing/serve-process.ts';
import {
  prometheusAvailable,
  prometheusBinary,
  thisNode,
} from '../../pipeline/testing/runtimes.ts';
import { createSandbox, type Sandbox } from '../testing/sandbox.ts';

const run = promisify(execFile);
const HERE = path.dirname(new URL(import.meta.url).pathname);
const TOKEN = 'admin-token-of-the-prometheus-test';
const REQUESTS = 40;

interface Dashboard {
  panels: { title: string; targets: { expr: string }[] }[];
}
interface Rules {
  groups: { rules: { alert: string; expr: string }[] }[];
}
interface QueryResult {
  status: string;
  error?: string;
  data: {
    resultType: string;
    result: { metric: Record<string, string>; value: [number, string] }[];
  };
}

let sandbox: Sandbox | undefined;
let server: ServeProcess | undefined;
let prometheus: ChildProcess | undefined;
let dir: string | undefined;
let api = '';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function query(expr: string): Promise<QueryResult> {
  const res = await fetch(`${api}/api/v1/query?query=${encodeURIComponent(expr)}`);
  return (await res.json()) as QueryResult;
}

/** Polls `expr` until it returns a series (or fails after `seconds`). */
async function waitFor(expr: string, seconds = 30): Promise<QueryResult> {
  const until = Date.now() + seconds * 1000;
  for (;;) {
    const r = await query(expr).catch(() => undefined);
    if (r?.status === 'success' && r.data.result.length > 0) return r;
    if (Date.now() > until)
      throw new Error(`${expr}: no data after ${seconds} s: ${JSON.stringify(r)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** A dashboard expression with Grafana's variables as a query of this test would send them. */
const concrete = (expr: string): string =>
  expr.replaceAll('$__rate_interval', '1m').replaceAll('$model', 'iris');

const tested = prometheusAvailable('the Prometheus tests are');

describe.skipIf(!tested)('the alert rules and the dashboard, with promtool and Prometheus', () => {
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'pinml-prometheus-'));
    sandbox = await createSandbox();
    server = await startServe(thisNode, {
      PINML_REPO: sandbox.dir,
      PINML_POLL_INTERVAL: '0',
      PINML_LIVE_INTERVAL: '1',
      PINML_ADMIN_TOKEN: TOKEN,
    });
    // Traffic for iris@1, and feedback for every row (half of it disagreeing).
    const ids: string[] = [];
    for (let i = 0; i < REQUESTS; i++) {
      const res = await fetch(`${server.url}/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          inputs: {
            sepal_length: 5.1 + (i % 7) * 0.3,
            sepal_width: 3.5,
            petal_length: 1.4 + (i % 5),
            petal_width: 0.2 + (i % 3),
          },
        }),
      });
      const body = await res.text();
      expect(res.status, body).toBe(200);
      ids.push(res.headers.get('x-request-id') as string);
    }
    const feedback = await fetch(`${server.url}/feedback`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify(ids.map((id, i) => ({ id, label: i % 2 ? 'setosa' : 'virginica' }))),
    });
    expect(feedback.status).toBeLessThan(300);

    // The example configuration, its targets replaced by this server, scraping every second.
    const config = parse(await readFile(path.join(HERE, 'prometheus.yml'), 'utf8')) as {
      global: Record<string, string>;
      scrape_configs: { static_configs: { targets: string[] }[] }[];
    };
    config.global.scrape_interval = '1s';
    config.global.evaluation_interval = '1s';
    const target = new URL(server.url).host;
    (config.scrape_configs[0] as { static_configs: { targets: string[] }[] }).static_configs = [
      { targets: [target] },
    ];
    await writeFile(path.join(dir, 'prometheus.yml'), stringify(config));
    await copyFile(path.join(HERE, 'alerts.yml'), path.join(dir, 'alerts.yml'));
    const port = await freePort();
    api = `http://127.0.0.1:${port}`;
    prometheus = spawn(
      prometheusBinary('prometheus'),
      [
        `--config.file=${path.join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${path.join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { stdio: 'ignore' },
    );
  });

  afterAll(async () => {
    prometheus?.kill('SIGKILL');
    server?.kill();
    await sandbox?.remove();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('passes promtool check rules and promtool test rules', async () => {
    const promtool = prometheusBinary('promtool');
    const check = await run(promtool, ['check', 'rules', 'alerts.yml'], { cwd: HERE });
    expect(`${check.stdout}${check.stderr}`).toMatch(/SUCCESS: 13 rules found/);
    const unit = await run(promtool, ['test', 'rules', 'alerts.test.yml'], { cwd: HERE });
    expect(`${unit.stdout}${unit.stderr}`).toMatch(/SUCCESS/);
  });

  it('scrapes the server and reads the per-version series back', async () => {
    await waitFor('up{job="pinml"} == 1');
    const requests = await waitFor(
      `pinml_prediction_requests_total{model="iris",version="1",pin="production"} >= ${REQUESTS}`,
    );
    expect(Number(requests.data.result[0]?.value[1])).toBe(REQUESTS);
    const labelled = await waitFor(
      `pinml_live_labelled_rows{model="iris",version="1",pin="production"} >= ${REQUESTS}`,
    );
    expect(Number(labelled.data.result[0]?.value[1])).toBe(REQUESTS);
    await waitFor('pinml_live_accuracy{model="iris",version="1",pin="production"}');
    const gate = await waitFor('pinml_gate_min_accuracy{model="iris",version="1"}');
    expect(Number(gate.data.result[0]?.value[1])).toBeGreaterThan(0);
    const psi = await waitFor('pinml_drift_psi{model="iris",version="1"}');
    expect(psi.data.result.map((r) => r.metric.feature).sort()).toEqual([
      'petal_length',
      'petal_width',
      'sepal_length',
      'sepal_width',
    ]);
    const head = await sandbox?.head();
    const served = await waitFor('pinml_served_commit_info');
    expect(served.data.result.map((r) => r.metric.commit)).toEqual([head]);
    const fetched = await waitFor('pinml_ref_commit_info');
    expect(fetched.data.result.map((r) => r.metric.commit)).toEqual([head]);
  });

  it('evaluates every dashboard and rule expression, with data where the test made some', async () => {
    // Two scrapes of the traffic, so a rate over 1m has points.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const dashboard = JSON.parse(
      await readFile(path.join(HERE, 'dashboard.json'), 'utf8'),
    ) as Dashboard;
    const rules = parse(await readFile(path.join(HERE, 'alerts.yml'), 'utf8')) as Rules;
    const exprs = [
      ...dashboard.panels.flatMap((p) => p.targets.map((t) => ({ from: p.title, expr: t.expr }))),
      ...rules.groups.flatMap((g) => g.rules.map((r) => ({ from: r.alert, expr: r.expr }))),
    ];
    const withData = new Set<string>();
    for (const { from, expr } of exprs) {
      const r = await query(concrete(expr));
      expect(r, `${from}: ${expr}`).toMatchObject({ status: 'success' });
      if (r.data.result.length > 0) withData.add(from);
    }
    // Every panel shows data (a panel's other lines, errors, canaries or drops, may be empty in
    // this traffic). Of the rules, only high drift returns a series: the rows sent are a grid,
    // not flowers like the training rows (its `for:` keeps it pending); nothing else is wrong.
    expect(dashboard.panels.map((p) => p.title).filter((t) => !withData.has(t))).toEqual([]);
    const alerts = rules.groups.flatMap((g) => g.rules.map((r) => r.alert));
    expect(alerts.filter((a) => withData.has(a))).toEqual(['PinmlDriftHigh']);
    const severity = await query('pinml_drift_severity{model="iris"}');
    expect(severity.data.result.map((r) => r.value[1])).toEqual(['3']);

    // The rules as Prometheus loaded them: all 13, each evaluated without error.
    const loaded = (await (await fetch(`${api}/api/v1/rules`)).json()) as {
      data: { groups: { rules: { name: string; health: string; lastError?: string }[] }[] };
    };
    const all = loaded.data.groups.flatMap((g) => g.rules);
    expect(all).toHaveLength(13);
    expect(all.filter((r) => r.health !== 'ok')).toEqual([]);
  });
});
