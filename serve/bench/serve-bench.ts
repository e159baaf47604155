/**
 * `npm run bench:serve`: the inference server's figures, in one run, on this machine.
 *
 * 1. Reconcile latency, commit → served: a sandbox repository (serve/testing/sandbox.ts) is
 *    served by two servers started as `npm start` starts them; the pin moves with the git CLI and
 *    the time until `/models/iris` answers for the new commit is measured, once after a signed
 *    webhook (server without polling) and once with polling only (server polling every
 *    `--poll` seconds, so expect about half the interval on average).
 * 2. Requests/s and p99 at `--connections` (50) on loopback, with wrk when it is installed (else
 *    autocannon; `--tool`), with bodies cycling through 1,200 distinct Iris rows, for: the
 *    reference, a bare Hono app on `@hono/node-server` with one POST route that reads the JSON
 *    body and answers a fixed object (the floor of any Hono POST server); for information, a
 *    bare `node:http` handler doing the same; and pinml started as `npm start` starts it (default
 *    logging, metrics, validation) on its four prediction protocols with the same rows:
 *    `POST /predict`, the Open Inference Protocol's `POST /v2/models/iris/infer`, MLflow's
 *    `POST /invocations` and KServe v1's `POST /v1/models/iris:predict`. They run side by side
 *    and are loaded in turn, `--rounds` (3) rounds of `--duration` (5) s each after an unrecorded
 *    warm-up; each figure is the median of its rounds. pinml runs twice: with the prediction
 *    log on (the default: every row recorded in SQLite) and with it off (`/predict` only), so
 *    the log's cost is measured in the same run; and a third time serving a branch whose pins
 *    add a shadow (the other version, predicting every request after its answer), for the
 *    shadow's cost on `/predict`. Then the server's resident memory.
 * 2b. The prediction log at full rate for `--sustain` (30) s on `/predict`: the queue's peak
 *    depth against its bound and the rows dropped (from `/metrics`), and the memory after.
 * 3. The FastAPI + scikit-learn peer (../shared/bench/peer/run.sh, wrk at c=50): median of
 *    `--peer-runs` (3) runs; skipped, with the reason, when its Python packages or wrk are missing.
 *
 * Load generator and servers share this machine's cores: compare figures from the same run.
 * Ends with one JSON line of the figures; `--json` prints only that line on stdout.
 *
 *   npm run bench:serve -- [--duration 5] [--rounds 3] [--connections 50] [--poll 1]
 *                          [--reconcile-runs 5] [--peer-runs 3] [--peer-duration 15] [--no-peer]
 *                          [--sustain 30] [--tool wrk|autocannon] [--json]
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs, promisify } from 'node:util';

// @ts-expect-error -- autocannon ships no type declarations; the few fields used are typed below.
import autocannonModule from 'autocannon';

import { COMMIT_HEADER } from '../answer/respond.ts';
import { LOG_QUEUE_ROWS } from '../main.ts';
import { buildServer } from '../scripts/build.ts';
import { irisRows } from '../testing/fixtures.ts';
import { createSandbox, type Sandbox } from '../testing/sandbox.ts';
import { pushWebhook } from '../testing/server.ts';

const execFileAsync = promisify(execFile);
const ROOT = new URL('../../', import.meta.url).pathname;
const PEER_DIR = join(ROOT, '../shared/bench/peer');
const PYTHON = '/usr/bin/python3';
const SECRET = 'bench-secret';

interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p99: number; average: number; p50: number };
  non2xx: number;
  errors: number;
  timeouts: number;
  duration: number;
}
type Autocannon = (options: Record<string, unknown>) => Promise<AutocannonResult>;
const autocannon = autocannonModule as Autocannon;

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '50' },
    poll: { type: 'string', default: '1' },
    'reconcile-runs': { type: 'string', default: '5' },
    'peer-runs': { type: 'string', default: '3' },
    'peer-duration': { type: 'string', default: '15' },
    'no-peer': { type: 'boolean', default: false },
    sustain: { type: 'string', default: '30' },
    tool: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});
const DURATION = Number(args.duration);
const ROUNDS = Number(args.rounds);
const CONNECTIONS = Number(args.connections);
const POLL_S = Number(args.poll);
const RECONCILE_RUNS = Number(args['reconcile-runs']);
const SUSTAIN_S = Number(args.sustain);

async function hasWrk(): Promise<boolean> {
  try {
    await execFileAsync('wrk', ['--version']);
    return true;
  } catch (err) {
    // wrk --version prints its banner and exits 1.
    return String((err as { stdout?: string }).stdout ?? '').includes('wrk');
  }
}
/** The load generator: wrk when installed (light on the shared cores, as the peer is measured), else autocannon. */
const TOOL: 'wrk' | 'autocannon' =
  args.tool === 'autocannon' || args.tool === 'wrk'
    ? args.tool
    : (await hasWrk())
      ? 'wrk'
      : 'autocannon';

