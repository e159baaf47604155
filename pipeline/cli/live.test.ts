import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { parseInstant } from '../log/window.ts';
import { wilsonInterval, type LiveQuality } from '../log/quality.ts';
import { SqliteLog } from '../log/sqlite.ts';
import { LOG_CURSOR_HEADER, type PredictionRecord } from '../log/store.ts';
import { pinmlWith, tempDirs } from '../testing/run-cli.ts';

const temps = tempDirs();
const closers: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  await Promise.all(closers.map((close) => close()));
  await temps.remove();
});

const CLASSES = ['setosa', 'versicolor', 'virginica'];
const TOKEN = 'admin-token-for-tests';
const MINUTE = 60_000;

/**
 * A project folder whose server log (`.pinml/serve/predictions.db`) holds, within the last day:
 * iris@1 in production, 12 rows, 8 labelled, 6 of them right (accuracy 0.75); iris@2 on the
 * canary, 3 rows, 1 labelled; and wine@1. Two days ago: 5 more iris@1 rows, all labelled wrong.
 */
async function project(): Promise<{ dir: string; file: string; store: SqliteLog }> {
  const dir = await temps.make();
  const file = path.join(dir, '.pinml', 'serve', 'predictions.db');
  const store = new SqliteLog(file);
  closers.push(() => store.close());
  const now = Date.now();
  const row = (id: string, over: Partial<PredictionRecord>): PredictionRecord => ({
    id,
    time: now - 30 * MINUTE,
    model: 'iris',
    version: 1,
    commit: 'c'.repeat(40),
    pin: 'production',
    inputs: [5.1, 3.5, 1.4, 0.2],
    class: 'setosa',
    probabilities: [0.8, 0.1, 0.1],
    latencyMs: 2,
    sampleRate: 1,
    ...over,
  });
  // predicted, and (for the labelled ones) the truth
  const v1: [string, string | null][] = [
    ['setosa', 'setosa'],
    ['setosa', 'setosa'],
    ['versicolor', 'versicolor'],
    ['versicolor', 'virginica'],
    ['virginica', 'virginica'],
    ['virginica', 'virginica'],
    ['virginica', 'versicolor'],
    ['setosa', 'setosa'],
    ['setosa', null],
    ['versicolor', null],
    ['virginica', null],
    ['setosa', null],
  ];
  const rows = [
    ...v1.map(([predicted], i) =>
      row(`a${i}`, { class: predicted, time: now - (60 - i) * MINUTE }),
    ),
    row('b0', { version: 2, pin: 'canary', class: 'versicolor' }),
    row('b1', { version: 2, pin: 'canary', class: 'virginica' }),
    row('b2', { version: 2, pin: 'canary', class: 'virginica' }),
    row('w0', { model: 'wine', class: 'red', probabilities: [0.9, 0.1], inputs: [12.5] }),
    ...[0, 1, 2, 3, 4].map((i) => row(`old${i}`, { time: now - 2 * 24 * 60 * MINUTE - i })),
  ];
  await store.append(rows, [
    { model: 'iris', version: 1, features: ['a', 'b', 'c', 'd'], classes: CLASSES },
    { model: 'iris', version: 2, features: ['a', 'b', 'c', 'd'], classes: CLASSES },
    { model: 'wine', version: 1, features: ['alcohol'], classes: ['red', 'white'] },
  ]);
  await store.appendFeedback([
    ...v1.flatMap(([, label], i) =>
      label === null ? [] : [{ id: `a${i}`, model: 'iris', label, time: now }],
    ),
    { id: 'b1', model: 'iris', label: 'virginica', time: now },
    ...[0, 1, 2, 3, 4].map((i) => ({
      id: `old${i}`,
      model: 'iris',
      label: 'virginica',
      time: now,
    })),
  ]);
  return { dir, file, store };
}

/** `pinml live …` in `cwd` with no environment variables (none of the machine's leak in). */
const live = (cwd: string, ...argv: string[]) => pinmlWith({ cwd, env: {} }, 'live', ...argv);

const parsed = (stdout: string): LiveQuality[] => JSON.parse(stdout) as LiveQuality[];

/** A stand-in for the server's `GET /logs`: the store's pages, `pageRows` at a time, behind the token. */
async function logServer(
  store: SqliteLog,
  token: string | undefined,
  pageRows: number,
): Promise<{ url: string; requests: { url: string; authorization: string | undefined }[] }> {
  const requests: { url: string; authorization: string | undefined }[] = [];
  const answer = (res: ServerResponse, status: number, body: object): void => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    requests.push({ url: req.url ?? '', authorization: req.headers.authorization });
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== '/logs')
      return answer(res, 404, { error: 'not found', code: 'not_found' });
    if (token === undefined) {
      return answer(res, 404, {
        error: '/logs is off: start the server with PINML_ADMIN_TOKEN set',
        code: 'admin_disabled',
      });
    }
    if (req.headers.authorization !== `Bearer ${token}`) {
      return answer(res, 401, {
        error: '/logs needs Authorization: Bearer <PINML_ADMIN_TOKEN>: that token is not it',
        code: 'unauthorized',
      });
    }
    const q = url.searchParams;
    const now = Date.now();
    const page = await store.read({
      model: q.get('model') ?? undefined,
      version: q.has('version') ? Number(q.get('version')) : undefined,
      from: q.has('from') ? parseInstant(q.get('from') as string, 'from', now) : undefined,
      until: q.has('until') ? parseInstant(q.get('until') as string, 'until', now) : undefined,
      after: q.has('after') ? Number(q.get('after')) : undefined,
      limit: Math.min(pageRows, Number(q.get('limit') ?? 1000)),
    });
    res.writeHead(200, {
      'content-type': 'application/x-ndjson',
      ...(page.next === null ? {} : { [LOG_CURSOR_HEADER]: String(page.next) }),
    });
    res.end(page.rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
  };
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => answer(res, 500, { error: String(err) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise((resolve) => server.close(resolve)));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, requests };
}

