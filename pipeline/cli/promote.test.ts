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
