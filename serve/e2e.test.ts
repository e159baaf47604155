/**
 * End to end over real sockets against a sandbox repository whose pins move with the real git
 * CLI. Two servers follow it: one polls, one reconciles only when a signed webhook arrives.
 * Every wait has a generous deadline; nothing asserts on timing.
 */
import { readFile, writeFile, mkdir, copyFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { loadModel } from '../pipeline/models/index.ts';
import { COMMIT_HEADER, VERSION_HEADER } from './answer/respond.ts';
import { createSandbox, type Sandbox } from './testing/sandbox.ts';
import { pushWebhook, startServer, waitFor, type RunningServer } from './testing/server.ts';

const SECRET = 'e2e secret';
const ROW = { sepal_length: 6.1, sepal_width: 2.8, petal_length: 4.7, petal_width: 1.2 };
const ROW_VALUES = Object.values(ROW);

let sandbox: Sandbox;
let polling: RunningServer;
let hooked: RunningServer;

beforeAll(async () => {
  sandbox = await createSandbox();
  polling = await startServer({ repo: sandbox.dir, pollMs: 200 });
  hooked = await startServer({ repo: sandbox.dir, pollMs: 0, webhookSecret: SECRET });
}, 120_000);

afterAll(async () => {
  await polling?.close();
  await hooked?.close();
  await sandbox?.remove();
});

interface Answer {
  status: number;
  header: string | null;
  commit: string | null;
  body: { version: number; commit: string; prediction: { probabilities: Record<string, number> } };
}

async function predict(server: RunningServer): Promise<Answer> {
  const res = await fetch(`${server.url}/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ inputs: ROW }),
  });
  return {
    status: res.status,
    header: res.headers.get(VERSION_HEADER),
    commit: res.headers.get(COMMIT_HEADER),
    body: (await res.json()) as Answer['body'],
  };
}

/** What the registry's artifact of `version` predicts for ROW, by the pipeline's own loader. */
async function expected(version: number): Promise<Record<string, number>> {
  const text = await readFile(
    join(sandbox.dir, `registry/iris/versions/${version}/model.json`),
    'utf8',
  );
  const model = loadModel(JSON.parse(text));
  const p = model.predictProba([ROW_VALUES])[0] as number[];
  return Object.fromEntries(model.classes.map((c, j) => [String(c), p[j] as number]));
}

function serving(server: RunningServer, version: number, commit?: string): Promise<Answer> {
  return waitFor(`iris@${version}${commit ? ` at ${commit.slice(0, 7)}` : ''}`, async () => {
    const a = await predict(server);
    return a.status === 200 && a.body.version === version && (!commit || a.commit === commit)
      ? a
      : undefined;
  });
}

describe('the server follows main', () => {
  let promotion: string;

  it('serves what main pins from the start: iris@1 at main', async () => {
    const head = await sandbox.head();
    for (const server of [polling, hooked]) {
      const a = await serving(server, 1, head);
      expect(a.header).toBe('iris@1');
      expect(a.body.commit).toBe(head);
      expect(a.body.prediction.probabilities).toEqual(await expected(1));
    }
  });

  it('serves a promotion merged with the git CLI after a poll', async () => {
    await sandbox.git('checkout', '--quiet', '-b', 'promote-iris-2');
    await sandbox.pin(2, 'pinml: promote iris@2 to production');
    await sandbox.git('checkout', '--quiet', 'main');
    await sandbox.git(
      'merge',
      '--quiet',
      '--no-ff',
      '-m',
      'Merge pull request #2 from promote-iris-2',
      'promote-iris-2',
    );
    promotion = await sandbox.head();
    const a = await serving(polling, 2, promotion);
    expect(a.header).toBe('iris@2');
    expect(a.body.prediction.probabilities).toEqual(await expected(2));
    expect(a.body.prediction.probabilities).not.toEqual(await expected(1));
  });

  it('serves it after a signed webhook when it does not poll', async () => {
    // Without a poll nothing tells this server that main moved.
    expect((await predict(hooked)).body.version).toBe(1);
    const unsigned = await fetch(`${hooked.url}/webhooks/github`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-github-event': 'push' },
      body: JSON.stringify({ ref: 'refs/heads/main' }),
    });
    expect(unsigned.status).toBe(401);
    expect((await predict(hooked)).body.version).toBe(1);
    const res = await pushWebhook(hooked.url, SECRET, promotion);
    expect(res.status).toBe(202);
    const a = await serving(hooked, 2, promotion);
    expect(a.body.prediction.probabilities).toEqual(await expected(2));
  });

  it('serves the previous version again after git revert', async () => {
    await sandbox.git('revert', '--no-edit', '-m', '1', promotion);
    const revert = await sandbox.head();
    const a = await serving(polling, 1, revert);
    expect(a.body.prediction.probabilities).toEqual(await expected(1));
    await pushWebhook(hooked.url, SECRET, revert);
    await serving(hooked, 1, revert);
  });

  it('keeps serving the old version when the pinned artifact is corrupt, and /health says why', async () => {
    const before = await sandbox.head();
    // iris@3: iris@2's card and a model.json whose bytes no longer match the card's SHA-256.
    const v2 = join(sandbox.dir, 'registry/iris/versions/2');
    const v3 = join(sandbox.dir, 'registry/iris/versions/3');
    await mkdir(v3, { recursive: true });
    const card = JSON.parse(await readFile(join(v2, 'card.json'), 'utf8')) as { version: number };
    card.version = 3;
    await writeFile(join(v3, 'card.json'), `${JSON.stringify(card, null, 2)}\n`);
    await copyFile(join(v2, 'model.json'), join(v3, 'model.json'));
    const artifact = await readFile(join(v3, 'model.json'), 'utf8');
    await writeFile(
      join(v3, 'model.json'),
      artifact.replace(/"weights": \[\s*\[\s*-?\d/, (m) => `${m}7`),
    );
    expect(await readFile(join(v3, 'model.json'), 'utf8')).not.toBe(artifact);
    await sandbox.git('add', 'registry/iris/versions/3');
    await sandbox.git('commit', '--quiet', '-m', 'register a corrupt iris@3');
    const registered = await sandbox.head();
    const broken = await sandbox.pin(3, 'pin the corrupt iris@3');

    const health = await waitFor('a degraded /health', async () => {
      const res = await fetch(`${polling.url}/health`);
      const body = (await res.json()) as {
        status: string;
        commit: string;
        problems: { version: number; message: string }[];
      };
      return res.status === 200 && body.status === 'degraded' && body.commit === broken
        ? body
        : undefined;
    });
    expect(health.problems).toHaveLength(1);
    expect(health.problems[0]).toMatchObject({
      model: 'iris',
      version: 3,
      code: 'E_REGISTRY',
      commit: broken,
    });
    expect(health.problems[0]?.message).toMatch(
      /model\.json .* has sha256 .* but its card records/,
    );

    // Still iris@1, answering for the newest commit whose pin names it (a poll may or may not
    // have seen the commit that registered iris@3 before the one that pinned it).
    const a = await predict(polling);
    expect(a.status).toBe(200);
    expect(a.body.version).toBe(1);
    expect([before, registered]).toContain(a.commit);
    expect(a.body.prediction.probabilities).toEqual(await expected(1));
    expect((await fetch(`${polling.url}/ready`)).status).toBe(200);
    const metrics = await (await fetch(`${polling.url}/metrics`)).text();
    expect(metrics).toContain('pinml_model_load_failures_total{model="iris"} 1');
    expect(metrics).toContain('pinml_degraded 1');

    // Rolling the pin back clears the problem.
    await sandbox.git('revert', '--no-edit', 'HEAD');
    const fixed = await sandbox.head();
    await waitFor('a healthy /health', async () => {
      const body = (await (await fetch(`${polling.url}/health`)).json()) as {
        status: string;
        commit: string;
      };
      return body.status === 'ok' && body.commit === fixed ? body : undefined;
    });
    expect((await predict(polling)).commit).toBe(fixed);
  });
});
