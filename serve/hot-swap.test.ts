/**
 * Hot swap under load: the server runs as `npm start` runs it (`node serve/bin/pinml-serve.js`,
 * configured by environment), clients keep predicting while 20 commits move the pin back and
 * forth, and every answer must be a success whose header, body and probabilities all agree with
 * one version, the version its commit pins.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

import { afterAll, beforeAll, expect, it } from 'vitest';

import { loadModel } from '../pipeline/models/index.ts';
import { COMMIT_HEADER, VERSION_HEADER } from './answer/headers.ts';
import { ROOT, irisRows } from './testing/fixtures.ts';
import { createSandbox, type Sandbox } from './testing/sandbox.ts';
import { waitFor } from './testing/server.ts';

const FEATURES = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];
const SWAPS = 20;
const CLIENTS = 16;

let sandbox: Sandbox;
let child: ChildProcess;
let url: string;
const logs: Record<string, unknown>[] = [];

beforeAll(async () => {
  sandbox = await createSandbox();
  child = spawn(process.execPath, [join(ROOT, 'serve/bin/pinml-serve.js')], {
    cwd: ROOT,
    env: {
      ...process.env,
      PINML_REPO: sandbox.dir,
      PORT: '0',
      PINML_HOST: '127.0.0.1',
      PINML_POLL_INTERVAL: '0.05',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const listening = new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`pinml-serve exited with ${code}`)));
    lines.on('line', (line) => {
      const entry = JSON.parse(line) as Record<string, unknown>;
      logs.push(entry);
      if (
        typeof entry.port === 'number' &&
        typeof entry.msg === 'string' &&
        entry.msg.startsWith('listening')
      ) {
        resolve(`http://127.0.0.1:${entry.port}`);
      }
    });
  });
  url = await listening;
  await waitFor('readiness', async () =>
    (await fetch(`${url}/ready`)).status === 200 ? true : undefined,
  );
}, 120_000);

afterAll(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  await sandbox?.remove();
});

it('swaps 20 times under load without failing a request or mixing versions', async () => {
  const rows = await irisRows();
  const expected = new Map<number, number[][]>();
  for (const v of [1, 2]) {
    const text = await readFile(
      join(sandbox.dir, `registry/iris/versions/${v}/model.json`),
      'utf8',
    );
    expected.set(v, loadModel(JSON.parse(text)).predictProba(rows));
  }
  const start = await sandbox.head();
  const pinOf = new Map<string, number>([[start, 1]]);
  const seen = new Map<number, number>();
  const failures: string[] = [];
  const answers: { row: number; header: string | null; commit: string | null; text: string }[] = [];
  let requests = 0;
  let done = false;

  const client = async (offset: number): Promise<void> => {
    for (let i = offset; !done; i += CLIENTS) {
      const r = i % rows.length;
      const row = rows[r] as number[];
      try {
        const res = await fetch(`${url}/predict`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ inputs: Object.fromEntries(FEATURES.map((f, j) => [f, row[j]])) }),
        });
        const text = await res.text();
        requests++;
        if (res.status !== 200) {
          failures.push(`HTTP ${res.status}: ${text}`);
          continue;
        }
        // Checked once every commit's pin is known: an answer can name a commit before the
        // git CLI that wrote it has returned here.
        answers.push({
          row: r,
          header: res.headers.get(VERSION_HEADER),
          commit: res.headers.get(COMMIT_HEADER),
          text,
        });
      } catch (err) {
        failures.push(`request failed: ${String(err)}`);
      }
    }
  };

  const load = Array.from({ length: CLIENTS }, (_, i) => client(i));
  let version = 1;
  for (let swap = 0; swap < SWAPS; swap++) {
    version = version === 1 ? 2 : 1;
    const commit = await sandbox.pin(version, `swap ${swap + 1}: pin iris@${version}`);
    pinOf.set(commit, version);
    // The reconciler's poll picks the commit up; wait until an answer says so.
    await waitFor(`swap ${swap + 1} served`, async () => {
      const res = await fetch(`${url}/models/iris`);
      return res.headers.get(COMMIT_HEADER) === commit ? true : undefined;
    });
  }
  done = true;
  await Promise.all(load);
  for (const a of answers) {
    const body = JSON.parse(a.text) as {
      version: number;
      commit: string;
      prediction: { probabilities: Record<string, number> };
    };
    const probabilities = Object.values(body.prediction.probabilities);
    const agree =
      a.header === `iris@${body.version}` &&
      a.commit === body.commit &&
      pinOf.get(a.commit) === body.version &&
      JSON.stringify(probabilities) === JSON.stringify(expected.get(body.version)?.[a.row]);
    if (!agree) failures.push(`mixed answer: ${a.header} ${a.commit} ${a.text}`);
    seen.set(body.version, (seen.get(body.version) ?? 0) + 1);
  }

  expect(failures.slice(0, 5)).toEqual([]);
  expect(requests).toBeGreaterThan(SWAPS * CLIENTS);
  expect(seen.get(1)).toBeGreaterThan(0);
  expect(seen.get(2)).toBeGreaterThan(0);
  const swaps = logs.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('serving iris@'));
  expect(swaps.length).toBeGreaterThanOrEqual(SWAPS + 1);

  // SIGTERM: the server finishes, logs that it stopped and exits 0.
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  child.kill('SIGTERM');
  expect(await exited).toBe(0);
  expect(logs.some((l) => l.msg === 'stopped')).toBe(true);
}, 120_000);
