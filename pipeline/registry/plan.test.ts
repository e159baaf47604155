import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryError } from '../errors.ts';
import { GitRepo } from '../git/repo.ts';
import { readRunFolder } from '../run-folder.ts';
import type { TrainRun } from '../train.ts';
import { readHistory } from './history.ts';
import {
  describePlan,
  MAX_ARTIFACT_BYTES,
  planPromotion,
  planRegistration,
  planRollback,
} from './plan.ts';
import { readModelState, type ModelState } from './registry.ts';
import {
  allRefs,
  createTrainedWorkspace,
  type Workspace,
} from './testing/project.ts';
import { pinmlOk } from '../testing/run-cli.ts';

let ws: Workspace;
let runA: string;
let runB: string;

beforeAll(async () => {
  ({
    ws,
    runs: [runA, runB],
  } = await createTrainedWorkspace('plan', ['forest-a', 'logistic']));
});

afterAll(async () => {
  await ws.remove();
});

/** Refs, HEAD, the object count and the working tree's status: everything a command could change. */
async function snapshot(dir: string): Promise<string> {
  return [
    await allRefs(ws.git, dir),
    await ws.git(dir, 'count-objects'),
    await ws.git(dir, 'status', '--porcelain', '--untracked-files=all'),
  ].join('\n');
}

describe('re-running a command with the same inputs', () => {
  it('registers a run once: the second time it is unchanged and commits nothing', async () => {
    const dir = await ws.project();
    const first = await pinmlOk(dir, 'register', runA);
    const tip = await ws.git(dir, 'rev-parse', 'main');
    expect(first.stdout).toBe(`registered iris@1 (commit ${tip.slice(0, 12)} on main)\n`);
    const before = await snapshot(dir);
    const second = await pinmlOk(dir, 'register', runA, '--json');
    expect(JSON.parse(second.stdout)).toMatchObject({
      status: 'unchanged',
      version: 1,
      commit: tip,
      retries: 0,
    });
    expect(await ws.git(dir, 'rev-parse', 'main')).toBe(tip);
    expect(await snapshot(dir)).toBe(before);
  });

  it('leaves the promotion branch unchanged when the same promotion is planned again', async () => {
    const dir = await ws.project();
    await pinmlOk(dir, 'register', runA);
    const first = await pinmlOk(dir, 'promote', 'iris@1');
    const branch = await ws.git(dir, 'rev-parse', 'pinml/promote-iris');
    expect(first.stdout).toBe(
      `created: pinml/promote-iris (${branch.slice(0, 12)}): Promote iris@1 to production\n` +
        'review and merge pinml/promote-iris into main\n',
    );
    const refs = await allRefs(ws.git, dir);
    const second = await pinmlOk(dir, 'promote', 'iris@1', '--json');
    expect(JSON.parse(second.stdout)).toMatchObject({
      operation: 'unchanged',
      branch: 'pinml/promote-iris',
      commit: branch,
    });
    expect(await allRefs(ws.git, dir)).toBe(refs);
  });

  it('leaves the promotion branch alone when main moved elsewhere, and resets it onto main for another change', async () => {
    const dir = await ws.project();
    await pinmlOk(dir, 'register', runA);
    await pinmlOk(dir, 'promote', 'iris@1');
    const old = await ws.git(dir, 'rev-parse', 'pinml/promote-iris');
    await pinmlOk(dir, 'register', runB);
    // main moved, but not the pin: the branch already makes this change, so it stays.
    const again = await pinmlOk(dir, 'promote', 'iris@1');
    expect(again.stdout).toMatch(/^unchanged: pinml\/promote-iris /);
    expect(await ws.git(dir, 'rev-parse', 'pinml/promote-iris')).toBe(old);
    // Another version: the branch is reset onto main's tip with the new change.
    const updated = await pinmlOk(dir, 'promote', 'iris@2');
    expect(updated.stdout).toMatch(/^updated: pinml\/promote-iris /);
    const tip = await ws.git(dir, 'rev-parse', 'main');
    expect(await ws.git(dir, 'rev-parse', 'pinml/promote-iris^')).toBe(tip);
    // Still one commit on top of main: the branch is reset, not stacked.
    expect(await ws.git(dir, 'rev-list', '--count', 'main..pinml/promote-iris')).toBe('1');
  });

  it('keeps the promotion branch on a newer version than the one asked for (the stale-proposal rule)', async () => {
    const dir = await ws.project();
    await pinmlOk(dir, 'register', runA);
    await pinmlOk(dir, 'register', runB);
    await pinmlOk(dir, 'promote', 'iris@2');
    const before = await snapshot(dir);
    const stale = await pinmlOk(dir, 'promote', 'iris@1');
    expect(stale.stdout).toBe(
      'unchanged: the promotion pull request already proposes iris@2, newer than iris@1\n',
    );
    const json = await pinmlOk(dir, 'promote', 'iris@1', '--dry-run', '--json');
    expect(JSON.parse(json.stdout)).toEqual({
      operation: 'unchanged',
      reason: 'the promotion pull request already proposes iris@2, newer than iris@1',
    });
    expect(await snapshot(dir)).toBe(before);
    // Once iris@2 is merged and production, going back to iris@1 is a promotion again.
    await pinmlOk(dir, 'promote', 'iris@2', '--merge');
    const back = await pinmlOk(dir, 'promote', 'iris@1');
    expect(back.stdout).toMatch(/^updated: pinml\/promote-iris .*: Promote iris@1 to production\n/);
  });

  it('answers unchanged when the version asked for is already in production', async () => {
    const dir = await ws.project();
    await pinmlOk(dir, 'register', runA);
    await pinmlOk(dir, 'promote', 'iris@1', '--merge');
    const before = await snapshot(dir);
    const again = await pinmlOk(dir, 'promote', 'iris@1', '--merge');
    expect(again.stdout).toBe('unchanged: iris@1 is already in production\n');
    expect(await snapshot(dir)).toBe(before);
  });
});

