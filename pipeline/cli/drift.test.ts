/**
 * `pinml drift` end to end: a real project repository with a registered, promoted iris, a real
 * SQLite prediction log, a CSV of inputs and a server's `GET /logs` stand-in on a socket.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDataset } from '../dataset.ts';
import type { DriftReport } from '../drift/report.ts';
import { SqliteLog } from '../log/sqlite.ts';
import { LOG_CURSOR_HEADER, type PredictionRecord } from '../log/store.ts';
import { createWorkspace, irisConfigYaml, type Workspace } from '../registry/testing/project.ts';
import { splitRows } from '../split.ts';
import { seededRandom } from '../stats.ts';
import { pinml, pinmlOk, pinmlWith } from '../testing/run-cli.ts';

const FEATURES = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];
const CLASSES = ['setosa', 'versicolor', 'virginica'];
let ws: Workspace;
let project: string;
const closers: (() => Promise<unknown>)[] = [];

/** Rows drawn from iris's training part, the `shift` added to sepal_width. */
async function irisRows(
  n: number,
  seed: number,
  shift: number,
): Promise<{ x: number[]; label: string }[]> {
  const iris = parseDataset(await readFile(path.join(project, 'data/iris.csv')), {
    path: 'data/iris.csv',
    features: FEATURES,
    label: 'species',
  });
  const train = splitRows(iris, { holdout: 0.3, folds: 3, seed: 42 }).train;
  const random = seededRandom(seed);
  return Array.from({ length: n }, () => {
    const i = train[Math.floor(random() * train.length)]!;
    const x = [...iris.X[i]!];
    x[1]! += shift;
    return { x, label: String(iris.classes[iris.y[i]!]) };
  });
}

async function logOf(
  file: string,
  rows: { x: number[]; label: string }[],
  over: Partial<PredictionRecord> = {},
): Promise<void> {
  const store = new SqliteLog(file);
  const now = Date.now();
  await store.append(
    rows.map((r, i) => ({
      id: `r${i}`,
      time: now - 60_000 + i,
      model: 'iris',
      version: 1,
      commit: 'c'.repeat(40),
      pin: 'production',
      inputs: r.x,
      class: r.label,
      probabilities: [0.2, 0.3, 0.5],
      latencyMs: 1,
      sampleRate: 1,
      ...over,
    })),
    [{ model: 'iris', version: 1, features: FEATURES, classes: CLASSES }],
  );
  await store.close();
}

const report = (stdout: string): DriftReport => JSON.parse(stdout) as DriftReport;

beforeAll(async () => {
  ws = await createWorkspace('drift-cli');
  project = await ws.project({ 'pinml.yaml': irisConfigYaml() });
  await pinmlOk(project, 'pipeline');
  await pinmlOk(project, 'promote', 'iris@1', '--merge');
}, 120_000);

afterAll(async () => {
  await Promise.all(closers.map((c) => c()));
  await ws.remove();
});