/** Progress and the human-readable report; with --json they go to stderr. */
const say = (line: string): void => {
  (args.json ? process.stderr : process.stdout).write(`${line}\n`);
};

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const round = (x: number, digits = 1): number => Math.round(x * 10 ** digits) / 10 ** digits;

// ------------------------------------------------------------------------------------ processes

interface Child {
  proc: ChildProcess;
  url: string;
  stop(): Promise<void>;
}

/** Every process started, so a failed run stops them too. */
const children = new Set<Child>();

/** Starts a process that prints its port (in a JSON log line, or as `port=N`); waits for it. */
async function startChild(
  command: string,
  argv: string[],
  env: Record<string, string>,
): Promise<Child> {
  const proc = spawn(command, argv, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const early: Child = { proc, url: '', stop: () => Promise.resolve(void proc.kill('SIGKILL')) };
  children.add(early);
  const lines = createInterface({ input: proc.stdout as NodeJS.ReadableStream });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${argv.join(' ')} did not start in 60 s`)),
      60_000,
    );
    proc.once('exit', (code) => reject(new Error(`${argv.join(' ')} exited with ${code}`)));
    lines.on('line', (line) => {
      const plain = /^port=(\d+)$/.exec(line);
      let p = plain ? Number(plain[1]) : undefined;
      if (p === undefined && line.startsWith('{')) {
        const entry = JSON.parse(line) as { port?: number; msg?: string };
        if (typeof entry.port === 'number' && entry.msg?.startsWith('listening')) p = entry.port;
      }
      if (p !== undefined) {
        clearTimeout(timer);
        resolve(p);
      }
    });
  });
  // Drain the rest of its output (the server logs at info).
  lines.on('line', () => undefined);
  children.delete(early);
  const child: Child = {
    proc,
    url: `http://127.0.0.1:${port}`,
    stop: async () => {
      children.delete(child);
      if (proc.exitCode !== null) return;
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await Promise.race([exited, sleep(15_000)]);
      if (proc.exitCode === null) proc.kill('SIGKILL');
    },
  };
  children.add(child);
  return child;
}

// What any node:http JSON POST handler pays before doing its work: read, parse, answer.
const NODE_POST = `
import { createServer } from 'node:http';
const answer = JSON.stringify({ ok: true });
const s = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    JSON.parse(Buffer.concat(chunks).toString());
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(answer);
  });
});
s.listen(0, '127.0.0.1', () => console.log('port=' + s.address().port));
process.on('SIGTERM', () => process.exit(0));`;
// The reference: the floor of any Hono POST server (read the JSON body, answer a fixed object).
const HONO_POST = `
import { Hono } from 'hono';
import { serve } from '@hono/node-server';
const app = new Hono();
app.post('*', async (c) => { await c.req.json(); return c.json({ ok: true }); });
serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => console.log('port=' + info.port));
process.on('SIGTERM', () => process.exit(0));`;

/** The bundle `npm start` builds and runs (`npm run build:serve`), built once per run. */
let bundle: Promise<string> | undefined;

/** pinml-serve as `npm start` runs it, with configuration from the environment; once ready. */
async function startPinml(sandbox: Sandbox, env: Record<string, string>): Promise<Child> {
  bundle ??= buildServer();
  const child = await startChild(process.execPath, [await bundle], {
    PINML_REPO: sandbox.dir,
    PINML_DATA_DIR: await mkdtemp(join(tmpdir(), 'pinml-bench-data-')),
    PINML_HOST: '127.0.0.1',
    PORT: '0',
    ...env,
  });
  const deadline = performance.now() + 60_000;
  while ((await fetch(`${child.url}/ready`)).status !== 200) {
    if (performance.now() > deadline) throw new Error('pinml-serve did not get ready in 60 s');
    await sleep(20);
  }
  return child;
}

