import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBareRepo, startGitServer, type GitServer } from '../git/testing/git-server.ts';
import { startFakeGitHub, type FakeGitHub } from '../github/testing/fake-github.ts';
import { openSqliteLog, type SqliteLog } from '../log/sqlite.ts';
import type { PredictionRecord } from '../log/store.ts';
import { createWorkspace, IRIS_CSV, type Workspace } from '../registry/testing/project.ts';
import { pinmlWith, type CliResult } from '../testing/run-cli.ts';

const FEATURES = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];
const CLASSES = ['setosa', 'versicolor', 'virginica'];
const MINUTE = 60_000;
const BRANCH = 'pinml/data-iris';

let ws: Workspace;
let iris: string;
const open: SqliteLog[] = [];

beforeAll(async () => {
  ws = await createWorkspace('data-feedback');
  iris = await readFile(IRIS_CSV, 'utf8');
});

afterAll(async () => {
  await Promise.all(open.map((s) => s.close()));
  await ws.remove();
});

/** One answered row of iris, `minutesAgo` before now, with these measurements. */
function record(id: string, values: number[], over: Partial<PredictionRecord> = {}) {
  return {
    id,
    time: Date.now() - 30 * MINUTE,
    model: 'iris',
    version: 1,
    commit: 'c'.repeat(40),
    pin: 'production',
    inputs: values,
    class: 'setosa',
    probabilities: [0.8, 0.1, 0.1],
    latencyMs: 2,
    sampleRate: 1,
    ...over,
  } satisfies PredictionRecord;
}

/** A prediction log (SQLite, as the server writes it) with `rows`, and feedback for some. */
async function logWith(
  rows: PredictionRecord[],
  feedback: Record<string, string>,
): Promise<{ file: string; store: SqliteLog }> {
  const file = path.join(await ws.dir('log'), 'predictions.db');
  const store = openSqliteLog(file);
  open.push(store);
  await store.append(rows, [{ model: 'iris', version: 1, features: FEATURES, classes: CLASSES }]);
  await addFeedback(store, feedback);
  return { file, store };
}

async function addFeedback(store: SqliteLog, feedback: Record<string, string>): Promise<void> {
  await store.appendFeedback(
    Object.entries(feedback).map(([id, label]) => ({ id, model: 'iris', label, time: Date.now() })),
  );
}

