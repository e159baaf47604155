/**
 * The whole journey of a team adopting pinml, as GitHub runs it: `npm pack` installed into an
 * empty project, `pinml init --actions pinml-org/pinml@v1.2.0` (the tag looked up on the
 * published repository) scaffolds the repository, whose workflows use the released bundles
 * (`pinml-org/pinml/actions/<name>@<sha>`) — with GTO's tags on (`PINML_GTO_TAGS`):
 *
 * first push → registration → promotion pull request → merge → production; a data pull request
 * from a fork gets its report comment → merge → registration → promotion pull request; a newer
 * `hold` closes that stale proposal; with signed commits required, registration through the API
 * reaches production; with pull requests required too, registration by pull request does —
 * with no push to the protected branch but the developer's own; the GTO tags exist and parse.
 */
import { execFile } from 'node:child_process';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { protectBranch } from '../pipeline/git/testing/git-server.ts';
import { REPORT_MARKER } from '../pipeline/pr-report.ts';
import { GTO_TAG, parseGtoTag } from '../pipeline/registry/gto.ts';
import { installPacked, IRIS_INIT_ARGS } from '../pipeline/testing/packed.ts';
import { tempDirs } from '../pipeline/testing/run-cli.ts';
import { chapters } from './testing/chapters.ts';
import { irisCsv, reducedConfig, withoutRows } from './testing/fixture-repo.ts';
import { workflowLoop } from './testing/loop.ts';
import { publishPinml, type Published } from './testing/published.ts';
import { node24, node24Available, repoRoot } from './testing/run-action.ts';
import { startSandbox, type Sandbox } from './testing/sandbox.ts';
import {
  workflowRunEvent,
  type WorkflowEvent,
  type WorkflowRun,
} from './testing/workflow-runner.ts';

const exec = promisify(execFile);
const TRAIN = '.github/workflows/train.yml';
const REGISTRY = '.github/workflows/registry.yml';
const REPORT = '.github/workflows/report.yml';
const COMMENT = '.github/workflows/report-comment.yml';

const dirs = tempDirs();
let sandbox: Sandbox;
let published: Published;
let bin: string;
const vars: Record<string, string> = { PINML_GTO_TAGS: 'true' };
const loop = workflowLoop(() => sandbox, {
  vars: () => vars,
  // The released bundles: `pinml-org/pinml/actions/<name>@<sha>` from this checkout.
  remoteActions: { 'pinml-org/pinml': repoRoot },
});
const { run, push, merge, openPulls } = loop;

beforeAll(async () => {
  sandbox = await startSandbox();
  published = await publishPinml('v1.2.0');
  ({ bin } = await installPacked(await dirs.make()));
}, 180_000);

afterAll(async () => {
  console.log(loop.timing('journey'));
  await published?.close();
  await sandbox?.close();
  await dirs.remove();
});

/** Every file under `dir` (relative), `.git` left out. */
async function filesOf(dir: string, prefix = ''): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const e of await readdir(path.join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.name === '.git') continue;
    if (e.isDirectory()) Object.assign(out, await filesOf(dir, rel));
    else out[rel] = await readFile(path.join(dir, rel), 'utf8');
  }
  return out;
}

const step = (r: WorkflowRun, job: string, id: string) =>
  r.jobs[job]?.instances[0]?.steps.find((s) => s.id === id);

/** Merges `pull` as a reviewer, then runs registry.yml on the merge's push, as GitHub starts it. */
async function mergeAndFollow(pull: number): Promise<WorkflowEvent> {
  const event = await merge(pull);
  await run(REGISTRY, event);
  return event;
}

const pinned = async (): Promise<number | null> =>
  (
    JSON.parse((await sandbox.show('main', 'registry/iris/pins.json')) ?? '{}') as {
      production?: number | null;
    }
  ).production ?? null;

/** The pushes git received on main (the API's ref updates and the fake's merges are not pushes). */
async function gitPushesToMain(): Promise<string[]> {
  const api = new Set(sandbox.fake.events.map((e) => e.at));
  return (await sandbox.causedEvents())
    .filter((e) => e.name === 'push' && e.ref === 'refs/heads/main' && !api.has(e.at))
    .map((e) => e.by);
}

