/**
 * The drift loop end to end, driven by `.github/workflows/drift.yml` as GitHub runs it (a
 * `schedule` event, the job's `permissions:` as its token's scopes): a real pinml server serving
 * the sandbox's registry, its log read through `GET /logs` (`vars.PINML_SERVER_URL`,
 * `secrets.PINML_ADMIN_TOKEN`); shifted traffic opens one drift issue, a second run updates it,
 * calm traffic closes it; with `monitor.feedback.propose: on-drift` and
 * feedback in the log, the data pull request appears, and merging it trains and registers v2
 * through train.yml, which opens v2's promotion pull request.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { parseDataset } from '../pipeline/dataset.ts';
import { SqliteLog } from '../pipeline/log/sqlite.ts';
import type { PredictionRecord } from '../pipeline/log/store.ts';
import { seededRandom } from '../pipeline/stats.ts';
import { chapters } from './testing/chapters.ts';
import { irisCsv, reducedConfig, workflowRepositoryFiles } from './testing/fixture-repo.ts';
import { node24, node24Available } from './testing/run-action.ts';
import { startSandbox, type Sandbox } from './testing/sandbox.ts';
import { startServe, type ServeProcess } from '../pipeline/testing/serve-process.ts';
import { thisNode } from '../pipeline/testing/runtimes.ts';
import { workflowLoop } from './testing/loop.ts';

const TRAIN = '.github/workflows/train.yml';
const DRIFT = '.github/workflows/drift.yml';
const FEATURES = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];
const CLASSES = ['setosa', 'versicolor', 'virginica'];

const ADMIN_TOKEN = 'admin-token-of-the-drift-test';
let sandbox: Sandbox;
let server: ServeProcess | undefined;
let store: string;
const loop = workflowLoop(() => sandbox, {
  vars: () => ({ PINML_SERVER_URL: server?.url ?? '' }),
  secrets: { PINML_ADMIN_TOKEN: ADMIN_TOKEN },
});
const { run, push, merge, schedule, openPulls } = loop;

beforeAll(async () => {
  sandbox = await startSandbox();
});

afterAll(async () => {
  console.log(loop.timing('drift loop'));
  server?.kill();
  await sandbox?.close();
});

const driftIssues = () => sandbox.fake.issues.filter((i) => i.labels.includes('drift'));

/**
 * Logs `n` rows of iris@1 drawn from the dataset, with sepal_width and petal_length moved by
 * `shift` of their spread; the first `labelled` rows get their true label as feedback.
 */
async function logTraffic(n: number, seed: number, shift: number, labelled = 0): Promise<void> {
  const iris = parseDataset(await irisCsv(), {
    path: 'data/iris.csv',
    features: FEATURES,
    label: 'species',
  });
  const random = seededRandom(seed);
  const log = new SqliteLog(store);
  const now = Date.now();
  const rows: PredictionRecord[] = [];
  const truth: { id: string; label: string }[] = [];
  for (let k = 0; k < n; k++) {
    const i = Math.floor(random() * iris.rows);
    const x = [...(iris.X[i] as number[])];
    x[1] = +((x[1] as number) + shift * 0.44).toFixed(1);
    x[2] = +((x[2] as number) + shift * 1.76).toFixed(1);
    const label = String(iris.classes[iris.y[i] as number]);
    const id = `s${seed}-${k}`;
    rows.push({
      id,
      time: now - 60_000 + k,
      model: 'iris',
      version: 1,
      commit: 'c'.repeat(40),
      pin: 'production',
      inputs: x,
      class: label,
      probabilities: [0.2, 0.3, 0.5],
      latencyMs: 1,
      sampleRate: 1,
    });
    if (k < labelled) truth.push({ id, label });
  }
  await log.append(rows, [{ model: 'iris', version: 1, features: FEATURES, classes: CLASSES }]);
  await log.appendFeedback(truth.map((t) => ({ ...t, model: 'iris', time: now })));
  await log.close();
}

/** Empties the log (the server's data folder is replaced). */
async function clearLog(): Promise<void> {
  const log = new SqliteLog(store);
  await log.retain({ maxRows: 0 }, Date.now());
  await log.close();
}