describe('--dry-run', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await ws.project();
    await pinmlOk(dir, 'register', runA);
    await pinmlOk(dir, 'promote', 'iris@1', '--merge');
  });

  it('prints the registration plan and writes nothing', async () => {
    const before = await snapshot(dir);
    const tip = await ws.git(dir, 'rev-parse', 'main');
    const r = await pinmlOk(dir, 'register', runB, '--dry-run');
    expect(r.stdout).toMatch(
      new RegExp(
        [
          `^register iris@2 on main at ${tip.slice(0, 12)}`,
          '  write registry/iris/versions/2/card\\.json \\(\\d+ bytes\\)',
          '  write registry/iris/versions/2/model\\.json \\(\\d+ bytes\\)',
          '  commit message:',
          '    pinml: register iris@2 \\(logistic\\)',
          '',
          '    Hold-out accuracy 0\\.\\d{4}, macro-F1 0\\.\\d{4}\\.',
          '',
          '    Pinml-Training-Key: [0-9a-f]{64}',
          '    Pinml-Dataset: data/iris\\.csv sha256:[0-9a-f]{64}',
          '$',
        ].join('\n'),
      ),
    );
    expect(await snapshot(dir)).toBe(before);
  });

  it('prints the promotion plan and writes nothing', async () => {
    await pinmlOk(dir, 'register', runB);
    const tip = await ws.git(dir, 'rev-parse', 'main');
    const before = await snapshot(dir);
    const r = await pinmlOk(dir, 'promote', 'iris@2', '--dry-run');
    expect(r.stdout).toBe(
      [
        'promote iris: v1 → v2',
        `  branch pinml/promote-iris from ${tip.slice(0, 12)}`,
        '  title: Promote iris@2 to production',
        '  write registry/iris/pins.json',
        '  commit message:',
        '    pinml: promote iris@2 to production',
        '',
        '    Replaces iris@1.',
        '',
        '    Pinml-Model: iris',
        '    Pinml-Production: 2',
        '',
      ].join('\n'),
    );
    expect(await snapshot(dir)).toBe(before);
  });

  it('prints the rollback plan and writes nothing', async () => {
    await pinmlOk(dir, 'promote', 'iris@2', '--merge');
    const tip = await ws.git(dir, 'rev-parse', 'main');
    const before = await snapshot(dir);
    const r = await pinmlOk(dir, 'rollback', 'iris', '--dry-run');
    expect(r.stdout).toBe(
      [
        'rollback iris: v2 → v1',
        `  branch pinml/rollback-iris from ${tip.slice(0, 12)}`,
        '  title: Roll back iris from v2 to v1',
        `  revert ${tip.slice(0, 12)} (a merge commit: mainline 1)`,
        '',
      ].join('\n'),
    );
    expect(await snapshot(dir)).toBe(before);
  });
});

