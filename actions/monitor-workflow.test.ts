/**
 * The live monitor end to end, driven by `.github/workflows/monitor.yml` as GitHub runs it (a
 * `schedule` event, each job's `permissions:` as its token's scopes, the propose job in the
 * model's concurrency group): a real pinml server following the sandbox's registry, its log
 * read through `GET /logs`. Healthy traffic opens nothing; feedback that disagrees with
 * production's answers opens exactly one rollback pull request with the evidence, a second run
 * adds nothing, and its merge is served; a losing canary gets the pull request that removes it,
 * a winning one its promotion.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { parseDataset, type Dataset } from '../pipeline/dataset.ts';
import { SqliteLog } from '../pipeline/log/sqlite.ts';
import type { Pin, PredictionRecord } from '../pipeline/log/store.ts';
import { seededRandom } from '../pipeline/stats.ts';
import { startServe, type ServeProcess } from '../pipeline/testing/serve-process.ts';
import { thisNode } from '../pipeline/testing/runtimes.ts';
import { chapters } from './testing/chapters.ts';
import { irisCsv, workflowRepositoryFiles } from './testing/fixture-repo.ts';
import { node24, node24Available } from './testing/run-action.ts';
import { startSandbox, type Sandbox } from './testing/sandbox.ts';
import { workflowLoop } from './testing/loop.ts';
import type { WorkflowRun } from './testing/workflow-runner.ts';

const TRAIN = '.github/workflows/train.yml';
const MONITOR = '.github/workflows/monitor.yml';
const FEATURES = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];
const CLASSES = ['setosa', 'versicolor', 'virginica'];

const ADMIN_TOKEN = 'admin-token-of-the-monitor-test';
let sandbox: Sandbox;
let server: ServeProcess | undefined;
let store: string;
let iris: Dataset;
const served: string[] = [];
const loop = workflowLoop(() => sandbox, {
  vars: () => ({ PINML_SERVER_URL: server?.url ?? '' }),
  secrets: { PINML_ADMIN_TOKEN: ADMIN_TOKEN },
});
const { run, push, merge, openPulls } = loop;

beforeAll(async () => {
  sandbox = await startSandbox();
  iris = parseDataset(await irisCsv(), {
    path: 'data/iris.csv',
    features: FEATURES,
    label: 'species',
  });
});

afterAll(async () => {
  console.log(`${loop.timing('monitor loop')}; ${served.join('; ')}`);
  server?.kill();
  await sandbox?.close();
});

const monitor = async (): Promise<WorkflowRun> => run(MONITOR, await loop.schedule());
const pullOn = (branch: string) => openPulls().filter((p) => p.head.ref === branch);

/** The `acts` output of the run's propose leg for iris (or of judge when nothing was proposed). */
function actsOf(result: WorkflowRun): { act: string; operation: string; number: number | null }[] {
  const leg = result.jobs.propose?.instances[0] ?? result.jobs.judge?.instances[0];
  const step = leg?.steps.find((s) => s.id === 'monitor' || s.id === 'judge');
  return JSON.parse(step?.outputs.acts ?? '[]') as never;
}

/**
 * Logs `n` rows answered by iris@`version` as `pin`, each labelled by feedback; the first
 * `correct` rows were answered right, the rest wrong.
 */
async function logLabelled(
  arm: { version: number; pin: Pin },
  n: number,
  correct: number,
  seed: number,
): Promise<void> {
  const random = seededRandom(seed);
  const log = new SqliteLog(store);
  const now = Date.now();
  const rows: PredictionRecord[] = [];
  const truth: { id: string; label: string }[] = [];
  for (let k = 0; k < n; k++) {
    const i = Math.floor(random() * iris.rows);
    const label = String(iris.classes[iris.y[i] as number]);
    const wrong = String(iris.classes[((iris.y[i] as number) + 1) % CLASSES.length]);
    const id = `${arm.pin}${arm.version}-${seed}-${k}`;
    rows.push({
      id,
      time: now - 60_000 + k,
      model: 'iris',
      version: arm.version,
      commit: 'c'.repeat(40),
      pin: arm.pin,
      inputs: [...(iris.X[i] as number[])],
      class: k < correct ? label : wrong,
      probabilities: [0.2, 0.3, 0.5],
      latencyMs: 1,
      sampleRate: 1,
    });
    truth.push({ id, label });
  }
  await log.append(rows, [
    { model: 'iris', version: arm.version, features: FEATURES, classes: CLASSES },
  ]);
  await log.appendFeedback(truth.map((t) => ({ ...t, model: 'iris', time: now })));
  await log.close();
}