describe('pinml live from a store file', () => {
  it("prints the accuracy computed by hand from the server's log in the project", async () => {
    const { dir } = await project();
    const json = await live(dir, 'iris', '--json');
    expect(json.stderr).toBe('');
    expect(json.code).toBe(0);
    const figures = parsed(json.stdout);
    expect(figures.map((q) => [q.version, q.pin, q.rows, q.labelled])).toEqual([
      [1, 'production', 12, 8],
      [2, 'canary', 3, 1],
    ]);
    const v1 = figures[0] as LiveQuality;
    expect(v1.accuracy).toEqual(wilsonInterval(6, 8, 0.95));
    expect(v1.accuracy?.estimate).toBe(0.75);
    // by hand: setosa F1 1, versicolor P 1/2 R 1/2, virginica P 2/3 R 2/3
    expect(v1.macroF1?.estimate).toBeCloseTo((1 + 1 / 2 + 2 / 3) / 3, 12);
    expect(v1.predictedShare).toEqual({ setosa: 5 / 12, versicolor: 3 / 12, virginica: 4 / 12 });
    expect(v1.notes).toEqual(['only 8 labelled rows: the intervals are wide']);
    expect(json.stdout.endsWith('}\n]\n')).toBe(true);

    const text = await live(dir, 'iris');
    expect(text.code).toBe(0);
    const a = wilsonInterval(6, 8, 0.95);
    const lines = text.stdout.split('\n');
    expect(lines[0]).toMatch(
      /^iris: live quality \d{4}-\d\d-\d\d \d\d:\d\d:\d\d → .* UTC, from \.pinml\/serve\/predictions\.db$/,
    );
    expect(lines[1]).toMatch(
      /^version\s+pin\s+rows\s+labelled\s+accuracy \(95%\)\s+macro-F1 \(95%\)/,
    );
    const v1Line = lines.find((l) => l.startsWith('v1 '));
    expect(v1Line).toContain(`0.7500 [${a.low.toFixed(4)}, ${a.high.toFixed(4)}]`);
    expect(v1Line).toContain('setosa 41.7%, versicolor 25.0%, virginica 33.3%');
    expect(v1Line).toMatch(/^v1\s+production\s+12\s+8\s/);
    expect(text.stdout).toContain('v1 production: only 8 labelled rows: the intervals are wide');
    expect(text.stdout).toContain('macro-F1: percentile bootstrap, 1000 resamples, seed 7');
  });

  it('reads the window --since names, one version, and a file named by --store or --data-dir', async () => {
    const { dir, file } = await project();
    const week = parsed((await live(dir, 'iris@1', '--since', '7d', '--json')).stdout);
    // the five older rows, all wrong, join the window
    expect(week.map((q) => [q.version, q.rows, q.labelled])).toEqual([[1, 17, 13]]);
    expect(week[0]?.accuracy?.estimate).toBeCloseTo(6 / 13, 12);
    const iso = new Date(Date.now() - 90 * MINUTE).toISOString();
    const recent = parsed((await live(dir, 'iris@1', '--since', iso, '--json')).stdout);
    expect(recent[0]?.rows).toBe(12);
    const elsewhere = await temps.make();
    const byStore = await live(elsewhere, 'iris', '--store', file, '--json');
    expect(byStore.code).toBe(0);
    expect(parsed(byStore.stdout)).toHaveLength(2);
    const byDir = await live(elsewhere, 'wine', '--data-dir', path.dirname(file), '--json');
    expect(parsed(byDir.stdout).map((q) => [q.model, q.rows, q.labelled, q.accuracy])).toEqual([
      ['wine', 1, 0, null],
    ]);
    const byEnv = await pinmlWith(
      { cwd: elsewhere, env: { PINML_DATA_DIR: path.dirname(file) } },
      'live',
      'wine',
    );
    expect(byEnv.code).toBe(0);
    expect(byEnv.stdout).toMatch(/^v1\s+production\s+1\s+0\s+—\s+—\s+red 100\.0%$/m);
  });

  it('says there are no rows for a model it has not seen in the window, exit 1', async () => {
    const { dir } = await project();
    const r = await live(dir, 'nope');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(
      /^pinml: no rows for nope since \d{4}-\d\d-\d\dT[\d:.]+Z in \.pinml\/serve\/predictions\.db\n$/,
    );
    const version = await live(dir, 'iris@9', '--json');
    expect(version.code).toBe(1);
    expect(version.stdout).toBe('[]\n');
    expect(version.stderr).toContain('no rows for iris@9 since');
  });

  it('says where it looked when there is no log, and creates none', async () => {
    const dir = await temps.make();
    const r = await live(dir, 'iris');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no prediction log at .pinml/serve/predictions.db');
    expect(r.stderr).toContain('--store');
    expect(existsSync(path.join(dir, '.pinml'))).toBe(false);
  });
});