async function rssOf(pid: number): Promise<{ rssMb: number; peakMb: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string): number =>
    Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssMb: round(kb('VmRSS') / 1024), peakMb: round(kb('VmHWM') / 1024) };
}

// ------------------------------------------------------------------------------------ reconcile

async function servedCommit(url: string): Promise<string | null> {
  const res = await fetch(`${url}/models/iris`);
  await res.arrayBuffer();
  return res.headers.get(COMMIT_HEADER);
}

/** Milliseconds from a pin commit to the first answer that names it. */
async function reconcileLatency(
  sandbox: Sandbox,
  server: Child,
  version: number,
  webhook: boolean,
): Promise<number> {
  const commit = await sandbox.pin(version, `bench: pin iris@${version}`);
  const t0 = performance.now();
  if (webhook) {
    const res = await pushWebhook(server.url, SECRET, commit);
    if (res.status !== 202) throw new Error(`webhook answered ${res.status}: ${await res.text()}`);
  }
  const deadline = t0 + 30_000;
  while ((await servedCommit(server.url)) !== commit) {
    if (performance.now() > deadline)
      throw new Error(`iris@${version} (${commit}) not served after 30 s`);
    await sleep(2);
  }
  return performance.now() - t0;
}

// ------------------------------------------------------------------------------------ load

interface Load {
  rps: number;
  p99Ms: number;
  meanMs: number;
  requests: number;
  non2xx: number;
  errors: number;
}

type Request = { method: string; path: string; headers: Record<string, string>; body: string };

async function load(url: string, requests?: Request[], seconds = DURATION): Promise<Load> {
  if (TOOL === 'wrk') return loadWrk(url, requests, seconds);
  const options = { url, connections: CONNECTIONS, ...(requests ? { requests } : {}) };
  await autocannon({ ...options, duration: 2 });
  const r = await autocannon({ ...options, duration: seconds });
  return {
    rps: round(r.requests.total / r.duration, 0),
    p99Ms: r.latency.p99,
    meanMs: round(r.latency.average, 2),
    requests: r.requests.total,
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts,
  };
}

const WRK_DONE = `
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRK_JSON {"requests":%d,"duration_s":%.3f,"mean_ms":%.3f,"p99_ms":%.3f,"non2xx":%d,"errors":%d}\\n',
    summary.requests, summary.duration / 1e6, latency.mean / 1000, latency:percentile(99) / 1000,
    e.status, e.connect + e.read + e.write + e.timeout))
end
`;

