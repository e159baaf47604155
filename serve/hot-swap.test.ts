/**
 * Hot swap under load: the server runs as `npm start` runs it (`node serve/bin/pinml-serve.js`,
 * configured by environment), clients keep predicting while 20 commits move the pin back and
 * forth, and every answer must be a success whose header, body and probabilities all agree with
 * one version, the version its commit pins.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { loadModel } from '../pipeline/models/index.ts';
import { serverRuntimes } from '../pipeline/testing/runtimes.ts';
import { COMMIT_HEADER, VERSION_HEADER } from './answer/respond.ts';
import { irisRows } from './testing/fixtures.ts';
import { startServe, type ServeProcess } from '../pipeline/testing/serve-process.ts';
import { createSandbox, type Sandbox } from './testing/sandbox.ts';
import { waitFor } from './testing/server.ts';

const FEATURES = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];
const SWAPS = 20;
const CLIENTS = 16;

describe.each(serverRuntimes())('on $name', (runtime) => {
  let sandbox: Sandbox;
  let server: ServeProcess;

  beforeAll(async () => {
    sandbox = await createSandbox();
    server = await startServe(runtime, { PINML_REPO: sandbox.dir, PINML_POLL_INTERVAL: '0.05' });
  }, 120_000);

  afterAll(async () => {
    server?.kill();
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
    const answers: { row: number; header: string | null; commit: string | null; text: string }[] =
      [];
    let requests = 0;
    let done = false;

    const client = async (offset: number): Promise<void> => {
      for (let i = offset; !done; i += CLIENTS) {
        const r = i % rows.length;
        const row = rows[r] as number[];
        try {
          const res = await fetch(`${server.url}/predict`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({
              inputs: Object.fromEntries(FEATURES.map((f, j) => [f, row[j]])),
            }),
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
        const res = await fetch(`${server.url}/models/iris`);
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
    const swaps = server.logs.filter(
      (l) => typeof l.msg === 'string' && l.msg.startsWith('serving iris@'),
    );
    expect(swaps.length).toBeGreaterThanOrEqual(SWAPS + 1);

    // SIGTERM: the server finishes, logs that it stopped and exits 0.
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    expect(server.logs.some((l) => l.msg === 'stopped')).toBe(true);
  }, 120_000);
});
