/**
 * The standing promotion withdrawn when the evidence has moved past it (the train workflow's
 * `withdraw` step; `actions/workflow.test.ts` runs the reject case through GitHub).
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GitRepo } from './git/repo.ts';
import { withdrawStalePromotion } from './propose.ts';
import { createTrainedWorkspace, type Workspace } from './registry/testing/project.ts';
import { pinmlOk } from './testing/run-cli.ts';

let ws: Workspace;
let project: string;

beforeAll(async () => {
  const trained = await createTrainedWorkspace('withdraw', ['forest-a', 'logistic']);
  ws = trained.ws;
  project = await ws.project();
  for (const run of trained.runs) await pinmlOk(project, 'register', run);
});

afterAll(async () => {
  await ws?.remove();
});

describe('withdrawStalePromotion', () => {
  it('leaves a proposal newer than production, and closes one production has passed', async () => {
    await pinmlOk(project, 'promote', 'iris@1');
    const repo = GitRepo.open(project);
    const input = { repo, base: 'main', model: 'iris', decision: 'hold' as const };
    const at = await repo.resolve('main');
    // This run trained at the commit the proposal was trained at (the first): it stands.
    const first = await ws.git(project, 'rev-list', '--max-parents=0', 'main');
    expect(await withdrawStalePromotion({ ...input, at, trainedAt: first })).toMatchObject({
      status: 'unchanged',
      reason: expect.stringMatching(
        /^the proposal of iris@1 was trained on data at least as recent/,
      ) as unknown,
    });
    // Someone pins iris@2 on main by hand: the proposal of iris@1 is now wrong.
    await ws.git(project, 'checkout', '--quiet', 'main');
    const pins = JSON.parse(
      await ws.git(project, 'show', 'pinml/promote-iris:registry/iris/pins.json'),
    ) as Record<string, unknown>;
    await writeFile(
      path.join(project, 'registry/iris/pins.json'),
      `${JSON.stringify({ ...pins, production: 2 }, null, 2)}\n`,
    );
    await ws.git(project, 'add', 'registry/iris/pins.json');
    await ws.git(project, 'commit', '--quiet', '-m', 'Pin iris@2 by hand');
    const later = await repo.resolve('main');
    expect(await withdrawStalePromotion({ ...input, at: later, trainedAt: first })).toEqual({
      status: 'closed',
      version: 1,
      reason: 'production is iris@2, at or past the proposed iris@1',
    });
    // A run on later data (main, which descends from the proposal's training commit) that held.
    await ws.git(project, 'reset', '--quiet', '--hard', 'HEAD~1');
    expect(await withdrawStalePromotion({ ...input, at, trainedAt: at })).toMatchObject({
      status: 'closed',
      reason: expect.stringMatching(
        /^a run on later data \(commit [0-9a-f]{12}\) decided "hold", so iris@1 is no longer/,
      ) as unknown,
    });
  });
});