/** Empties the log (rows and their feedback). */
async function clearLog(): Promise<void> {
  const log = new SqliteLog(store);
  await log.retain({ maxRows: 0 }, Date.now());
  await log.close();
}

/** The pins that answer 200 requests with keys `k0`… (version header and pin header). */
async function answers(): Promise<Map<string, number>> {
  const seen = new Map<string, number>();
  for (let k = 0; k < 200; k++) {
    const res = await fetch(`${server?.url}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-pinml-key': `k${k}` },
      body: JSON.stringify({
        inputs: { sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 },
      }),
    });
    const body = await res.text();
    expect(res.status, body).toBe(200);
    const key = `${res.headers.get('x-pinml-model-version')} ${res.headers.get('x-pinml-pin')}`;
    seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  return seen;
}

/** Waits until `ok(answers)`; returns the seconds it took from `since`. */
async function servedWhen(
  ok: (seen: Map<string, number>) => boolean,
  since: number,
  what: string,
): Promise<number> {
  for (;;) {
    const seen = await answers();
    if (ok(seen)) {
      const seconds = (performance.now() - since) / 1000;
      served.push(`${what} served after ${seconds.toFixed(2)} s`);
      return seconds;
    }
    if (performance.now() - since > 30_000) {
      throw new Error(`${what}: not served after 30 s: ${JSON.stringify([...seen])}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.skipIf(!node24Available('the monitor workflow tests (their actions run on node24) are'))(
  'monitor.yml, run as GitHub Actions runs it',
  () => {
    const { chapter } = chapters();
    chapter('starts from iris@2 in production, trained and promoted by train.yml', async () => {
      node24.binary();
      await run(TRAIN, await push(await workflowRepositoryFiles(), 'A model repository'));
      await merge(openPulls()[0]?.number as number);
      // More rows of the same flowers: v2 is registered and, no worse, promoted.
      const random = seededRandom(5);
      const extra = Array.from({ length: 60 }, () => {
        const i = Math.floor(random() * iris.rows);
        const x = (iris.X[i] as number[]).map((v) => (v + (random() - 0.5) * 0.2).toFixed(1));
        return `${x.join(',')},${String(iris.classes[iris.y[i] as number])}`;
      });
      const csv = `${(await irisCsv()).trimEnd()}\n${extra.join('\n')}\n`;
      await run(TRAIN, await push({ 'data/iris.csv': csv }, 'More iris rows'));
      const promotion = pullOn('pinml/promote-iris')[0];
      expect(promotion?.title).toBe('Promote iris@2 to production');
      await merge(promotion?.number as number);
      expect(await sandbox.show('main', 'registry/iris/pins.json')).toContain('"production": 2');
      server = await startServe(thisNode, {
        PINML_REPO: sandbox.bare,
        PINML_POLL_INTERVAL: '0.2',
        PINML_ADMIN_TOKEN: ADMIN_TOKEN,
      });
      store = path.join(server.dataDir, 'predictions.db');
      await servedWhen((s) => s.get('iris@2 production') === 200, performance.now(), 'iris@2');
    });

    chapter('opens nothing for healthy traffic', async () => {
      await logLabelled({ version: 2, pin: 'production' }, 200, 197, 1);
      const result = await monitor();
      expect(
        result.jobs.judge?.instances[0]?.steps.find((s) => s.id === 'judge')?.outputs.act,
      ).toBe('[]');
      expect(result.jobs.propose?.result).toBe('skipped');
      expect(openPulls()).toEqual([]);
    });

    chapter(
      'opens one rollback pull request with the evidence when labels disagree with production',
      async () => {
        await clearLog();
        await logLabelled({ version: 2, pin: 'production' }, 200, 150, 2);
        const result = await monitor();
        expect(result.jobs.propose?.instances.map((i) => i.matrix)).toEqual([{ model: 'iris' }]);
        expect(actsOf(result)).toMatchObject([{ act: 'rollback', operation: 'created' }]);
        const pulls = pullOn('pinml/rollback-iris');
        expect(pulls).toHaveLength(1);
        expect(pulls[0]?.title).toBe('Roll back iris from v2 to v1');
        const body = pulls[0]?.body ?? '';
        expect(body).toContain('live quality below the rollback rule');
        expect(body).toContain('## Roll back: iris@2 in production');
        expect(body).toMatch(/\| iris@2 \(production\) \| 200 \| 150 \| 0\.750 \[0\.\d+, 0\.\d+\]/);
        expect(body).toContain('accuracy ≥ 0.9');
        expect(body).toContain('last 24h');
        expect(openPulls()).toHaveLength(1);
      },
    );

    chapter('opens nothing more on a second run over the same situation', async () => {
      const tip = await sandbox.tip('pinml/rollback-iris');
      const result = await monitor();
      expect(actsOf(result)).toMatchObject([{ act: 'rollback', operation: 'unchanged' }]);
      expect(await sandbox.tip('pinml/rollback-iris')).toBe(tip);
      expect(openPulls()).toHaveLength(1);
    });

    chapter('serves iris@1 once the rollback pull request is merged', async () => {
      const since = performance.now();
      await merge(pullOn('pinml/rollback-iris')[0]?.number as number);
      expect(await sandbox.show('main', 'registry/iris/pins.json')).toContain('"production": 1');
      await servedWhen((s) => s.get('iris@1 production') === 200, since, 'the rollback');
    });

    chapter('proposes removing a canary that loses', async () => {
      const pins = { formatVersion: 2, model: 'iris', production: 1 };
      const since = performance.now();
      await push(
        {
          'registry/iris/pins.json': `${JSON.stringify({ ...pins, canary: { version: 2, weight: 0.2 } }, null, 2)}\n`,
        },
        'Canary iris@2 at 20% of traffic',
      );
      await servedWhen((s) => (s.get('iris@2 canary') ?? 0) > 0, since, 'the canary at 0.2');
      const split = await answers();
      const canary = split.get('iris@2 canary') ?? 0;
      expect(canary + (split.get('iris@1 production') ?? 0)).toBe(200);
      expect(canary).toBeGreaterThan(20);
      expect(canary).toBeLessThan(60);
      expect(await answers()).toEqual(split);

      await clearLog();
      await logLabelled({ version: 1, pin: 'production' }, 200, 194, 3);
      await logLabelled({ version: 2, pin: 'canary' }, 200, 160, 4);
      const result = await monitor();
      expect(actsOf(result)).toMatchObject([{ act: 'remove-canary', operation: 'created' }]);
      const [removal] = pullOn('pinml/canary-iris');
      expect(removal?.title).toBe('End the canary iris@2');
      expect(removal?.body).toContain('## Remove the canary: iris@2 at 20% of traffic');
      expect(removal?.body).toContain('| canary | iris@2 | 200 | 160 | 0.800 |');

      // Its merge ends the canary: every answer is iris@1 in production again.
      const ended = performance.now();
      await merge(removal?.number as number);
      await servedWhen((s) => s.get('iris@1 production') === 200, ended, 'the canary removal');
    });

    chapter('proposes promoting a canary that wins', async () => {
      const since = performance.now();
      await push(
        {
          'registry/iris/pins.json': `${JSON.stringify({ formatVersion: 2, model: 'iris', production: 1, canary: { version: 2, weight: 0.5 } }, null, 2)}\n`,
        },
        'Canary iris@2 at 50% of traffic',
      );
      await servedWhen(
        (s) => (s.get('iris@2 canary') ?? 0) > 70 && (s.get('iris@2 canary') ?? 0) < 130,
        since,
        'the canary at 0.5',
      );
      await clearLog();
      await logLabelled({ version: 1, pin: 'production' }, 200, 186, 5);
      await logLabelled({ version: 2, pin: 'canary' }, 400, 400, 6);
      const result = await monitor();
      expect(actsOf(result)).toMatchObject([{ act: 'promote-canary', operation: 'created' }]);
      const [promotion] = pullOn('pinml/promote-iris');
      expect(promotion?.title).toBe('Promote iris@2 to production');
      expect(promotion?.body).toContain('## Promote the canary: iris@2 at 50% of traffic');
      expect(promotion?.body).toContain('| canary | iris@2 | 400 | 400 | 1.000 |');

      // Its merge ends the canary: every answer is iris@2 in production.
      const merged = performance.now();
      await merge(promotion?.number as number);
      await servedWhen((s) => s.get('iris@2 production') === 200, merged, 'the promotion');
    });
  },
);
