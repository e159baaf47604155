import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBareRepo, startGitServer, type GitServer } from '../git/testing/git-server.ts';
import { createTrainedWorkspace, type Workspace } from '../registry/testing/project.ts';
import { pinmlOk } from '../testing/run-cli.ts';

let ws: Workspace;
let server: GitServer;
let bare: string;

beforeAll(async () => {
  const trained = await createTrainedWorkspace('promote-remote', ['forest-a', 'logistic']);
  ws = trained.ws;
  const project = await ws.project();
  for (const run of trained.runs) await pinmlOk(project, 'register', run);
  const serverRoot = await ws.dir('server');
  bare = await createBareRepo(serverRoot, 'models');
  await ws.git(project, 'push', '--quiet', bare, 'main');
  server = await startGitServer({ root: serverRoot });
});

afterAll(async () => {
  await server?.close();
  await ws?.remove();
});

async function clone(): Promise<string> {
  const dir = await ws.dir('clone');
  await ws.git(ws.root, 'clone', '--quiet', server.url('models'), dir);
  return dir;
}

describe('pinml promote --remote', () => {
  it('takes the branch as the remote has it: another clone finds it unchanged, and a stale one leaves it alone', async () => {
    const first = await pinmlOk(await clone(), 'promote', 'iris@2', '--remote', 'origin');
    expect(first.stdout).toMatch(/^created: pinml\/promote-iris \([0-9a-f]{12}\): Promote iris@2/);
    const pushed = await ws.git(bare, 'rev-parse', 'pinml/promote-iris');

    const other = await clone();
    const again = await pinmlOk(other, 'promote', 'iris@2', '--remote', 'origin', '--json');
    expect(JSON.parse(again.stdout)).toMatchObject({ operation: 'unchanged', commit: pushed });
    const stale = await pinmlOk(other, 'promote', 'iris@1', '--remote', 'origin');
    expect(stale.stdout).toBe(
      'unchanged: the promotion pull request already proposes iris@2, newer than iris@1\n',
    );
    expect(await ws.git(bare, 'rev-parse', 'pinml/promote-iris')).toBe(pushed);
  });
});

describe('pinml promote after a merged promotion was reverted', () => {
  it('makes a new pin commit, as its dry run says, and merging it pins the version again', async () => {
    const dir = await clone();
    await ws.git(dir, 'config', 'user.name', 'Reviewer');
    await ws.git(dir, 'config', 'user.email', 'reviewer@example.com');
    const first = await pinmlOk(dir, 'promote', 'iris@2');
    expect(first.stdout).toMatch(/^created: pinml\/promote-iris/);
    // The reviewer merges the pull request, then an operator reverts the merge.
    await ws.git(dir, 'merge', '--no-ff', '--quiet', '-m', 'Merge promotion', 'pinml/promote-iris');
    await ws.git(dir, 'revert', '-m', '1', '--no-edit', 'HEAD');
    const pins = async (): Promise<unknown> =>
      JSON.parse(await ws.git(dir, 'show', 'HEAD:registry/iris/pins.json').catch(() => 'null'));
    expect(await pins()).toBeNull();

    const dry = await pinmlOk(dir, 'promote', 'iris@2', '--dry-run');
    expect(dry.stdout).toMatch(/promote iris: .*→ v2/);
    const again = await pinmlOk(dir, 'promote', 'iris@2', '--merge');
    expect(again.stdout).toMatch(/^updated: pinml\/promote-iris \([0-9a-f]{12}\)/);
    expect(again.stdout).toMatch(/merged into main/);
    expect(await pins()).toMatchObject({ production: 2 });
    // The new pin commit sits on the revert, not the old promotion.
    const tip = await ws.git(dir, 'rev-parse', 'pinml/promote-iris^');
    expect(await ws.git(dir, 'log', '-1', '--format=%s', tip)).toMatch(/^Revert /);
  });
});