/** wrk (as the peer is measured): 2 threads, a Lua script that cycles through the bodies. */
async function loadWrk(url: string, requests?: Request[], seconds = DURATION): Promise<Load> {
  const dir = await mkdtemp(join(tmpdir(), 'pinml-bench-'));
  try {
    const lua = (s: string): string => `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
    const script = requests
      ? `local bodies = {\n${requests.map((r) => `  ${lua(r.body)},`).join('\n')}\n}\n` +
        // Requests are formatted once per thread (init), so each one costs wrk a table lookup.
        `local reqs = {}\nlocal i = 0\ninit = function(args)\n  for k, b in ipairs(bodies) do\n` +
        `    reqs[k] = wrk.format("POST", ${lua(requests[0]?.path ?? '/')}, { ["Content-Type"] = "application/json" }, b)\n` +
        `  end\nend\nrequest = function()\n  i = i % #reqs + 1\n  return reqs[i]\nend\n${WRK_DONE}`
      : WRK_DONE;
    const file = join(dir, 'load.lua');
    await writeFile(file, script);
    const target = `${url}${requests?.[0]?.path ?? '/'}`;
    const run = async (seconds: number): Promise<string> =>
      (
        await execFileAsync(
          'wrk',
          [
            '-t2',
            `-c${CONNECTIONS}`,
            `-d${seconds}s`,
            '--timeout',
            '10s',
            '--latency',
            '-s',
            file,
            target,
          ],
          {
            timeout: (seconds + 60) * 1000,
          },
        )
      ).stdout;
    await run(2);
    const out = await run(seconds);
    const line = out.split('\n').find((l) => l.startsWith('WRK_JSON '));
    if (line === undefined) throw new Error(`wrk printed no summary:\n${out}`);
    const j = JSON.parse(line.slice('WRK_JSON '.length)) as {
      requests: number;
      duration_s: number;
      mean_ms: number;
      p99_ms: number;
      non2xx: number;
      errors: number;
    };
    return {
      rps: round(j.requests / j.duration_s, 0),
      p99Ms: round(j.p99_ms, 2),
      meanMs: round(j.mean_ms, 2),
      requests: j.requests,
      non2xx: j.non2xx,
      errors: j.errors,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Medians over rounds (requests and errors are totals). */
function summarise(runs: readonly Load[]): Load & { rounds: number } {
  return {
    rps: median(runs.map((r) => r.rps)),
    p99Ms: median(runs.map((r) => r.p99Ms)),
    meanMs: median(runs.map((r) => r.meanMs)),
    requests: runs.reduce((n, r) => n + r.requests, 0),
    non2xx: runs.reduce((n, r) => n + r.non2xx, 0),
    errors: runs.reduce((n, r) => n + r.errors, 0),
    rounds: runs.length,
  };
}

/** 1,200 distinct Iris-like rows (the Iris rows, shifted by small seeded steps). */
async function distinctRows(n = 1200): Promise<Record<string, number>[]> {
  const base = await irisRows();
  const features = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];
  const seen = new Set<string>();
  const out: Record<string, number>[] = [];
  for (let k = 0; out.length < n; k++) {
    const row = base[k % base.length] as number[];
    const step = Math.floor(k / base.length);
    const values = row.map((x, j) => round(x + ((step * (j + 1) * 7) % 11) * 0.03, 2));
    const key = values.join(',');
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(Object.fromEntries(features.map((f, j) => [f, values[j] as number])));
  }
  return out;
}

/** The prediction log's figures from `/metrics`, once its queue has been written. */
async function logFigures(url: string): Promise<{
  queuePeakRows: number;
  queueBoundRows: number;
  droppedRows: number;
  writtenRows: number;
}> {
  const read = async (): Promise<Record<string, number>> => {
    const text = await (await fetch(`${url}/metrics`)).text();
    const value = (name: string): number =>
      Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
    return {
      queued: value('pinml_log_queue_rows'),
      peak: value('pinml_log_queue_peak_rows'),
      dropped: value('pinml_log_rows_dropped_total'),
      written: value('pinml_log_rows_written_total'),
    };
  };
  let m = await read();
  for (let i = 0; i < 100 && m.queued !== 0; i++) {
    await sleep(100);
    m = await read();
  }
  return {
    queuePeakRows: m.peak as number,
    queueBoundRows: LOG_QUEUE_ROWS,
    droppedRows: m.dropped as number,
    writtenRows: m.written as number,
  };
}

// ------------------------------------------------------------------------------------ peer

async function peerMissing(): Promise<string | undefined> {
  try {
    await access(join(PEER_DIR, 'run.sh'));
  } catch {
    return `${PEER_DIR}/run.sh not found`;
  }
  try {
    await execFileAsync(PYTHON, ['-c', 'import fastapi, uvicorn, sklearn']);
  } catch {
    return `${PYTHON} lacks fastapi/uvicorn/sklearn (apt-get install -y --no-install-recommends python3-fastapi python3-uvicorn python3-sklearn python3-pydantic wrk)`;
  }
  if (!(await hasWrk())) return 'wrk is not installed (apt-get install -y wrk)';
  return undefined;
}

async function peerRun(): Promise<{ rps: number; p99Ms: number }> {
  const { stdout } = await execFileAsync(
    'bash',
    [join(PEER_DIR, 'run.sh'), '18765', String(args['peer-duration'])],
    {
      cwd: PEER_DIR,
      env: { ...process.env, PYTHON },
      timeout: 180_000,
    },
  );
  const line = stdout.trim().split('\n').pop() ?? '';
  const j = JSON.parse(line) as { rps: number; p99_ms: number };
  return { rps: j.rps, p99Ms: j.p99_ms };
}

// ------------------------------------------------------------------------------------ run

/**
 * A branch `shadowed` of the sandbox whose pins.json keeps main's production version and pins
 * the other registered version as its shadow (pins format 2), committed beside main.
 */
async function shadowedBranch(sandbox: Sandbox): Promise<string> {
  const pins = JSON.parse(await sandbox.git('show', 'main:registry/iris/pins.json')) as {
    production: number;
  };
  const shadowed = {
    formatVersion: 2,
    model: 'iris',
    production: pins.production,
    shadow: { version: pins.production === 1 ? 2 : 1 },
  };
  const wt = await mkdtemp(join(tmpdir(), 'pinml-bench-shadow-'));
  await sandbox.git('worktree', 'add', '--quiet', '-b', 'shadowed', wt, 'main');
  await writeFile(join(wt, 'registry/iris/pins.json'), `${JSON.stringify(shadowed, null, 2)}\n`);
  await sandbox.git('-C', wt, 'commit', '--quiet', '-am', 'bench: a shadow of the other version');
  return 'shadowed';
}

async function main(): Promise<void> {
  const figures: Record<string, unknown> = {};
  say(
    `serve-bench: ${TOOL}, ${CONNECTIONS} connections, ${ROUNDS} rounds of ${DURATION} s per server, node ${process.version}, ${cpus().length} cores`,
  );
  figures.tool = TOOL;
  say('building the sandbox repository (two short trainings)…');
  const sandbox = await createSandbox();
  try {
    // 1. reconcile latency
    const polling = await startPinml(sandbox, { PINML_POLL_INTERVAL: String(POLL_S) });
    const hooked = await startPinml(sandbox, {
      PINML_POLL_INTERVAL: '0',
      PINML_WEBHOOK_SECRET: SECRET,
    });
    const webhookMs: number[] = [];
    const pollMs: number[] = [];
    let version = 1;
    for (let i = 0; i < RECONCILE_RUNS; i++) {
      version = version === 1 ? 2 : 1;
      webhookMs.push(await reconcileLatency(sandbox, hooked, version, true));
      // The polling server follows the same commit on its own; settle before the next one.
      while ((await servedCommit(polling.url)) !== (await sandbox.head())) await sleep(20);
    }
    for (let i = 0; i < RECONCILE_RUNS; i++) {
      version = version === 1 ? 2 : 1;
      // Commit at a random moment of the poll cycle (right after the last swap is right after a
      // poll, which would always measure a whole interval).
      await sleep(((i + 0.5) / RECONCILE_RUNS) * POLL_S * 1000);
      pollMs.push(await reconcileLatency(sandbox, polling, version, false));
    }
    await polling.stop();
    await hooked.stop();
    figures.reconcile = {
      webhookMs: {
        median: round(median(webhookMs)),
        max: round(Math.max(...webhookMs)),
        runs: webhookMs.length,
      },
      pollMs: {
        median: round(median(pollMs)),
        max: round(Math.max(...pollMs)),
        runs: pollMs.length,
        intervalS: POLL_S,
      },
    };
    say(
      `reconcile commit → served: webhook median ${round(median(webhookMs))} ms (max ${round(Math.max(...webhookMs))}), ` +
        `poll every ${POLL_S} s median ${round(median(pollMs))} ms (max ${round(Math.max(...pollMs))})`,
    );

    // 2. throughput: the servers run side by side and are loaded in turn, round after round,
    // so a change in the machine's load (other processes) hits all alike; each figure is the
    // median of its rounds.
    const honoPost = await startChild(
      process.execPath,
      ['--input-type=module', '-e', HONO_POST],
      {},
    );
    const nodePost = await startChild(
      process.execPath,
      ['--input-type=module', '-e', NODE_POST],
      {},
    );
    // As `npm start` runs it: the prediction log on (the default), and with it off.
    const pinml = await startPinml(sandbox, {});
    const pinmlNoLog = await startPinml(sandbox, { PINML_PREDICTION_LOG: 'off' });
    // With a shadow: the branch `shadowed` pins the other version as production's shadow.
    const pinmlShadow = await startPinml(sandbox, { PINML_REF: await shadowedBranch(sandbox) });
    const rows = await distinctRows();
    const features = Object.keys(rows[0] as object);
    const post = (path: string, body: (row: Record<string, number>) => unknown): Request[] =>
      rows.map((row) => ({
        method: 'POST',
        path,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body(row)),
      }));
    const loads = {
      pinmlPredict: post('/predict', (inputs) => ({ inputs })),
      // One tensor per feature, as the model's metadata advertises.
      pinmlInfer: post('/v2/models/iris/infer', (row) => ({
        inputs: Object.entries(row).map(([name, v]) => ({
          name,
          shape: [1],
          datatype: 'FP64',
          data: [v],
        })),
      })),
      // MLflow's documented example shape: a row as an array in signature order.
      pinmlInvocations: post('/invocations', (row) => ({ inputs: [features.map((f) => row[f])] })),
      pinmlKserve: post('/v1/models/iris:predict', (row) => ({
        instances: [features.map((f) => row[f])],
      })),
    };
    for (const requests of Object.values(loads)) {
      const first = requests[0] as Request;
      const check = await fetch(`${pinml.url}${first.path}`, {
        method: 'POST',
        headers: first.headers,
        body: first.body,
      });
      if (check.status !== 200) {
        throw new Error(`pinml ${first.path} answered ${check.status}: ${await check.text()}`);
      }
      await check.arrayBuffer();
    }
    const names = [
      'honoPost',
      'nodePost',
      ...Object.keys(loads),
      'pinmlPredictLogOff',
      'pinmlPredictShadow',
    ] as const;
    const rounds: Record<string, Load[]> = Object.fromEntries(names.map((n) => [n, []]));
    for (let r = 1; r <= ROUNDS; r++) {
      rounds.honoPost?.push(await load(honoPost.url, loads.pinmlPredict));
      rounds.nodePost?.push(await load(nodePost.url, loads.pinmlPredict));
      for (const [name, requests] of Object.entries(loads)) {
        rounds[name]?.push(await load(pinml.url, requests));
      }
      rounds.pinmlPredictLogOff?.push(await load(pinmlNoLog.url, loads.pinmlPredict));
      rounds.pinmlPredictShadow?.push(await load(pinmlShadow.url, loads.pinmlPredict));
      say(`round ${r}: ${names.map((n) => `${n} ${rounds[n]?.at(-1)?.rps} req/s`).join(', ')}`);
    }
    figures.memory = await rssOf(pinml.proc.pid as number);
    // The prediction log at full rate for --sustain seconds: the queue's peak depth since the
    // server started (every round above, then this run) and the rows dropped.
    say(`prediction log: /predict at full rate for ${SUSTAIN_S} s…`);
    const sustained = await load(pinml.url, loads.pinmlPredict, SUSTAIN_S);
    figures.predictionLog = { ...(await logFigures(pinml.url)), sustained };
    figures.memoryAfterSustain = await rssOf(pinml.proc.pid as number);
    say(`prediction log   ${JSON.stringify(figures.predictionLog)}`);
    await Promise.all([
      honoPost.stop(),
      nodePost.stop(),
      pinml.stop(),
      pinmlNoLog.stop(),
      pinmlShadow.stop(),
    ]);
    for (const name of names) {
      figures[name] = { ...summarise(rounds[name] ?? []), distinctRows: rows.length };
      say(`${name.padEnd(17)} ${JSON.stringify(figures[name])}`);
    }
    say(`pinml memory      ${JSON.stringify(figures.memory)}`);

    // 3. peer
    const missing = args['no-peer'] ? 'skipped with --no-peer' : await peerMissing();
    if (missing !== undefined) {
      figures.peer = { skipped: missing };
      say(`peer skipped: ${missing}`);
    } else {
      const runs: { rps: number; p99Ms: number }[] = [];
      for (let i = 0; i < Number(args['peer-runs']); i++) {
        runs.push(await peerRun());
        say(`peer run ${i + 1}: ${JSON.stringify(runs.at(-1))}`);
      }
      figures.peer = {
        rps: median(runs.map((r) => r.rps)),
        p99Ms: median(runs.map((r) => r.p99Ms)),
        runs,
      };
    }
  } finally {
    await Promise.all([...children].map((c) => c.stop()));
    await sandbox.remove();
  }

  // Targets of issue 12.
  const hono = figures.honoPost as Load;
  const peer = figures.peer as { rps?: number };
  const reconcile = figures.reconcile as { webhookMs: { max: number } };
  // The high-water mark after every round and the sustained run.
  const memory = figures.memoryAfterSustain as { peakMb: number };
  const pinmlLoads = ['pinmlPredict', 'pinmlInfer', 'pinmlInvocations', 'pinmlKserve'];
  const of = (name: string): Load => figures[name] as Load;
  const vsHono = (name: string, target: number) => ({
    value: round(of(name).rps / hono.rps, 2),
    target: `>= ${target}`,
    ok: of(name).rps >= target * hono.rps,
  });
  const vsPeer = (name: string) =>
    peer.rps
      ? {
          value: round(of(name).rps / peer.rps, 0),
          target: '>= 100',
          ok: of(name).rps >= 100 * peer.rps,
        }
      : { value: null, target: '>= 100', ok: null };
  const errors = [...pinmlLoads, 'pinmlPredictLogOff', 'pinmlPredictShadow'].reduce(
    (n, name) => n + of(name).non2xx + of(name).errors,
    0,
  );
  const log = figures.predictionLog as Awaited<ReturnType<typeof logFigures>> & {
    sustained: Load;
  };
  const logCost = 1 - of('pinmlPredict').rps / of('pinmlPredictLogOff').rps;
  const targets = {
    predictVsHonoPostRps: vsHono('pinmlPredict', 0.7),
    predictVsHonoPostP99: {
      value: round(of('pinmlPredict').p99Ms / hono.p99Ms, 2),
      target: '<= 2',
      ok: of('pinmlPredict').p99Ms <= 2 * hono.p99Ms,
    },
    inferVsHonoPostRps: vsHono('pinmlInfer', 0.5),
    invocationsVsHonoPostRps: vsHono('pinmlInvocations', 0.5),
    kserveVsHonoPostRps: vsHono('pinmlKserve', 0.5),
    predictVsPeerRps: vsPeer('pinmlPredict'),
    inferVsPeerRps: vsPeer('pinmlInfer'),
    invocationsVsPeerRps: vsPeer('pinmlInvocations'),
    kserveVsPeerRps: vsPeer('pinmlKserve'),
    shadowPredictVsPredictRps: {
      value: round(of('pinmlPredictShadow').rps / of('pinmlPredict').rps, 2),
      target: '>= 0.6',
      ok: of('pinmlPredictShadow').rps >= 0.6 * of('pinmlPredict').rps,
    },
    predictionLogCostPct: {
      value: round(100 * logCost, 1),
      target: '<= 10',
      ok: logCost <= 0.1,
    },
    predictionLogQueuePeakRows: {
      value: log.queuePeakRows,
      target: `<= ${log.queueBoundRows}`,
      ok: log.queuePeakRows <= log.queueBoundRows,
    },
    predictionLogDroppedRows: { value: log.droppedRows, target: '0', ok: log.droppedRows === 0 },
    zeroErrors: {
      value: errors + log.sustained.non2xx + log.sustained.errors,
      target: '0',
      ok: errors + log.sustained.non2xx + log.sustained.errors === 0,
    },
    peakRssMb: { value: memory.peakMb, target: '<= 150', ok: memory.peakMb <= 150 },
    reconcileWebhookMaxMs: {
      value: reconcile.webhookMs.max,
      target: '<= 1000',
      ok: reconcile.webhookMs.max <= 1000,
    },
  };
  figures.targets = targets;
  // Not a target: how a bare node:http handler compares with the bare Hono route.
  figures.nodePostVsHonoPostRps = round((figures.nodePost as Load).rps / hono.rps, 2);
  say(
    `reference: bare node:http JSON POST = ${String(figures.nodePostVsHonoPostRps)}x the bare Hono POST route`,
  );
  say('targets:');
  for (const [name, t] of Object.entries(targets))
    say(
      `  ${t.ok === null ? 'n/a ' : t.ok ? 'ok  ' : 'MISS'} ${name} = ${t.value} (target ${t.target})`,
    );
  process.stdout.write(`${JSON.stringify(figures)}\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(
      `serve-bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  },
);