describe('pinml drift', () => {
  it('finds no drift in rows drawn from the training part, and names a shifted feature', async () => {
    const calm = path.join(project, 'calm.db');
    await logOf(calm, await irisRows(400, 1, 0));
    const quiet = report(
      (await pinmlOk(project, 'drift', 'iris', '--store', calm, '--json')).stdout,
    );
    expect(quiet.version).toBe(1);
    expect(quiet.window.rows).toBe(400);
    expect(quiet.datasetDrift).toBe(false);
    expect(quiet.features.map((f) => f.drifted)).toEqual([false, false, false, false]);
    expect(quiet.reference).toMatchObject({ part: 'train', dataset: 'data/iris.csv', rows: 91 });

    const shifted = path.join(project, 'shifted.db');
    await logOf(shifted, await irisRows(400, 2, 0.45));
    const loud = report(
      (await pinmlOk(project, 'drift', 'iris@1', '--store', shifted, '--json')).stdout,
    );
    expect(loud.features.find((f) => f.name === 'sepal_width')).toMatchObject({
      test: 'ks',
      drifted: true,
    });
    expect(loud.driftedFeatures).toBeGreaterThanOrEqual(1);
  });

  it('reads the default data folder, writes the three reports with --out, and compares with the hold-out on request', async () => {
    await logOf(path.join(project, '.pinml', 'serve', 'predictions.db'), await irisRows(200, 3, 0));
    const out = path.join(project, 'reports');
    await pinmlOk(project, 'drift', 'iris', '--out', out, '--reference', 'holdout');
    const json = report(await readFile(path.join(out, 'drift.json'), 'utf8'));
    expect(json.reference).toMatchObject({ part: 'holdout', rows: 59 });
    expect(await readFile(path.join(out, 'drift.md'), 'utf8')).toContain('iris');
    expect(await readFile(path.join(out, 'drift.html'), 'utf8')).toContain('<html');
  });

  it('reads a CSV of inputs, and locates a cell that is not a number', async () => {
    const rows = await irisRows(100, 4, 0);
    const csv = path.join(project, 'window.csv');
    await writeFile(
      csv,
      `${FEATURES.join(',')},prediction\n${rows.map((r) => [...r.x, r.label].join(',')).join('\n')}\n`,
    );
    const ok = report((await pinmlOk(project, 'drift', 'iris', '--csv', csv, '--json')).stdout);
    expect(ok.window).toMatchObject({ rows: 100, from: null, until: null, source: 'window.csv' });
    expect(ok.prediction?.currentRows).toBe(100);

    await writeFile(csv, `${FEATURES.join(',')}\n5.1,3.5,1.4,0.2\n5.1,wide,1.4,0.2\n`);
    const bad = await pinml(project, 'drift', 'iris', '--csv', csv);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(
      /window\.csv:3:2: column "sepal_width": "wide" is not a finite number/,
    );

    await writeFile(csv, 'sepal_length,sepal_widht,petal_length,petal_width\n5.1,3.5,1.4,0.2\n');
    const header = await pinml(project, 'drift', 'iris', '--csv', csv);
    expect(header.code).toBe(1);
    expect(header.stderr).toMatch(/no column "sepal_width" \(did you mean "sepal_widht"\?\)/);
  });

  it("reads a server's /logs page by page with the admin token", async () => {
    const rows = await irisRows(150, 5, 0);
    const pages = [rows.slice(0, 100), rows.slice(100)];
    const seen: string[] = [];
    const server = createServer((req, res) => {
      seen.push(`${req.headers.authorization} ${req.url}`);
      const after = new URL(req.url ?? '/', 'http://x').searchParams.get('after');
      const page = after === null ? 0 : 1;
      if (page === 0) res.setHeader(LOG_CURSOR_HEADER, '100');
      res.setHeader('content-type', 'application/x-ndjson');
      res.end(
        pages[page]!.map((r, i) =>
          JSON.stringify({
            seq: page * 100 + i + 1,
            id: `s${page}-${i}`,
            time: Date.now() - 1000,
            model: 'iris',
            version: 1,
            commit: 'c'.repeat(40),
            pin: 'production',
            inputs: Object.fromEntries(FEATURES.map((f, j) => [f, r.x[j]])),
            class: r.label,
            probabilities: { setosa: 0.2, versicolor: 0.3, virginica: 0.5 },
            latencyMs: 1,
            sampleRate: 1,
            label: null,
          }),
        ).join('\n') + '\n',
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise((resolve) => server.close(resolve)));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const result = await pinmlWith(
      { cwd: project, env: { PINML_ADMIN_TOKEN: 'tok-drift' } },
      'drift',
      'iris',
      '--server',
      url,
      '--json',
    );
    expect(result.code).toBe(0);
    expect(report(result.stdout).window.rows).toBe(150);
    expect(seen).toHaveLength(2);
    expect(seen[0]).toMatch(/^Bearer tok-drift \/logs\?model=iris&version=1/);
    expect(result.stdout + result.stderr).not.toContain('tok-drift');
  });

  it('refuses, with what and where, an unknown model, an empty window, a missing store, rows without inputs and an unreachable server', async () => {
    const unknown = await pinml(project, 'drift', 'irsi', '--store', path.join(project, 'calm.db'));
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no model irsi in registry\/ at main .*did you mean iris\?/);

    const empty = await pinml(
      project,
      'drift',
      'iris',
      '--store',
      path.join(project, 'calm.db'),
      '--from',
      '2020-01-01T00:00:00Z',
      '--until',
      '2020-01-02T00:00:00Z',
    );
    expect(empty.code).toBe(1);
    expect(empty.stderr).toMatch(/no rows of iris@1 in calm\.db from 2020-01-01T00:00:00\.000Z/);

    const missing = await pinml(project, 'drift', 'iris', '--store', 'nowhere.db');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no prediction log at nowhere\.db/);

    const off = path.join(project, 'off.db');
    await logOf(off, await irisRows(50, 6, 0), { inputs: null });
    const noInputs = await pinml(project, 'drift', 'iris', '--store', off);
    expect(noInputs.code).toBe(1);
    expect(noInputs.stderr).toMatch(
      /50 row\(s\) of this window without inputs: the server ran with --log-inputs off/,
    );

    const down = await pinmlWith(
      { cwd: project, env: { PINML_ADMIN_TOKEN: 't' } },
      'drift',
      'iris',
      '--server',
      'http://127.0.0.1:9',
    );
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/cannot reach http:\/\/127\.0\.0\.1:9\/logs/);

    const usage = await pinml(project, 'drift', 'iris', '--reference', 'test');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/--reference must be train or holdout/);
  });

  it('gives no verdict on a window smaller than monitor.drift.minRows, and refuses a bad threshold with its place', async () => {
    const small = path.join(project, 'small.db');
    await logOf(small, await irisRows(20, 7, 0));
    const r = report((await pinmlOk(project, 'drift', 'iris', '--store', small, '--json')).stdout);
    expect(r.testedFeatures).toBe(0);
    expect(r.features[0]?.note).toMatch(/too few rows for a verdict: 20 in the window, 30 needed/);

    const yaml = await readFile(path.join(project, 'pinml.yaml'), 'utf8');
    await writeFile(
      path.join(project, 'pinml.yaml'),
      `${yaml}    monitor:\n      drift: { minRows: 10, pValue: 2 }\n`,
    );
    const bad = await pinml(project, 'drift', 'iris', '--store', small);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/pinml\.yaml:\d+:\d+: .*monitor\.drift\.pValue/);
    await writeFile(
      path.join(project, 'pinml.yaml'),
      `${yaml}    monitor:\n      drift: { minRows: 10 }\n`,
    );
    const tested = report(
      (await pinmlOk(project, 'drift', 'iris', '--store', small, '--json')).stdout,
    );
    expect(tested.testedFeatures).toBe(4);
    expect(tested.options.minRows).toBe(10);
    await writeFile(path.join(project, 'pinml.yaml'), yaml);
  });
});
