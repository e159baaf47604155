/**
 * The prediction log of a real server process under load: SIGTERM writes every answered row
 * before the process exits; `kill -9` loses at most the rows of the last flush interval; two
 * processes on one SQLite file both write (WAL, busy timeout) and lose nothing.
 */
import { Agent, request } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { openSqliteLog } from '../../pipeline/log/sqlite.ts';
import { thisNode } from '../../pipeline/testing/runtimes.ts';
import { startServe, type ServeProcess } from '../../pipeline/testing/serve-process.ts';
import { createSandbox, type Sandbox } from '../testing/sandbox.ts';
import { waitFor } from '../testing/server.ts';

const BODY = JSON.stringify({
  inputs: { sepal_length: 6.1, sepal_width: 2.8, petal_length: 4.7, petal_width: 1.2 },
});
/** The server's flush interval (serve/main.ts): what a crash may lose. */
const FLUSH_MS = 250;

let sandbox: Sandbox;
let data: string;
const servers: ServeProcess[] = [];
beforeAll(async () => {
  sandbox = await createSandbox();
  data = await mkdtemp(join(tmpdir(), 'pinml-log-process-'));
}, 120_000);
afterAll(async () => {
  for (const s of servers) s.kill();
  await sandbox?.remove();
  await rm(data, { recursive: true, force: true });
});

/** One POST /predict with a request id: resolves with the status, or 0 when it failed. */
function predict(url: string, agent: Agent, id: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request(
      `${url}/predict`,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'x-request-id': id },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', () => resolve(0));
      },
    );
    req.on('error', () => resolve(0));
    req.end(BODY);
  });
}

/** Clients sending back to back until `stop()`; every answered id with when it was answered. */
function load(url: string, prefix: string, clients = 16) {
  const agent = new Agent({ keepAlive: true, maxSockets: clients });
  const answered = new Map<string, number>();
  let stopped = false;
  const done = Promise.all(
    Array.from({ length: clients }, async (_, k) => {
      for (let n = 0; !stopped; n++) {
        const id = `${prefix}-${k}-${n}`;
        const status = await predict(url, agent, id);
        if (status === 0) return;
        expect(status).toBe(200);
        answered.set(id, performance.now());
      }
    }),
  );
  return {
    answered,
    async stop() {
      stopped = true;
      await done;
      agent.destroy();
    },
  };
}

async function loggedIds(dir: string): Promise<Set<string>> {
  const store = openSqliteLog(join(dir, 'predictions.db'));
  const ids = new Set<string>();
  let after: number | undefined;
  for (;;) {
    const page = await store.read({ limit: 10_000, after });
    for (const r of page.rows) ids.add(r.id);
    if (page.next === null) break;
    after = page.next;
  }
  await store.close();
  return ids;
}

const env = (dir: string): Record<string, string> => ({
  PINML_REPO: sandbox.dir,
  PINML_POLL_INTERVAL: '0',
  PINML_DATA_DIR: dir,
});

describe('the prediction log of a server process', () => {
  it('writes every answered row before exiting on SIGTERM', async () => {
    const dir = join(data, 'term');
    const token = 'admin-token-never-logged-5c1e';
    const server = await startServe(thisNode, { ...env(dir), PINML_ADMIN_TOKEN: token });
    servers.push(server);
    // A wrong token and the right one, then load.
    for (const bearer of ['wrong', token]) {
      await (
        await fetch(`${server.url}/logs?limit=1`, {
          headers: { authorization: `Bearer ${bearer}` },
        })
      ).text();
    }
    const traffic = load(server.url, 'term');
    await waitFor('load', () => Promise.resolve(traffic.answered.size > 3000 ? true : undefined));
    server.child.kill('SIGTERM');
    await traffic.stop();
    expect(await server.exited).toBe(0);
    const logged = await loggedIds(dir);
    const missing = [...traffic.answered.keys()].filter((id) => !logged.has(id));
    expect(missing).toEqual([]);
    expect(server.logs.length).toBeGreaterThan(2);
    expect(JSON.stringify(server.logs)).not.toContain(token);
  }, 60_000);

  it('loses at most the rows of the last flush interval to kill -9', async () => {
    const dir = join(data, 'kill');
    const server = await startServe(thisNode, env(dir));
    servers.push(server);
    const traffic = load(server.url, 'kill');
    await waitFor('load', () => Promise.resolve(traffic.answered.size > 3000 ? true : undefined));
    const killedAt = performance.now();
    server.child.kill('SIGKILL');
    await traffic.stop();
    await server.exited;
    const logged = await loggedIds(dir);
    const lost = [...traffic.answered].filter(([id]) => !logged.has(id));
    // Every row answered more than one flush interval (and a write's margin) before the kill
    // was written; what is lost was answered in the last interval.
    const late = lost.filter(([, at]) => at < killedAt - 2 * FLUSH_MS);
    expect(late).toEqual([]);
    expect(logged.size).toBeGreaterThan(0);
    process.stderr.write(
      `kill -9 after ${traffic.answered.size} answered rows: ${lost.length} lost (bound: the last ${FLUSH_MS} ms)\n`,
    );
  }, 60_000);

  it('lets two processes share one SQLite file, both writing everything', async () => {
    const dir = join(data, 'shared');
    const a = await startServe(thisNode, env(dir));
    const b = await startServe(thisNode, env(dir));
    servers.push(a, b);
    const ta = load(a.url, 'a', 8);
    const tb = load(b.url, 'b', 8);
    await waitFor('load', () =>
      Promise.resolve(ta.answered.size > 1500 && tb.answered.size > 1500 ? true : undefined),
    );
    a.child.kill('SIGTERM');
    b.child.kill('SIGTERM');
    await Promise.all([ta.stop(), tb.stop()]);
    expect(await a.exited).toBe(0);
    expect(await b.exited).toBe(0);
    const logged = await loggedIds(dir);
    const answered = [...ta.answered.keys(), ...tb.answered.keys()];
    expect(answered.filter((id) => !logged.has(id))).toEqual([]);
    expect(logged.size).toBe(answered.length);
    for (const s of [a, b]) {
      expect(s.logs.filter((l) => l.level === 40 || l.level === 50)).toEqual([]);
    }
  }, 60_000);
});