describe('planning on a registry state (pure)', () => {
  let run: TrainRun;
  let other: TrainRun;
  let state: ModelState;

  beforeAll(async () => {
    run = await readRunFolder(runA);
    other = await readRunFolder(runB);
    const dir = await ws.project();
    await pinmlOk(dir, 'register', runA);
    const repo = GitRepo.open(dir);
    state = await readModelState(repo, await repo.resolve('main'), 'iris');
  });

  const facts = { createdAt: new Date('2026-01-02T03:04:05Z'), commit: 'a'.repeat(40) };

  it('numbers a new training key after the highest version, and finds a known key', () => {
    const plan = planRegistration(state, other, facts);
    expect(plan).toMatchObject({ status: 'create', version: 2 });
    expect(planRegistration(state, run, facts)).toMatchObject({
      status: 'unchanged',
      version: 1,
      reason: `training key ${run.record.chosen.trainingKey.slice(0, 12)} is already registered as iris@1`,
    });
    // The next number follows the highest one registered, whatever gaps lie below it.
    const later = { ...state, cards: state.cards.map((c) => ({ ...c, version: 5 })) };
    expect(planRegistration(later, other, facts)).toMatchObject({ version: 6 });
  });

  it('refuses to register a run that failed the gate', () => {
    const failed: TrainRun = {
      ...other,
      record: {
        ...other.record,
        gate: { passed: false, reasons: ['accuracy 0.5000 < 0.9'], checks: [] },
      },
    };
    expect(() => planRegistration(state, failed, facts)).toThrow(
      /failed the gate, and only candidates that pass it are registered: accuracy 0\.5000 < 0\.9/,
    );
  });

  it("refuses an artifact larger than GitHub accepts in a push, before writing anything", () => {
    const size = Buffer.byteLength(other.artifactText);
    expect(() => planRegistration(state, other, facts, size - 1)).toThrow(
      /^iris \(.+\)'s artifact is \d+\.\d MiB, and GitHub refuses a pushed file over \d+\.\d MiB: .*Train a smaller model/,
    );
    expect(planRegistration(state, other, facts, size)).toMatchObject({ status: 'create' });
    expect(MAX_ARTIFACT_BYTES).toBe(104_857_600);
  });

  it('refuses to register a run of another model', () => {
    const elsewhere = { ...state, model: 'roses' };
    expect(() => planRegistration(elsewhere, run, facts)).toThrow(
      'the run is of model "iris", not "roses"',
    );
  });

  it('refuses to promote a version that is not registered, naming the versions there are', () => {
    expect(() => planPromotion(state, 4)).toThrow(
      new RegistryError('iris@4 is not registered (versions: v1)', { model: 'iris', version: 4 }),
    );
  });

  it('keeps a stale run from taking the standing promotion back to an older version', () => {
    const [card] = state.cards;
    if (!card) throw new Error('no card');
    const three: ModelState = {
      ...state,
      pins: { formatVersion: 1, model: 'iris', production: 1 },
      cards: [1, 2, 3].map((version) => ({ ...card, version })),
    };
    const stale = {
      status: 'unchanged',
      reason: 'the promotion pull request already proposes iris@3, newer than iris@2',
    };
    expect(planPromotion(three, 2, { version: 3, merged: false })).toMatchObject(stale);
    // Not stale: the same or an older version proposed, or none at all.
    for (const standing of [{ version: 2, merged: false }, { version: 1, merged: false }, undefined])
      expect(planPromotion(three, 2, standing)).toMatchObject({ kind: 'promote', to: 2 });
    // Not stale: the newer proposal was merged already, or is production (merged, or pinned by hand).
    expect(planPromotion(three, 2, { version: 3, merged: true })).toMatchObject({ to: 2 });
    const pinned = { ...three, pins: { formatVersion: 1 as const, model: 'iris', production: 3 } };
    expect(planPromotion(pinned, 2, { version: 3, merged: false })).toMatchObject({ from: 3, to: 2 });
    // The version in production is unchanged before the rule is asked.
    expect(planPromotion(three, 1, { version: 3, merged: false })).toMatchObject({
      status: 'unchanged',
      reason: 'iris@1 is already in production',
    });
  });

  it('keeps an out-of-order run (older data, higher version) from replacing the standing proposal', () => {
    const [card] = state.cards;
    if (!card) throw new Error('no card');
    const at = (version: number, commit: string) => ({
      ...card,
      version,
      code: { ...card.code, commit: commit.repeat(40) },
    });
    // iris@2 was trained at commit b…, a descendant of a…, where the slower run trained iris@3.
    const state3: ModelState = {
      ...state,
      pins: { formatVersion: 1, model: 'iris', production: 1 },
      cards: [at(1, '0'), at(2, 'b'), at(3, 'a')],
    };
    expect(planPromotion(state3, 3, { version: 2, merged: false, trainedLater: true })).toEqual({
      status: 'unchanged',
      model: 'iris',
      version: 3,
      reason:
        'the promotion pull request proposes iris@2, trained at bbbbbbbbbbbb, whose history contains ' +
        'aaaaaaaaaaaa, where iris@3 was trained: this run is older than the one that proposed ' +
        '(it finished later); iris@3 stays registered as evidence',
    });
    // Data not later (a sibling, or an ancestor): the higher version is proposed.
    expect(planPromotion(state3, 3, { version: 2, merged: false, trainedLater: false })).toMatchObject(
      { kind: 'promote', to: 3 },
    );
    // Merged already, or in production: not a proposal to protect.
    expect(planPromotion(state3, 3, { version: 2, merged: true, trainedLater: true })).toMatchObject({
      kind: 'promote',
    });
  });

  it('refuses to roll back when pins.json disagrees with the last promotion', () => {
    const [card] = state.cards;
    if (!card) throw new Error('no card');
    const pinned: ModelState = {
      ...state,
      pins: { formatVersion: 1, model: 'iris', production: 1 },
      cards: [card, { ...card, version: 2 }],
    };
    const who = { name: 'Ada', email: 'ada@example.com', timestamp: 0, timezoneOffset: 0 };
    const entry = (oid: string, before: number | null, after: number) => ({
      kind: 'promote' as const,
      commit: oid,
      merge: false,
      before,
      after,
      subject: 's',
      author: who,
      committer: who,
    });
    const history = {
      entries: [entry('1'.repeat(40), null, 2), entry('2'.repeat(40), 2, 2)],
      stack: [entry('1'.repeat(40), null, 1), entry('2'.repeat(40), 1, 2)],
      rolledBack: [],
    };
    expect(() => planRollback(pinned, history)).toThrow(
      /pins v1, but the last promotion in its history set v2: was pins\.json edited by hand\?/,
    );
  });

  it('names the branch and the commit a registration goes on when told the branch', () => {
    const text = describePlan(planRegistration(state, other, facts), { branch: 'main' });
    expect(text.split('\n')[0]).toBe(`register iris@2 on main at ${state.commit.slice(0, 12)}`);
    expect(text).not.toMatch(/[ \t]$/m);
  });

  it('describes an unchanged plan in one line', () => {
    expect(describePlan(planRegistration(state, run, facts))).toMatch(
      /^unchanged: training key [0-9a-f]{12} is already registered as iris@1\n$/,
    );
  });

  it('reads no history for a model with no pins', async () => {
    const dir = await ws.project();
    const repo = GitRepo.open(dir);
    expect(await readHistory(repo, 'main', 'iris')).toEqual({
      entries: [],
      stack: [],
      rolledBack: [],
    });
  });
});