describe.skipIf(!node24Available('the journey (its actions run on node24) is'))(
  'a repository adopting pinml from the packed tarball, through the whole journey',
  () => {
    const { chapter } = chapters();

    chapter(
      'pinml init from the tarball scaffolds it; the first push reaches production',
      async () => {
        node24.binary();
        const project = await dirs.make();
        await exec('git', ['init', '--quiet', '--initial-branch=main', project]);
        const init = await exec(
          bin,
          ['init', '--actions', 'pinml-org/pinml@v1.2.0', ...IRIS_INIT_ARGS],
          { cwd: project, env: { ...process.env, GITHUB_SERVER_URL: published.base } },
        );
        expect(init.stdout).toMatch(/^created {5}\.github\/workflows\/report-comment\.yml$/m);
        // The starter pinml.yaml, with the fast candidates of these tests; the data.
        await writeFile(path.join(project, 'pinml.yaml'), await reducedConfig());
        await writeFile(path.join(project, 'data', 'iris.csv'), await irisCsv());
        const files = await filesOf(project);
        expect(files[TRAIN]).toContain(
          `uses: pinml-org/pinml/actions/train@${published.commit} # v1.2.0`,
        );
        const first = await run(TRAIN, await push(files, 'Adopt pinml'));
        expect(step(first, 'decide', 'register')?.outputs).toMatchObject({
          status: 'created',
          ref: 'iris@1',
          tags: '["iris@v1.0.0"]',
        });
        await mergeAndFollow(openPulls()[0]?.number ?? 0);
        expect(await pinned()).toBe(1);
      },
    );

    let forkPull = 0;
    /** The git pushes to main before main was protected (registrations by git push among them). */
    let unprotected = 0;
    chapter(
      "a fork's data pull request gets its report comment; merging it proposes iris@2",
      async () => {
        const fork = await sandbox.openForkPull({
          fork: 'eve/models',
          branch: 'fewer-rows',
          files: { 'data/iris.csv': withoutRows(await irisCsv(), [2, 52, 102]) },
          message: 'Drop three rows',
          title: 'Drop three rows',
        });
        forkPull = fork.number;
        const report = await run(REPORT, await sandbox.pullRequestEvent(forkPull));
        expect(step(report, 'report', 'decide')?.outputs).toMatchObject({ registers: 'false' });
        const commented = await run(COMMENT, workflowRunEvent(report, await sandbox.tip()));
        expect(step(commented, 'comment', 'comment')?.outputs).toMatchObject({
          operation: 'created',
        });
        const pull = sandbox.fake.pulls.find((p) => p.number === forkPull);
        expect(pull?.comments.filter((c) => c.startsWith(REPORT_MARKER))).toHaveLength(1);

        const trained = await run(TRAIN, await merge(forkPull));
        expect(step(trained, 'decide', 'register')?.outputs).toMatchObject({ ref: 'iris@2' });
        expect(openPulls().find((p) => p.head.ref === 'pinml/promote-iris')?.title).toBe(
          'Promote iris@2 to production',
        );
      },
    );

    chapter('a newer hold closes the stale promotion pull request', async () => {
      const proposal = openPulls().find((p) => p.head.ref === 'pinml/promote-iris');
      const config = (await sandbox.show('main', 'pinml.yaml')) ?? '';
      const strict = config.replace('policy: non-inferiority', 'policy: strict');
      expect(strict).not.toBe(config);
      const held = await run(
        TRAIN,
        await push({ 'pinml.yaml': strict }, 'Promote only significant gains'),
      );
      expect(step(held, 'decide', 'decide')?.outputs).toMatchObject({ decision: 'hold' });
      expect(step(held, 'decide', 'withdraw')?.outputs).toMatchObject({ operation: 'closed' });
      expect(sandbox.fake.pulls.find((p) => p.number === proposal?.number)?.state).toBe('closed');
      // Back to non-inferiority for what follows.
      await run(TRAIN, await push({ 'pinml.yaml': config }, 'Non-inferiority again'));
    });

    chapter(
      'with signed commits required, a git push is refused; registration through the API reaches production',
      async () => {
        unprotected = (await gitPushesToMain()).length;
        await protectBranch(path.dirname(sandbox.bare), sandbox.repo, 'main', ['developer'], {
          pullRequest: false,
          signedCommits: true,
        });
        const event = await push(
          { 'data/iris.csv': withoutRows(await irisCsv(), [3, 53, 103]) },
          'Other rows',
        );
        // The registration's git push, refused with GitHub's words; nothing lands.
        const refused = await run(TRAIN, event, { allowFailure: true });
        expect(step(refused, 'decide', 'register')?.error).toMatch(
          /Commits must have verified signatures/,
        );
        expect(await sandbox.tip()).toBe(event.sha);
        vars.PINML_COMMIT_VIA = 'api';
        const seen = sandbox.fake.requests.length;
        const trained = await run(TRAIN, event);
        const register = step(trained, 'decide', 'register')?.outputs;
        expect(register).toMatchObject({ status: 'created' });
        // Blobs, the tree, the commit GitHub signs, the ref moved forward.
        expect(
          sandbox.fake.requests
            .slice(seen)
            .filter((r) => r.operationId?.startsWith('git/'))
            .map((r) => `${r.operationId} ${r.status}`),
        ).toEqual([
          'git/create-blob 201',
          'git/create-blob 201',
          'git/create-tree 201',
          'git/create-commit 201',
          'git/update-ref 200',
        ]);
        expect(
          await sandbox.cli.git(
            sandbox.bare,
            'log',
            '-1',
            '--format=%an|%cn',
            register?.commit ?? '',
          ),
        ).toBe('github-actions[bot]|GitHub');
        const version = Number(register?.version);
        await mergeAndFollow(
          openPulls().find((p) => p.head.ref === 'pinml/promote-iris')?.number ?? 0,
        );
        expect(await pinned()).toBe(version);
      },
    );

    chapter(
      'with pull requests required too, registration by pull request reaches production',
      async () => {
        await protectBranch(path.dirname(sandbox.bare), sandbox.repo, 'main', ['developer'], {
          pullRequest: true,
          signedCommits: true,
        });
        vars.PINML_COMMIT_VIA = 'pull-request';
        sandbox.fake.settings.allowAutoMerge = true;
        const trained = await run(
          TRAIN,
          await push({ 'data/iris.csv': withoutRows(await irisCsv(), [4, 54, 104]) }, 'More rows'),
        );
        const register = step(trained, 'decide', 'register')?.outputs;
        expect(register).toMatchObject({ status: 'proposed', 'auto-merge': 'requested' });
        const version = Number(register?.version);
        const registration = openPulls().find((p) => p.head.ref === 'pinml/register-iris');
        // GitHub's auto-merge once the ruleset allows: here the merge a reviewer makes.
        const merged = await merge(registration?.number ?? 0);
        const followed = await run(REGISTRY, merged);
        expect(step(followed, 'registrations', 'promote')?.outputs).toMatchObject({
          proposed: `["iris@${version}"]`,
        });
        await mergeAndFollow(
          openPulls().find((p) => p.head.ref === 'pinml/promote-iris')?.number ?? 0,
        );
        expect(await pinned()).toBe(version);
        // Since main was protected, only the developer's own commits were pushed to it; pinml's
        // went through GitHub (its API, its merges).
        expect((await gitPushesToMain()).slice(unprotected)).toEqual(['developer', 'developer']);
      },
    );

    chapter(
      'the GTO tags exist and parse with GTO’s pattern, production on the last version',
      async () => {
        const out = await sandbox.cli.git(
          sandbox.bare,
          'for-each-ref',
          '--format=%(refname:short) %(*objectname)',
          'refs/tags',
        );
        const tags = out
          .split('\n')
          .filter(Boolean)
          .map((l) => {
            const [name = '', commit = ''] = l.split(' ');
            return { name, commit };
          });
        for (const t of tags) expect(GTO_TAG.test(t.name), t.name).toBe(true);
        const versions = tags.filter((t) => parseGtoTag(t.name)?.version);
        const production = await pinned();
        expect(versions.map((t) => t.name)).toContain(`iris@v${production}.0.0`);
        const prod = tags
          .filter((t) => parseGtoTag(t.name)?.stage === 'prod')
          .sort(
            (a, b) => (parseGtoTag(a.name)?.counter ?? 0) - (parseGtoTag(b.name)?.counter ?? 0),
          );
        expect(prod.length).toBeGreaterThanOrEqual(3);
        expect(versions.find((t) => t.commit === prod.at(-1)?.commit)?.name).toBe(
          `iris@v${production}.0.0`,
        );
      },
    );
  },
);