describe.skipIf(!node24Available('the drift workflow tests (their actions run on node24) are'))(
  'drift.yml, run as GitHub Actions runs it',
  () => {
    // Each chapter starts from what the earlier ones left: after a failure, they skip.
    const { chapter } = chapters();
    chapter(
      'starts from iris@1 trained by train.yml and pinned by its promotion pull request',
      async () => {
        node24.binary();
        await run(
          TRAIN,
          await push(await workflowRepositoryFiles(), 'A model repository using pinml'),
        );
        expect(openPulls()).toMatchObject([{ number: 1 }]);
        await merge(1);
        expect(await sandbox.show('main', 'registry/iris/pins.json')).toContain('"production": 1');
        const clone = await sandbox.tempDir('served-clone');
        await sandbox.cli.git(sandbox.root, 'clone', '--quiet', sandbox.bare, clone);
        server = await startServe(thisNode, {
          PINML_REPO: clone,
          PINML_POLL_INTERVAL: '0',
          PINML_ADMIN_TOKEN: ADMIN_TOKEN,
        });
        store = path.join(server.dataDir, 'predictions.db');
      },
    );

    chapter('opens one drift issue for shifted traffic, with the report as its body', async () => {
      await logTraffic(300, 1, 1);
      const result = await run(DRIFT, await schedule());
      const step = result.jobs.drift?.instances[0]?.steps.find((s) => s.id === 'drift');
      expect(step?.outputs).toMatchObject({ drift: 'true', drifted: '["iris"]', propose: '[]' });
      expect(result.jobs.data?.result).toBe('skipped');
      const issues = driftIssues();
      expect(issues).toHaveLength(1);
      expect(issues[0]).toMatchObject({
        state: 'open',
        title: 'Drift detected in iris',
        labels: ['pinml', 'drift'],
      });
      expect(issues[0]?.body).toContain('<!-- pinml:drift model=iris -->');
      expect(issues[0]?.body).toMatch(/sepal_width/);
      expect(issues[0]?.body).toContain('```mermaid');
    });

    chapter('updates that issue on the next run, never opening a second', async () => {
      const before = driftIssues()[0]?.body;
      const result = await run(DRIFT, await schedule());
      const step = result.jobs.drift?.instances[0]?.steps.find((s) => s.id === 'drift');
      expect(JSON.parse(step?.outputs.issues ?? '[]')).toMatchObject([
        { model: 'iris', operation: 'updated' },
      ]);
      expect(driftIssues()).toHaveLength(1);
      expect(driftIssues()[0]?.body).not.toBe(before);
    });

    chapter('closes it with a comment when the traffic no longer drifts', async () => {
      await clearLog();
      await logTraffic(300, 2, 0);
      await run(DRIFT, await schedule());
      const [issue] = driftIssues();
      expect(issue?.state).toBe('closed');
      expect(issue?.comments.at(-1)).toMatch(/no .*drift|Closed by pinml/i);
    });

    chapter(
      'with feedback and propose: on-drift, opens the data pull request; its merge trains v2 and opens its promotion',
      async () => {
        const config = (await reducedConfig()).replace(
          '    gate:',
          '    monitor:\n      feedback: { propose: on-drift }\n    gate:',
        );
        await run(
          TRAIN,
          await push({ 'pinml.yaml': config }, 'Propose feedback as data when iris drifts'),
        );
        await clearLog();
        await logTraffic(240, 3, 1, 120);
        const result = await run(DRIFT, await schedule());
        expect(result.jobs.data?.instances.map((i) => i.matrix)).toEqual([{ model: 'iris' }]);
        const data = openPulls().find((p) => p.head.ref === 'pinml/data-iris');
        expect(data?.body).toContain('120');
        expect(data?.body).toContain('sepal_width');
        const ids = JSON.parse(
          (await sandbox.show('pinml/data-iris', 'data/iris.feedback.json')) ?? '{}',
        ) as { ids: string[] };
        expect(ids.ids).toHaveLength(120);
        expect(driftIssues().filter((i) => i.state === 'open')).toHaveLength(1);

        // A second run refreshes the pull request's report; the rows are on the branch once.
        const tip = await sandbox.tip('pinml/data-iris');
        await run(DRIFT, await schedule());
        expect(await sandbox.tip('pinml/data-iris')).toBe(tip);
        expect(openPulls().filter((p) => p.head.ref === 'pinml/data-iris')).toHaveLength(1);

        const train = await run(TRAIN, await merge(data?.number as number));
        expect(train.triggered).toBe(true);
        const decide = train.jobs.decide?.instances[0]?.steps;
        expect(decide?.find((s) => s.id === 'register')?.outputs).toMatchObject({
          status: 'created',
          ref: 'iris@2',
        });
        expect(decide?.find((s) => s.id === 'decide')?.outputs.decision).toBe('promote');
        expect(openPulls().find((p) => p.head.ref === 'pinml/promote-iris')?.title).toBe(
          'Promote iris@2 to production',
        );
        const csv = (await sandbox.show('main', 'data/iris.csv')) ?? '';
        expect(csv.trimEnd().split('\n')).toHaveLength(151 + 120);
      },
    );
  },
);