/** `pinml data from-feedback iris --since 1d …` in `cwd`, with only the variables given. */
const fromFeedback = (
  cwd: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<CliResult> =>
  pinmlWith({ cwd, env }, 'data', 'from-feedback', 'iris', '--since', '1d', ...args);

const ok = (r: CliResult): CliResult => {
  if (r.code !== 0) throw new Error(`exit ${r.code}:\n${r.stderr}${r.stdout}`);
  return r;
};

describe('pinml data from-feedback on a real repository and a real log', () => {
  let project: string;
  let log: { file: string; store: SqliteLog };

  beforeAll(async () => {
    project = await ws.project();
    log = await logWith(
      [
        record('r1', [5.9, 3, 5.1, 1.8]),
        record('r2', [5.9, 3, 5.1, 1.8]),
        record('r3', [4.4, 2.9, 1.4, 0.2]),
        record('r4', [6.1, 2.8, 4, 1.3]),
      ],
      { r1: 'virginica', r2: 'virginica', r4: 'versicolor' },
    );
  });

  const branchCsv = (): Promise<string> => ws.git(project, 'show', `${BRANCH}:data/iris.csv`);
  const branchIds = async (): Promise<unknown> =>
    JSON.parse(await ws.git(project, 'show', `${BRANCH}:data/iris.feedback.json`));

  it('prints the plan with --dry-run and writes nothing', async () => {
    const dry = ok(await fromFeedback(project, ['--store', log.file, '--dry-run']));
    expect(dry.stdout).toMatch(
      /^data iris: 3 rows from feedback \(versicolor 1, virginica 2\)\n {2}branch pinml\/data-iris from [0-9a-f]{12}\n/,
    );
    expect(dry.stdout).toContain('  write data/iris.feedback.json');
    expect(await ws.gitStatus(project, 'rev-parse', '--verify', BRANCH)).toMatchObject({
      ok: false,
    });
  });

  it('commits exactly the labelled rows, once each, with their ids, on one commit above main', async () => {
    const run = ok(await fromFeedback(project, ['--store', log.file]));
    expect(run.stdout).toMatch(
      /^created: pinml\/data-iris \([0-9a-f]{12}\): Add 3 rows from feedback to data\/iris\.csv\nreview and merge pinml\/data-iris into main\n$/,
    );
    expect(await ws.git(project, 'rev-parse', `${BRANCH}^`)).toBe(
      await ws.git(project, 'rev-parse', 'main'),
    );
    // Two rows with the same measurements are two examples: both are added.
    expect(await branchCsv()).toBe(
      `${iris}5.9,3,5.1,1.8,virginica\n5.9,3,5.1,1.8,virginica\n6.1,2.8,4,1.3,versicolor\n`.trimEnd(),
    );
    expect(await branchIds()).toEqual({ ids: ['r1', 'r2', 'r4'] });
    expect(
      await ws.git(project, 'diff', '--name-only', 'main', BRANCH).then((s) => s.split('\n')),
    ).toEqual(['data/iris.csv', 'data/iris.feedback.json']);
    expect(await ws.git(project, 'log', '-1', '--format=%s', BRANCH)).toBe(
      'pinml: add 3 rows from feedback to data/iris.csv',
    );
    expect(await ws.git(project, 'status', '--porcelain')).toBe('');
  });

  it('is unchanged when run again on the same log', async () => {
    const tip = await ws.git(project, 'rev-parse', BRANCH);
    const again = ok(await fromFeedback(project, ['--store', log.file, '--json']));
    expect(JSON.parse(again.stdout)).toMatchObject({
      operation: 'unchanged',
      commit: tip,
      rows: 3,
    });
    expect(await ws.git(project, 'rev-parse', BRANCH)).toBe(tip);
  });

  it('updates the same branch with new feedback, still adding each row once', async () => {
    await addFeedback(log.store, { r3: 'setosa' });
    const run = ok(await fromFeedback(project, ['--store', log.file]));
    expect(run.stdout).toMatch(/^updated: pinml\/data-iris \([0-9a-f]{12}\): Add 4 rows/);
    expect(await ws.git(project, 'rev-list', '--count', `main..${BRANCH}`)).toBe('1');
    const added = (await branchCsv()).slice(iris.length).split('\n');
    expect(added).toEqual([
      '5.9,3,5.1,1.8,virginica',
      '5.9,3,5.1,1.8,virginica',
      '4.4,2.9,1.4,0.2,setosa',
      '6.1,2.8,4,1.3,versicolor',
    ]);
    expect(await branchIds()).toEqual({ ids: ['r1', 'r2', 'r3', 'r4'] });
  });

  it('says there is nothing new once the branch is merged', async () => {
    await ws.git(project, 'merge', '--quiet', '--no-ff', '-m', 'Merge data', BRANCH);
    const tip = await ws.git(project, 'rev-parse', BRANCH);
    const run = ok(await fromFeedback(project, ['--store', log.file]));
    expect(run.stdout).toBe(
      `unchanged: no new rows from feedback for iris since 1d in ${path.relative(project, log.file)}: ` +
        '4 rows with feedback, 4 already in data/iris.feedback.json\n',
    );
    expect(await ws.git(project, 'rev-parse', BRANCH)).toBe(tip);
  });
});

describe('pinml data from-feedback refuses', () => {
  it('rows logged with --log-inputs off, saying so', async () => {
    const project = await ws.project();
    const { file } = await logWith([record('blind', [5, 3, 1.5, 0.2], { inputs: null })], {
      blind: 'setosa',
    });
    const run = await fromFeedback(project, ['--store', file]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/has no inputs \(blind\): the server ran with --log-inputs off/);
    expect(await ws.gitStatus(project, 'rev-parse', '--verify', BRANCH)).toMatchObject({
      ok: false,
    });
  });

  it('a version, and a missing --since', async () => {
    const project = await ws.project();
    const version = await pinmlWith(
      { cwd: project, env: {} },
      'data',
      'from-feedback',
      'iris@2',
      '--since',
      '1d',
    );
    expect(version.code).toBe(2);
    expect(version.stderr).toMatch(/takes a model, not a version/);
    const since = await pinmlWith({ cwd: project, env: {} }, 'data', 'from-feedback', 'iris');
    expect(since.code).toBe(2);
    expect(since.stderr).toMatch(/--since/);
  });
});

describe('pinml data from-feedback --remote with GitHub in the environment', () => {
  const GITHUB = { owner: 'acme', repo: 'models' };
  const TOKEN = 'ghs_t';
  let server: GitServer;
  let fake: FakeGitHub;
  let bare: string;

  beforeAll(async () => {
    const project = await ws.project();
    const serverRoot = await ws.dir('server');
    bare = await createBareRepo(serverRoot, 'models');
    await ws.git(project, 'push', '--quiet', bare, 'main');
    server = await startGitServer({ root: serverRoot });
    fake = await startFakeGitHub({ ...GITHUB, bareRepoDir: bare, token: TOKEN });
  });

  afterAll(async () => {
    await fake?.close();
    await server?.close();
  });

  it('opens the pull request with the summary and the report, then updates it, never a second one', async () => {
    const clone = await ws.dir('clone');
    await ws.git(ws.root, 'clone', '--quiet', server.url('models'), clone);
    const log = await logWith(
      [record('p1', [5.1, 3.5, 1.4, 0.2]), record('p2', [6.7, 3, 5.2, 2.3])],
      { p1: 'setosa' },
    );
    const report = path.join(clone, '..', 'drift.md');
    await writeFile(report, '## Drift in iris@1: 3 of 4 features drifted\n');
    const env = {
      GITHUB_TOKEN: TOKEN,
      GITHUB_REPOSITORY: `${GITHUB.owner}/${GITHUB.repo}`,
      GITHUB_API_URL: fake.url,
    };
    const args = ['--store', log.file, '--remote', 'origin', '--report', report];

    const first = ok(await fromFeedback(clone, args, env));
    expect(first.stdout).toMatch(
      /^created: pinml\/data-iris .*\npull request #1 \(created\): https:\/\/github\.com\/acme\/models\/pull\/1\n/,
    );
    expect(await ws.git(bare, 'show', `${BRANCH}:data/iris.feedback.json`)).toContain('"p1"');
    expect(fake.pulls).toHaveLength(1);
    const pr = fake.pulls[0];
    expect(pr).toMatchObject({
      title: 'Add 1 row from feedback to data/iris.csv',
      labels: ['pinml', 'data'],
      base: { ref: 'main' },
      head: { ref: BRANCH },
    });
    expect(pr?.body).toContain('| rows added | 1 |');
    expect(pr?.body).toContain('| per label | setosa 1 |');
    expect(pr?.body).toContain('| row ids | `data/iris.feedback.json` (1 id after this change) |');
    expect(pr?.body).toMatch(/\| window \| since `1d`; the rows were answered from \d{4}-/);
    expect(pr?.body?.endsWith('## Drift in iris@1: 3 of 4 features drifted\n')).toBe(true);

    const same = ok(await fromFeedback(clone, args, env));
    expect(same.stdout).toMatch(/^unchanged: pinml\/data-iris/);

    await addFeedback(log.store, { p2: 'virginica' });
    const next = ok(await fromFeedback(clone, args, env));
    expect(next.stdout).toMatch(/^updated: pinml\/data-iris .*\npull request #1 \(updated\)/);
    expect(fake.pulls).toHaveLength(1);
    expect(fake.pulls[0]?.title).toBe('Add 2 rows from feedback to data/iris.csv');
    expect(await ws.git(bare, 'show', `${BRANCH}:data/iris.csv`)).toBe(
      `${iris}5.1,3.5,1.4,0.2,setosa\n6.7,3,5.2,2.3,virginica`,
    );
    expect(fake.violations).toEqual([]);
  });
});
