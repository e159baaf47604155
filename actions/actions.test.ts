/**
 * Each action's committed bundle run the way the GitHub runner runs it: a separate `node`
 * process (Node 20, and Node 24 as GitHub runs `using: node24`) with `INPUT_*`, the `GITHUB_*`
 * variables, a real event file, and the output and summary files read back. The remote is a
 * bare repository behind `git http-backend` on loopback; GitHub's REST API is the fake that
 * checks every request against GitHub's OpenAPI description and really merges.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { protectBranch } from '../pipeline/git/testing/git-server.ts';
import { createGitHubClient } from '../pipeline/github/client.ts';
import {
  FAST_CANDIDATES,
  irisCsv,
  modelRepositoryFiles,
  withoutRows,
} from './testing/fixture-repo.ts';
import {
  leakedSecret,
  node20,
  node24,
  node24Available,
  repoRoot,
  runAction,
  type ActionResult,
  type NodeRuntime,
} from './testing/run-action.ts';
import { startSandbox, type Sandbox } from './testing/sandbox.ts';

const execFileAsync = promisify(execFile);
const TRAIN_WORKFLOW = '.github/workflows/train.yml';

interface Pins {
  production: number;
}

describe.each(node24Available('the actions on Node 24 are') ? [node20, node24] : [node20])(
  'the actions on $name',
  (runtime: NodeRuntime) => {
    let sandbox: Sandbox;
    let first: string;
    const results: { action: string; result: ActionResult }[] = [];
    const workspaces: string[] = [];

    beforeAll(async () => {
      sandbox = await startSandbox();
      first = (await sandbox.push(await modelRepositoryFiles(), 'Iris and two candidates')).after;
    });

    afterAll(async () => {
      const seconds = results.reduce((sum, { result }) => sum + result.seconds, 0);
      console.log(
        `${runtime.name}: ${results.length} action runs, ${seconds.toFixed(1)} s in them`,
      );
      await sandbox?.close();
    });

    /** A runner's workspace: actions/checkout of `sha`. */
    async function workspace(sha: string, fetchDepth = 1): Promise<string> {
      const dir = await sandbox.tempDir('workspace');
      await sandbox.checkout(dir, { sha, fetchDepth });
      workspaces.push(dir);
      return dir;
    }

    /** Runs an action's bundle in `dir` as a push to main at `sha` triggers it. */
    async function run(
      action: string,
      dir: string,
      sha: string,
      inputs: Record<string, string>,
      token = sandbox.token,
    ): Promise<ActionResult> {
      const result = await runAction({
        actionDir: path.join(repoRoot, 'actions', action),
        runtime,
        workspace: dir,
        inputs,
        runnerTemp: await sandbox.tempDir('runner-temp'),
        github: {
          repository: sandbox.repository,
          sha,
          ref: 'refs/heads/main',
          eventName: 'push',
          event: {
            ref: 'refs/heads/main',
            after: sha,
            repository: {
              name: sandbox.repo,
              full_name: sandbox.repository,
              owner: { login: sandbox.owner },
              default_branch: 'main',
            },
          },
          apiUrl: sandbox.fake.url,
          token,
          // The run is of train.yml when the workspace has it (prepare checks its paths: filter).
          ...(existsSync(path.join(dir, TRAIN_WORKFLOW)) ? { workflow: TRAIN_WORKFLOW } : {}),
        },
      });
      results.push({ action, result });
      expect(sandbox.fake.violations).toEqual([]);
      return result;
    }

    function expectSuccess(result: ActionResult): void {
      expect(
        result.exitCode,
        `exit ${result.exitCode}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`,
      ).toBe(0);
      expect(result.annotations.filter((a) => a.command === 'error')).toEqual([]);
      expect(result.stderr, 'a warning of the runtime (deprecation?) on stderr').toBe('');
    }

    const pins = async (commitish: string): Promise<Pins | undefined> => {
      const text = await sandbox.show(commitish, 'registry/iris/pins.json');
      return text === undefined ? undefined : (JSON.parse(text) as Pins);
    };

    async function merge(pull: number): Promise<string> {
      const client = createGitHubClient({ token: sandbox.token, baseUrl: sandbox.fake.url });
      const merged = await client.rest.pulls.merge({
        owner: sandbox.owner,
        repo: sandbox.repo,
        pull_number: pull,
        merge_method: 'merge',
      });
      expect(sandbox.fake.violations).toEqual([]);
      return merged.data.sha;
    }

    /** Trains every candidate, decides and registers: what one workflow run does. */
    async function trainAndRegister(
      sha: string,
    ): Promise<{ dir: string; decide: ActionResult; version: number }> {
      const dir = await workspace(sha, 0);
      expectSuccess(await run('train', dir, sha, { model: 'iris', out: '.pinml/candidates/all' }));
      const decide = await run('decide', dir, sha, { model: 'iris', runs: '.pinml/candidates' });
      expectSuccess(decide);
      const register = await run('register', dir, sha, {
        'run-dir': decide.outputs['run-dir'] ?? '',
      });
      expectSuccess(register);
      return { dir, decide, version: Number(register.outputs.version) };
    }

    let runFolders: string[] = [];
    let decideDir: string;
    let decided: ActionResult;

    it(`runs the bundles on ${runtime.name === 'node24' ? 'Node 24, as GitHub does' : 'Node 20'}`, async () => {
      // Fails (not skips) with how to install it when Node 24 is missing.
      const { stdout } = await execFileAsync(runtime.binary(), ['--version']);
      expect(stdout).toMatch(runtime.name === 'node24' ? /^v24\./ : /^v20\./);
    });

    it('prepare validates the data and lists the candidates as the training matrix', async () => {
      const result = await run('prepare', await workspace(first), first, {});
      expectSuccess(result);
      expect(JSON.parse(result.outputs.matrix ?? '')).toEqual({
        include: FAST_CANDIDATES.map((candidate) => ({ model: 'iris', candidate })),
      });
      expect(JSON.parse(result.outputs.models ?? '')).toEqual(['iris']);
      expect(result.summary).toMatch(/\| iris \| `data\/iris\.csv` \| `[0-9a-f]{12}` \| 150 \|/);
    });

    it('train cross-validates one candidate (a matrix job) into a run folder', async () => {
      const trained = await Promise.all(
        FAST_CANDIDATES.map(async (candidate) => {
          const dir = await workspace(first);
          const out = `.pinml/runs/iris-${candidate}`;
          const result = await run('train', dir, first, { model: 'iris', candidate, out });
          return { candidate, dir, out, result };
        }),
      );
      for (const { candidate, dir, out, result } of trained) {
        expectSuccess(result);
        expect(result.outputs).toMatchObject({
          'run-dir': out,
          model: 'iris',
          chosen: candidate,
          gate: 'passed',
        });
        expect(result.outputs['training-key']).toMatch(/^[0-9a-f]{64}$/);
        expect(Number(result.outputs.accuracy)).toBeGreaterThan(0.9);
        const record = JSON.parse(await readFile(path.join(dir, out, 'run.json'), 'utf8')) as {
          candidates: { name: string }[];
        };
        expect(record.candidates.map((c) => c.name)).toEqual([candidate]);
        expect(result.summary).toContain(`### pinml: trained iris`);
        expect(result.summary).toContain(candidate);
      }
      runFolders = trained.map((t) => path.join(t.dir, t.out));
    });

    it('decide merges the candidates run folders, gates the best and compares it with production', async () => {
      decideDir = await workspace(first, 0);
      // download-artifact's layout: one folder per artifact under the path given.
      for (const [i, folder] of runFolders.entries()) {
        await cp(
          folder,
          path.join(decideDir, '.pinml', 'candidates', `run-iris-${FAST_CANDIDATES[i]}`),
          {
            recursive: true,
          },
        );
      }
      decided = await run('decide', decideDir, first, { model: 'iris', runs: '.pinml/candidates' });
      expectSuccess(decided);
      expect(decided.outputs).toMatchObject({
        'run-dir': '.pinml/runs/iris',
        gate: 'passed',
        decision: 'promote',
        production: '',
      });
      expect(FAST_CANDIDATES).toContain(decided.outputs.chosen);
      const merged = path.join(decideDir, '.pinml', 'runs', 'iris');
      const record = JSON.parse(await readFile(path.join(merged, 'run.json'), 'utf8')) as {
        candidates: { name: string }[];
      };
      expect(record.candidates.map((c) => c.name)).toEqual([...FAST_CANDIDATES]);
      expect(await readdir(merged)).toContain('assessment.json');
      const report = await readFile(path.join(decideDir, decided.outputs.report ?? ''), 'utf8');
      expect(report.length).toBeGreaterThan(200);
      expect(decided.summary.trimEnd()).toBe(report.trimEnd());
    });

    it('register commits the version and pushes it, and changes nothing when run again', async () => {
      const before = await sandbox.tip();
      const inputs = { 'run-dir': decided.outputs['run-dir'] ?? '' };
      // A job granted only `contents: read` gets a token git refuses to push with.
      const refused = await run('register', decideDir, first, inputs, sandbox.readToken);
      expect(refused.exitCode).toBe(1);
      expect(refused.annotations.find((a) => a.command === 'error')?.message).toMatch(
        /contents: write/,
      );
      expect(await sandbox.tip()).toBe(before);
      // A protected main refuses the push the way GitHub does; the message says what to grant.
      await protectBranch(path.dirname(sandbox.bare), sandbox.repo, 'main');
      const protectedMain = await run('register', decideDir, first, inputs);
      await rm(path.join(sandbox.bare, 'hooks', 'pre-receive'));
      expect(protectedMain.exitCode).toBe(1);
      expect(protectedMain.annotations.find((a) => a.command === 'error')?.message).toMatch(
        /GH006: Protected branch update failed.*protected branch: allow the pusher or open a pull request/s,
      );
      expect(await sandbox.tip()).toBe(before);

      const created = await run('register', decideDir, first, inputs);
      expectSuccess(created);
      expect(created.outputs).toMatchObject({
        status: 'created',
        version: '1',
        ref: 'iris@1',
        retries: '0',
      });
      const tip = await sandbox.tip();
      expect(tip).toBe(created.outputs.commit);
      expect(await sandbox.cli.git(sandbox.bare, 'rev-parse', `${tip}^`)).toBe(before);
      const card = JSON.parse(
        (await sandbox.show(tip, 'registry/iris/versions/1/card.json')) ?? '{}',
      ) as {
        decision?: { action?: string };
        code?: { commit?: string };
      };
      expect(card.decision?.action).toBe('promote');
      expect(card.code?.commit).toBe(first);
      expect(created.summary).toMatch(/registered \*\*iris@1\*\*/);
      // No git identity on the runner: the commit is the Actions bot's, as GITHUB_TOKEN pushes.
      expect(
        await sandbox.cli.git(sandbox.bare, 'log', '-1', '--format=%an <%ae>|%cn <%ce>', tip),
      ).toBe(
        'github-actions[bot] <41898282+github-actions[bot]@users.noreply.github.com>|' +
          'github-actions[bot] <41898282+github-actions[bot]@users.noreply.github.com>',
      );

      const again = await run('register', decideDir, first, inputs);
      expectSuccess(again);
      expect(again.outputs).toMatchObject({ status: 'unchanged', version: '1', commit: tip });
      expect(await sandbox.tip()).toBe(tip);
    });

    it('predict scores a file of the workspace with a registered version, and refuses a bad row where it is', async () => {
      // After the push, the workspace's origin/main holds iris@1.
      const inputs = {
        model: 'iris@1',
        ref: 'origin/main',
        input: 'data/iris.csv',
        output: '.pinml/scored.csv',
        'label-column': 'species',
        proba: 'true',
      };
      const scored = await run('predict', decideDir, first, inputs);
      expectSuccess(scored);
      expect(scored.outputs).toMatchObject({ version: 'iris@1', rows: '150', rejected: '0' });
      expect(Number(scored.outputs.accuracy)).toBeGreaterThan(0.9);
      expect(scored.summary).toMatch(/scored 150 rows of `data\/iris\.csv` with \*\*iris@1\*\*/);
      expect(scored.summary).toMatch(/accuracy \*\*0\.\d+\*\*, macro-F1/);
      const out = await readFile(path.join(decideDir, '.pinml/scored.csv'), 'utf8');
      expect(out.split('\n')[0]).toBe(
        'class,probability_setosa,probability_versicolor,probability_virginica,version',
      );
      expect(out.trimEnd().split('\n')).toHaveLength(151);

      await writeFile(
        path.join(decideDir, '.pinml/bad.csv'),
        'sepal_length,sepal_width,petal_length,petal_width\n5.1,3.5,1.4,0.2\n5.1,n/a,1.4,0.2\n',
      );
      const bad = await run('predict', decideDir, first, {
        ...inputs,
        input: '.pinml/bad.csv',
        output: '.pinml/bad-out.csv',
        'label-column': '',
      });
      expect(bad.exitCode).toBe(1);
      // An annotation on the file and line, as a data error in training gets.
      expect(bad.annotations).toContainEqual(
        expect.objectContaining({
          command: 'error',
          message: expect.stringMatching(/^the value "n\/a" is not a number/) as unknown,
          properties: expect.objectContaining({ file: '.pinml/bad.csv', line: '3' }) as unknown,
        }),
      );
      expect(existsSync(path.join(decideDir, '.pinml/bad-out.csv'))).toBe(false);
    });

    let pull: number;

    it('promote opens the promotion pull request, leaves it unchanged, and updates it for a newer version', async () => {
      const inputs = { target: 'iris@1', report: decided.outputs.report ?? '' };
      const created = await run('promote', decideDir, first, inputs);
      expectSuccess(created);
      expect(created.outputs).toMatchObject({ operation: 'created', branch: 'pinml/promote-iris' });
      pull = Number(created.outputs['pr-number']);
      expect(sandbox.fake.pulls).toHaveLength(1);
      expect(sandbox.fake.pulls[0]).toMatchObject({
        number: pull,
        state: 'open',
        title: 'Promote iris@1 to production',
        base: { ref: 'main' },
        head: { ref: 'pinml/promote-iris' },
        labels: ['pinml', 'promotion'],
      });
      expect(created.outputs['pr-url']).toBe(sandbox.fake.pulls[0]?.html_url);
      expect(sandbox.fake.pulls[0]?.body).toBe(
        await readFile(path.join(decideDir, inputs.report), 'utf8'),
      );
      const branchTip = await sandbox.tip('pinml/promote-iris');
      expect(branchTip).toBe(created.outputs.commit);
      expect(await pins(branchTip)).toMatchObject({ production: 1 });
      expect(await pins('main')).toBeUndefined();

      const again = await run('promote', decideDir, first, inputs);
      expectSuccess(again);
      expect(again.outputs).toMatchObject({ operation: 'unchanged', 'pr-number': String(pull) });
      expect(await sandbox.tip('pinml/promote-iris')).toBe(branchTip);

      // A newer version: the data changed, every candidate trained in one job.
      const second = (
        await sandbox.push(
          { 'data/iris.csv': withoutRows(await irisCsv(), [1, 51, 101]) },
          'Fewer rows',
        )
      ).after;
      const { dir, decide, version } = await trainAndRegister(second);
      expect(version).toBe(2);
      const updated = await run('promote', dir, second, {
        target: 'iris@2',
        report: decide.outputs.report ?? '',
      });
      expectSuccess(updated);
      expect(updated.outputs).toMatchObject({ operation: 'updated', 'pr-number': String(pull) });
      expect(sandbox.fake.pulls).toHaveLength(1);
      expect(sandbox.fake.pulls[0]?.title).toBe('Promote iris@2 to production');
      expect(await pins('pinml/promote-iris')).toMatchObject({ production: 2 });

      // A stale run, older than the open proposal, leaves the branch and its pull request alone.
      const proposed = await sandbox.tip('pinml/promote-iris');
      const stale = await run('promote', dir, second, { target: 'iris@1' });
      expectSuccess(stale);
      expect(stale.outputs).toEqual({ operation: 'unchanged' });
      expect(stale.summary.trimEnd()).toBe(
        '### pinml: the promotion pull request already proposes iris@2, newer than iris@1',
      );
      expect(await sandbox.tip('pinml/promote-iris')).toBe(proposed);
      expect(sandbox.fake.pulls).toHaveLength(1);
      expect(sandbox.fake.pulls[0]?.title).toBe('Promote iris@2 to production');
    });

    it('rollback opens the pull request that reverts the pin now in effect', async () => {
      await merge(pull);
      expect(await pins('main')).toMatchObject({ production: 2 });
      // Pin v1 through a second promotion, so there is a production version to go back to.
      let sha = await sandbox.tip();
      let dir = await workspace(sha, 0);
      const back = await run('promote', dir, sha, { target: 'iris@1' });
      expectSuccess(back);
      expect(back.outputs.operation).toBe('created');
      await merge(Number(back.outputs['pr-number']));
      expect(await pins('main')).toMatchObject({ production: 1 });

      sha = await sandbox.tip();
      dir = await workspace(sha, 0);
      const rollback = await run('rollback', dir, sha, {
        model: 'iris',
        reason: 'v1 is worse live',
        'git-user-name': 'Ops Bot',
        'git-user-email': 'ops@example.com',
      });
      expectSuccess(rollback);
      expect(rollback.outputs).toMatchObject({ operation: 'created', from: '1', to: '2' });
      const pr = sandbox.fake.pulls.find((p) => p.number === Number(rollback.outputs['pr-number']));
      expect(pr).toMatchObject({
        state: 'open',
        title: 'Roll back iris from v1 to v2',
        head: { ref: 'pinml/rollback-iris' },
        labels: ['pinml', 'rollback'],
      });
      expect(pr?.body).toContain('v1 is worse live');
      const revert = await sandbox.cli.git(
        sandbox.bare,
        'log',
        '-1',
        '--format=%B',
        'pinml/rollback-iris',
      );
      expect(revert).toMatch(/This reverts commit [0-9a-f]{40}/);
      expect(
        await sandbox.cli.git(
          sandbox.bare,
          'log',
          '-1',
          '--format=%an <%ae>|%cn <%ce>',
          'pinml/rollback-iris',
        ),
      ).toBe('Ops Bot <ops@example.com>|Ops Bot <ops@example.com>');
      expect(await pins('pinml/rollback-iris')).toMatchObject({ production: 2 });

      const again = await run('rollback', dir, sha, {
        model: 'iris',
        reason: 'v1 is worse live',
        'git-user-name': 'Ops Bot',
        'git-user-email': 'ops@example.com',
      });
      expectSuccess(again);
      expect(again.outputs).toMatchObject({
        operation: 'unchanged',
        'pr-number': rollback.outputs['pr-number'],
      });

      await merge(Number(rollback.outputs['pr-number']));
      expect(await pins('main')).toMatchObject({ production: 2 });
    });

    it('reports data and configuration errors as annotations on the file and line, and fails the step', async () => {
      const dir = await workspace(first);
      const lines = (await irisCsv()).split('\n');
      lines[7] = '4.6,3.4,not-a-number,0.3,setosa';
      await writeFile(path.join(dir, 'data', 'iris.csv'), lines.join('\n'));
      for (const action of ['prepare', 'train']) {
        const result = await run(action, dir, first, { model: 'iris' });
        expect(result.exitCode).toBe(1);
        const errors = result.annotations.filter((a) => a.command === 'error');
        expect(errors).toContainEqual(
          expect.objectContaining({
            properties: expect.objectContaining({ file: 'data/iris.csv', line: '8' }) as unknown,
            message: expect.stringContaining('not-a-number') as unknown,
          }),
        );
        expect(result.stdout).toMatch(
          /^::error .*file=data\/iris\.csv,line=8\b.*::.*not-a-number/m,
        );
        expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace for the user's mistake
      }
      // 25 bad rows: GitHub shows 10 errors a step, so 9 are annotated (setFailed's is the
      // tenth), none is dropped, and the job summary lists the other problems pinml reports.
      const many = (await irisCsv()).split('\n');
      for (let row = 2; row <= 26; row++) many[row - 1] = '4.6,3.4,n/a,0.3,setosa';
      await writeFile(path.join(dir, 'data', 'iris.csv'), many.join('\n'));
      const flood = await run('prepare', dir, first, { model: 'iris' });
      expect(flood.exitCode).toBe(1);
      expect(flood.droppedAnnotations).toEqual([]);
      const located = flood.annotations.filter((a) => a.properties.file === 'data/iris.csv');
      expect(located.map((a) => a.properties.line)).toEqual([
        '2',
        '3',
        '4',
        '5',
        '6',
        '7',
        '8',
        '9',
        '10',
      ]);
      expect(flood.annotations.filter((a) => a.command === 'error')).toHaveLength(10);
      expect(flood.summary).toMatch(/### pinml: 11 more annotations/);
      expect(flood.summary).toContain('`data/iris.csv:11');
      expect(flood.summary).toContain('`data/iris.csv:21');
      await writeFile(path.join(dir, 'data', 'iris.csv'), await irisCsv());
      // A dataset the training workflow's paths: filter leaves out: a push changing it would
      // not train, so prepare fails on the filter's line and says what to run.
      const workflows = path.join(dir, '.github', 'workflows');
      await mkdir(workflows, { recursive: true });
      await cp(path.join(repoRoot, TRAIN_WORKFLOW), path.join(dir, TRAIN_WORKFLOW));
      const original = await readFile(path.join(dir, 'pinml.yaml'), 'utf8');
      await mkdir(path.join(dir, 'warehouse'), { recursive: true });
      await cp(path.join(dir, 'data', 'iris.csv'), path.join(dir, 'warehouse', 'iris.csv'));
      await writeFile(
        path.join(dir, 'pinml.yaml'),
        original.replace('dataset: data/iris.csv', 'dataset: warehouse/iris.csv'),
      );
      const unfiltered = await run('prepare', dir, first, { model: 'iris' });
      expect(unfiltered.exitCode).toBe(1);
      const filterLine =
        (await readFile(path.join(repoRoot, TRAIN_WORKFLOW), 'utf8'))
          .split('\n')
          .findIndex((l) => l.trim() === 'paths:') + 1;
      expect(unfiltered.annotations).toContainEqual(
        expect.objectContaining({
          command: 'error',
          properties: expect.objectContaining({
            file: TRAIN_WORKFLOW,
            line: String(filterLine),
          }) as unknown,
          message: expect.stringMatching(
            /leaves out warehouse\/iris\.csv .*Run `pinml init --update`/,
          ) as unknown,
        }),
      );
      await writeFile(path.join(dir, 'pinml.yaml'), original);
      expectSuccess(await run('prepare', dir, first, { model: 'iris' }));
      await rm(workflows, { recursive: true });
      // More candidates than GitHub's 256 jobs a matrix: refused before any training.
      const candidates = Array.from(
        { length: 129 },
        (_, i) => `      - { name: c${i}, algorithm: logistic-regression }`,
      ).join('\n');
      const model = (name: string): string =>
        `  ${name}:\n    dataset: data/iris.csv\n    features: [sepal_length, sepal_width, petal_length, petal_width]\n    label: species\n    candidates:\n${candidates}\n`;
      await writeFile(
        path.join(dir, 'pinml.yaml'),
        `version: 1\nmodels:\n${model('iris')}${model('iris2')}`,
      );
      const wide = await run('prepare', dir, first, {});
      expect(wide.exitCode).toBe(1);
      expect(wide.annotations.map((a) => a.message).join('\n')).toMatch(
        /258 candidates to train \(iris: 129, iris2: 129\) are more than the 256 jobs GitHub runs in one matrix/,
      );
      await writeFile(path.join(dir, 'pinml.yaml'), original);
      // A mistake in pinml.yaml points at its line and column.
      const config = await readFile(path.join(dir, 'pinml.yaml'), 'utf8');
      const line = config.split('\n').findIndex((l) => l.includes('folds: 5')) + 1;
      expect(line).toBeGreaterThan(0);
      await writeFile(path.join(dir, 'pinml.yaml'), config.replace('folds: 5', 'folds: 1'));
      const result = await run('prepare', dir, first, {});
      expect(result.exitCode).toBe(1);
      expect(result.annotations).toContainEqual(
        expect.objectContaining({
          command: 'error',
          properties: expect.objectContaining({
            file: 'pinml.yaml',
            line: String(line),
          }) as unknown,
        }),
      );
    });

    it('decide rejects a candidate that fails the gate, and register refuses to register it', async () => {
      const dir = await workspace(first, 0);
      const config = await readFile(path.join(dir, 'pinml.yaml'), 'utf8');
      expect(config).toContain('minAccuracy: 0.9\n');
      await writeFile(
        path.join(dir, 'pinml.yaml'),
        config.replace('minAccuracy: 0.9\n', 'minAccuracy: 0.999\n'),
      );
      const trained = await run('train', dir, first, {
        model: 'iris',
        candidate: 'logistic-fast',
        out: '.pinml/candidates/strict',
      });
      expectSuccess(trained);
      expect(trained.outputs.gate).toBe('failed');
      const before = await sandbox.tip();
      const decide = await run('decide', dir, first, { model: 'iris', runs: '.pinml/candidates' });
      expectSuccess(decide);
      expect(decide.outputs).toMatchObject({ gate: 'failed', decision: 'reject' });
      expect(decide.outputs.report).toBeUndefined();
      expect(decide.annotations).toContainEqual(
        expect.objectContaining({
          command: 'warning',
          message: expect.stringMatching(/logistic-fast failed the gate/) as unknown,
        }),
      );
      expect(decide.summary).toMatch(/not registered: the gate failed/);
      const register = await run('register', dir, first, {
        'run-dir': decide.outputs['run-dir'] ?? '',
      });
      expect(register.exitCode).toBe(1);
      expect(register.annotations.find((a) => a.command === 'error')?.message).toMatch(
        /failed the gate/,
      );
      expect(await sandbox.tip()).toBe(before);
    });

    it('never lets the token out: not in stdout, stderr, outputs, summaries or the workspace', async () => {
      expect(results.length).toBeGreaterThan(10);
      const leaks = results.flatMap(({ action, result }) =>
        [sandbox.token, sandbox.readToken].flatMap((secret) =>
          leakedSecret(result, secret).map((where) => `${action}: ${where}`),
        ),
      );
      expect(leaks).toEqual([]);
      // Actions that were handed the token masked it.
      const masked = results.filter(({ result }) =>
        result.commands.some((c) => c.command === 'add-mask' && c.message === sandbox.token),
      );
      expect(masked.map((r) => r.action)).toEqual(
        expect.arrayContaining(['decide', 'register', 'promote', 'rollback']),
      );
      for (const secret of [sandbox.token, sandbox.readToken]) {
        const onDisk = await sandbox.cli.gitStatus(
          sandbox.root,
          'grep',
          '--no-index',
          '-l',
          '-a',
          '-F',
          secret,
          '--',
          ...workspaces,
        );
        expect(onDisk.ok, 'git grep found a token in a workspace').toBe(false);
      }
    });
  },
);