/** `pinml live iris --server URL …` with PINML_ADMIN_TOKEN set to `token` (unset: undefined). */
function liveFrom(cwd: string, url: string, token: string | undefined, ...more: string[]) {
  const env = token === undefined ? {} : { PINML_ADMIN_TOKEN: token };
  return pinmlWith({ cwd, env }, 'live', 'iris', '--server', url, ...more);
}

describe('pinml live from a server', () => {
  it("reads the server's /logs page by page with the admin token: the same figures", async () => {
    const { dir, store } = await project();
    const server = await logServer(store, TOKEN, 4);
    const remote = await liveFrom(dir, server.url, TOKEN, '--json');
    expect(remote.stderr).toBe('');
    expect(remote.code).toBe(0);
    const local = await live(dir, 'iris', '--json');
    expect(parsed(remote.stdout)).toEqual(parsed(local.stdout));
    // 15 iris rows in the window, 4 a page: 4 pages, each after the last one's cursor
    expect(server.requests).toHaveLength(4);
    expect(server.requests.every((r) => r.authorization === `Bearer ${TOKEN}`)).toBe(true);
    const queries = server.requests.map((r) => new URL(r.url, 'http://x').searchParams);
    expect(queries.map((q) => q.get('model'))).toEqual(['iris', 'iris', 'iris', 'iris']);
    expect(queries.map((q) => q.get('after'))).toEqual([
      null,
      expect.any(String),
      expect.any(String),
      expect.any(String),
    ]);
    expect(new Set(queries.map((q) => q.get('after'))).size).toBe(4);
    const env = { PINML_ADMIN_TOKEN: TOKEN };
    const text = await pinmlWith({ cwd: dir, env }, 'live', 'iris@2', '--server', `${server.url}/`);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`from ${server.url}/`);
    expect(text.stdout).toMatch(/^v2\s+canary\s+3\s+1\s+1\.0000 \[/m);
    expect(new URL(server.requests.at(-1)?.url ?? '', 'http://x').searchParams.get('version')).toBe(
      '2',
    );
  });

  it('says what to set when the server refuses the token or has /logs off', async () => {
    const { dir, store } = await project();
    const server = await logServer(store, TOKEN, 100);
    const wrong = await liveFrom(dir, server.url, 'not-the-token');
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain(`${server.url}/logs answered 401`);
    expect(wrong.stderr).toContain(
      'set PINML_ADMIN_TOKEN to the admin token the server was started with',
    );
    expect(wrong.stderr).not.toContain('not-the-token');
    const none = await liveFrom(dir, server.url, undefined);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain(
      "--server needs PINML_ADMIN_TOKEN set to the server's admin token",
    );
    const off = await logServer(store, undefined, 100);
    const r = await liveFrom(dir, off.url, TOKEN);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${off.url}/logs answered 404`);
    expect(r.stderr).toContain('started with PINML_ADMIN_TOKEN set');
    expect(r.stderr).not.toContain(TOKEN);
  });

  it('says when the server cannot be reached', async () => {
    const dir = await temps.make();
    const server = await logServer(new SqliteLog(path.join(dir, 'x.db')), TOKEN, 1);
    const url = server.url;
    await closers.pop()?.();
    const r = await liveFrom(dir, url, TOKEN);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`cannot reach ${url}/logs`);
    expect(r.stderr).toContain(`is the server running at ${url}?`);
  });
});

describe('pinml live usage', () => {
  it('refuses bad options with exit 2, naming the option', async () => {
    const dir = await temps.make();
    const since = await live(dir, 'iris', '--since', 'yesterday');
    expect(since.code).toBe(2);
    expect(since.stderr).toContain('--since must be an ISO 8601 time');
    expect((await live(dir, 'iris', '--since', '0h')).stderr).toContain(
      '--since must be a duration',
    );
    const future = await live(dir, 'iris', '--since', '2999-01-01');
    expect([future.code, future.stderr]).toEqual([
      2,
      expect.stringContaining('--since must be in the past'),
    ]);
    const both = await liveFrom(dir, 'http://127.0.0.1:1', TOKEN, '--store', 'x.db');
    expect([both.code, both.stderr]).toEqual([2, expect.stringContaining('leave out --store')]);
    const url = await liveFrom(dir, 'localhost:8080', TOKEN);
    expect([url.code, url.stderr]).toEqual([2, expect.stringContaining('--server must be')]);
    expect((await live(dir, 'iris@x')).code).toBe(2);
    expect((await live(dir)).code).toBe(2);
  });
});
