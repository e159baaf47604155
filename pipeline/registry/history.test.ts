import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GitCommit } from '../git/repo.ts';
import { GitRepo } from '../git/repo.ts';
import { buildHistory, readHistory, type HistoryEntry, type PinChange } from './history.ts';
import { planRollback } from './plan.ts';
import { productionVersion, readModelState, type ModelState } from './registry.ts';
import { renderHistory } from './render.ts';
import {
  allRefs,
  createWorkspace,
  trainRunFolder,
  type Workspace,
} from './testing/project.ts';
import { pinml, pinmlOk } from '../testing/run-cli.ts';

describe('buildHistory', () => {
  let clock = 1_700_000_000;
  const oid = (n: number): string => n.toString(16).padStart(40, '0');
  function commit(n: number, message: string, parents = [oid(n - 1)]): GitCommit {
    clock += 60;
    const who = { name: 'Ada', email: 'ada@example.com', timestamp: clock, timezoneOffset: 0 };
    return { oid: oid(n), tree: oid(1000 + n), parents, message, author: who, committer: who };
  }
  function change(
    c: GitCommit,
    before: number | null,
    after: number | null,
    reverts?: string,
  ): PinChange {
    return { commit: c, before, after, ...(reverts === undefined ? {} : { reverts }) };
  }
  const commits = (entries: readonly HistoryEntry[]): string[] => entries.map((e) => e.commit);

  it('stacks promotions and takes a reverted one off the stack', () => {
    const a = commit(1, 'pinml: promote iris@1 to production\n');
    const b = commit(2, 'Promote iris@2 (#12)\n');
    const r = commit(3, `Revert "Promote iris@2 (#12)"\n\nThis reverts commit ${oid(2)}.\n`);
    const h = buildHistory([change(a, null, 1), change(b, 1, 2), change(r, 2, 1, oid(2))]);
    expect(h.entries.map((e) => e.kind)).toEqual(['promote', 'promote', 'rollback']);
    expect(commits(h.stack)).toEqual([oid(1)]);
    expect(h.rolledBack).toEqual([2]);
    expect(h.entries[1]?.pullRequest).toBe(12);
    expect(h.entries[2]).toMatchObject({
      kind: 'rollback',
      reverts: oid(2),
      before: 2,
      after: 1,
      merge: false,
      subject: 'Revert "Promote iris@2 (#12)"',
    });
    // A local `git revert` is no pull request of its own; the promotion it undid was #12.
    expect(h.entries[2]?.pullRequest).toBeUndefined();
  });

  it('goes one step further back on a second revert, never back to a rolled-back version', () => {
    const a = commit(1, 'pinml: promote iris@1 to production\n');
    const b = commit(2, 'pinml: promote iris@2 to production\n');
    const c = commit(3, 'pinml: promote iris@3 to production\n');
    const r1 = commit(4, `Revert "x"\n\nThis reverts commit ${oid(3)}.\n`);
    const r2 = commit(5, `Revert "y" (#21)\n\nThis reverts commit ${oid(2)}.\n`);
    const h = buildHistory([
      change(a, null, 1),
      change(b, 1, 2),
      change(c, 2, 3),
      change(r1, 3, 2, oid(3)),
      change(r2, 2, 1, oid(2)),
    ]);
    expect(commits(h.stack)).toEqual([oid(1)]);
    expect(h.rolledBack).toEqual([3, 2]);
    expect(h.entries.map((e) => e.kind)).toEqual([
      'promote',
      'promote',
      'promote',
      'rollback',
      'rollback',
    ]);
    expect(h.entries[4]?.pullRequest).toBe(21);
  });

  it('recognises the revert of a merge commit and marks the merge', () => {
    const a = commit(1, 'pinml: promote iris@1 to production\n');
    const m = commit(2, 'Merge pull request #12 from acme/pinml/promote-iris\n', [oid(1), oid(90)]);
    const r = commit(
      3,
      `Revert "Merge pull request #12 from acme/pinml/promote-iris"\n\nThis reverts commit ${oid(2)}, reversing\nchanges made to ${oid(1)}.\n`,
    );
    const h = buildHistory([change(a, null, 1), change(m, 1, 2), change(r, 2, 1, oid(2))]);
    expect(h.entries[1]).toMatchObject({ kind: 'promote', merge: true, pullRequest: 12 });
    expect(h.entries[2]).toMatchObject({ kind: 'rollback', reverts: oid(2), merge: false });
    expect(commits(h.stack)).toEqual([oid(1)]);
    expect(h.rolledBack).toEqual([2]);
  });

  it('treats the revert of a revert as a promotion of the version it brings back', () => {
    const a = commit(1, 'pinml: promote iris@1 to production\n');
    const b = commit(2, 'pinml: promote iris@2 to production\n');
    const r1 = commit(3, `Revert "b"\n\nThis reverts commit ${oid(2)}.\n`);
    const r2 = commit(4, `Reapply "b"\n\nThis reverts commit ${oid(3)}.\n`);
    const h = buildHistory([
      change(a, null, 1),
      change(b, 1, 2),
      change(r1, 2, 1, oid(2)),
      change(r2, 1, 2, oid(3)),
    ]);
    expect(h.entries.map((e) => e.kind)).toEqual(['promote', 'promote', 'rollback', 'promote']);
    expect(commits(h.stack)).toEqual([oid(1), oid(4)]);
    // The next rollback undoes the re-promotion, back to v1.
    expect(h.stack.at(-1)).toMatchObject({ before: 1, after: 2 });
  });

  it('records a change that clears production without stacking it', () => {
    const a = commit(1, 'pinml: promote iris@1 to production\n');
    const cleared = commit(2, 'Take iris out of production\n');
    const h = buildHistory([change(a, null, 1), change(cleared, 1, null)]);
    expect(h.entries.map((e) => e.kind)).toEqual(['promote', 'change']);
    expect(commits(h.stack)).toEqual([oid(1)]);
    expect(h.rolledBack).toEqual([]);
  });

  it('returns an empty history for no changes', () => {
    expect(buildHistory([])).toEqual({ entries: [], stack: [], rolledBack: [] });
  });
});

describe('rolling back promotions made and reverted by the real git CLI', () => {
  let ws: Workspace;
  const runs: string[] = [];

  beforeAll(async () => {
    ws = await createWorkspace('history');
    const source = await ws.project();
    for (const candidate of ['forest-a', 'forest-b', 'forest-c'] as const) {
      const out = path.join(ws.root, `run-${candidate}`);
      await trainRunFolder(source, out, { candidate });
      runs.push(out);
    }
  });

  afterAll(async () => {
    await ws.remove();
  });

  /** A project with iris@1..3 registered and iris@1 promoted by pinml with --merge. */
  async function threeVersions(): Promise<string> {
    const dir = await ws.project();
    for (const run of runs) await pinmlOk(dir, 'register', run);
    await pinmlOk(dir, 'promote', 'iris@1', '--merge');
    return dir;
  }

  type Land = (dir: string, version: number, pr: number) => Promise<void>;

  /** `git merge --squash` of the promotion branch, committed as GitHub titles a squash merge. */
  const squash: Land = async (dir, version, pr) => {
    await ws.git(dir, 'merge', '--quiet', '--squash', 'pinml/promote-iris');
    await ws.git(dir, 'commit', '--quiet', '-m', `Promote iris@${version} (#${pr})`);
  };

  /** `git merge --no-ff` of the promotion branch, as GitHub's "Create a merge commit". */
  const mergeCommit: Land = async (dir, _version, pr) => {
    await ws.git(
      dir,
      'merge',
      '--quiet',
      '--no-ff',
      '-m',
      `Merge pull request #${pr} from acme/pinml/promote-iris`,
      'pinml/promote-iris',
    );
  };

  async function state(dir: string): Promise<ModelState> {
    const repo = GitRepo.open(dir);
    return readModelState(repo, await repo.resolve('main'), 'iris');
  }

  async function production(dir: string): Promise<number | null> {
    return productionVersion(await state(dir));
  }

  interface Scenario {
    name: string;
    land: Land;
    /** Reverts main's tip with the git CLI; resolves to the rollback's PR number, if any. */
    revert: (dir: string) => Promise<number | undefined>;
  }

  const scenarios: Scenario[] = [
    {
      name: 'a squash commit reverted with git revert',
      land: squash,
      revert: async (dir) => {
        await ws.git(dir, 'revert', '--no-edit', 'HEAD');
        return undefined;
      },
    },
    {
      name: 'a squash commit reverted by a squash-merged revert pull request',
      land: squash,
      revert: async (dir) => {
        const tip = await ws.git(dir, 'rev-parse', 'HEAD');
        await ws.git(dir, 'revert', '--no-commit', 'HEAD');
        await ws.git(
          dir,
          'commit',
          '--quiet',
          '-m',
          'Revert "Promote iris@3 (#13)" (#14)',
          '-m',
          `This reverts commit ${tip}.`,
        );
        return 14;
      },
    },
    {
      name: 'a merge commit reverted with git revert -m 1',
      land: mergeCommit,
      revert: async (dir) => {
        await ws.git(dir, 'revert', '--no-edit', '-m', '1', 'HEAD');
        return undefined;
      },
    },
    {
      // `git log registry/iris/pins.json` (how the architecture says to read production's
      // history) shows the promotion commit on the merged side, not the merge: a user reverts that.
      name: 'a merge commit whose promotion commit, as git log of pins.json shows it, is reverted',
      land: mergeCommit,
      revert: async (dir) => {
        const [shown, subject] = (
          await ws.git(dir, 'log', '-1', '--format=%H%n%s', '--', 'registry/iris/pins.json')
        ).split('\n');
        expect(subject).toBe('pinml: promote iris@3 to production');
        expect(await ws.git(dir, 'rev-parse', 'HEAD^2')).toBe(shown);
        await ws.git(dir, 'revert', '--no-edit', shown as string);
        return undefined;
      },
    },
    {
      name: 'a merge commit reverted by a merged revert pull request',
      land: mergeCommit,
      revert: async (dir) => {
        const tip = await ws.git(dir, 'rev-parse', 'HEAD');
        await ws.git(dir, 'checkout', '--quiet', '-b', 'revert-13', 'main');
        await ws.git(dir, 'revert', '--no-edit', '-m', '1', tip);
        await ws.git(dir, 'checkout', '--quiet', 'main');
        await ws.git(
          dir,
          'merge',
          '--quiet',
          '--no-ff',
          '-m',
          'Merge pull request #14 from acme/revert-13-pinml/promote-iris',
          'revert-13',
        );
        return 14;
      },
    },
  ];

  for (const scenario of scenarios) {
    it(`reads the previous version after ${scenario.name}, then rolls back one step further`, async () => {
      const { git, gitStatus } = ws;
      const dir = await threeVersions();
      await pinmlOk(dir, 'promote', 'iris@2');
      await scenario.land(dir, 2, 12);
      const promotion2 = await git(dir, 'rev-parse', 'HEAD');
      const promotion2IsMerge =
        (await git(dir, 'rev-list', '--parents', '-n', '1', 'HEAD')).split(' ').length > 2;
      await pinmlOk(dir, 'promote', 'iris@3');
      await scenario.land(dir, 3, 13);
      const promotion3 = await git(dir, 'rev-parse', 'HEAD');
      expect(await production(dir)).toBe(3);

      const pr = await scenario.revert(dir);
      const revert = await git(dir, 'rev-parse', 'HEAD');
      expect(await production(dir)).toBe(2);
      const show = await pinmlOk(dir, 'show', 'iris');
      expect(show.stdout).toMatch(/^iris: production v2, 3 versions/);
      expect(show.stdout).toMatch(/^v2 .*← production$/m);

      const history = JSON.parse(
        (await pinmlOk(dir, 'history', 'iris', '--json')).stdout,
      ) as HistoryEntry[];
      expect(history.map((e) => [e.kind, e.before, e.after])).toEqual([
        ['promote', null, 1],
        ['promote', 1, 2],
        ['promote', 2, 3],
        ['rollback', 3, 2],
      ]);
      expect(history.map((e) => e.pullRequest)).toEqual([undefined, 12, 13, pr]);
      expect(history[3]).toMatchObject({ commit: revert, reverts: promotion3 });
      const table = (await pinmlOk(dir, 'history', 'iris')).stdout;
      expect(table).toMatch(/rollback +v3 → v2/);
      if (pr !== undefined) expect(table).toMatch(new RegExp(`rollback .*#${pr}\\b`));
      expect(table).toMatch(/\nrolled back: v3\n$/);

      // The next rollback reverts the promotion of v2: back to v1, never to the rolled-back v3.
      const plan = JSON.parse(
        (await pinmlOk(dir, 'rollback', 'iris', '--dry-run', '--json')).stdout,
      ) as {
        from: number;
        to: number;
        revert: { commit: string; mainline?: number };
      };
      // git's mainline (-m 1) only for a merge commit: `git revert -m 1` of a squash fails.
      expect(plan).toMatchObject({ from: 2, to: 1, revert: { commit: promotion2 } });
      expect(plan.revert.mainline).toBe(promotion2IsMerge ? 1 : undefined);
      const second = await pinmlOk(dir, 'rollback', 'iris', '--merge');
      expect(second.stdout).toMatch(/Roll back iris from v2 to v1/);
      expect(await production(dir)).toBe(1);
      const repo = GitRepo.open(dir);
      const after = await readHistory(repo, 'main', 'iris');
      expect(after.rolledBack).toEqual([3, 2]);
      expect(after.stack.map((e) => e.after)).toEqual([1]);
      expect(after.entries.at(-1)).toMatchObject({ kind: 'rollback', reverts: promotion2 });
      expect(await readFile(path.join(dir, 'registry/iris/pins.json'), 'utf8')).toMatch(
        /"production": 1\n/,
      );
      expect(await git(dir, 'status', '--porcelain')).toBe('');
      expect(await gitStatus(dir, 'fsck', '--full', '--strict', '--no-dangling')).toEqual({
        ok: true,
        stderr: '',
      });

      // v1 was the first production version: there is nothing earlier to go back to.
      const before = await allRefs(git, dir);
      const third = await pinml(dir, 'rollback', 'iris', '--merge');
      expect(third.code).toBe(1);
      expect(third.stderr).toBe(
        'pinml: iris@1 is the first production version: there is nothing to roll back to; promote another version instead\n',
      );
      expect(await allRefs(git, dir)).toBe(before);
      expect(await production(dir)).toBe(1);
    });
  }

  it('rolls back twice with pinml alone, then rolls back an explicit re-promotion of a rolled-back version', async () => {
    const dir = await threeVersions();
    await pinmlOk(dir, 'promote', 'iris@2', '--merge');
    await pinmlOk(dir, 'promote', 'iris@3', '--merge');
    const first = await pinmlOk(dir, 'rollback', 'iris', '--merge');
    expect(first.stdout).toMatch(/^created: pinml\/rollback-iris .*from v3 to v2\n/);
    expect(await production(dir)).toBe(2);
    const second = await pinmlOk(dir, 'rollback', 'iris', '--merge');
    expect(second.stdout).toMatch(/^updated: pinml\/rollback-iris .*from v2 to v1\n/);
    expect(await production(dir)).toBe(1);
    // Promoting v3 again is a decision of its own; rolling that back returns to v1, not v2.
    await pinmlOk(dir, 'promote', 'iris@3', '--merge');
    expect(await production(dir)).toBe(3);
    await pinmlOk(dir, 'rollback', 'iris', '--merge');
    expect(await production(dir)).toBe(1);
    const history = await readHistory(GitRepo.open(dir), 'main', 'iris');
    expect(history.entries.map((e) => [e.kind, e.before, e.after])).toEqual([
      ['promote', null, 1],
      ['promote', 1, 2],
      ['promote', 2, 3],
      ['rollback', 3, 2],
      ['rollback', 2, 1],
      ['promote', 1, 3],
      ['rollback', 3, 1],
    ]);
    expect(history.rolledBack).toEqual([3, 2, 3]);
    expect(history.entries.every((e) => e.merge)).toBe(true);
    expect(await ws.git(dir, 'status', '--porcelain')).toBe('');
    expect(await ws.gitStatus(dir, 'fsck', '--full', '--strict', '--no-dangling')).toEqual({
      ok: true,
      stderr: '',
    });
  });

  it('reads a revert of a commit missing from the repository as a promotion, without failing', async () => {
    const dir = await threeVersions();
    await pinmlOk(dir, 'promote', 'iris@2');
    await mergeCommit(dir, 2, 12);
    const file = path.join(dir, 'registry/iris/pins.json');
    await writeFile(
      file,
      (await readFile(file, 'utf8')).replace('"production": 2', '"production": 1'),
    );
    const missing = 'e'.repeat(40);
    await ws.git(
      dir,
      'commit',
      '--quiet',
      '--all',
      '-m',
      'Revert "x"',
      '-m',
      `This reverts commit ${missing}.`,
    );
    const history = await readHistory(GitRepo.open(dir), 'main', 'iris');
    expect(history.entries.map((e) => [e.kind, e.before, e.after])).toEqual([
      ['promote', null, 1],
      ['promote', 1, 2],
      ['promote', 2, 1],
    ]);
    expect(history.rolledBack).toEqual([]);
  });

  it('refuses to roll back the first production version', async () => {
    const dir = await threeVersions();
    const before = await allRefs(ws.git, dir);
    const r = await pinml(dir, 'rollback', 'iris');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^pinml: iris@1 is the first production version: there is nothing to roll back to; promote another version instead\n$/,
    );
    expect(await allRefs(ws.git, dir)).toBe(before);
  });

  it('refuses to roll back a model that was never promoted', async () => {
    const dir = await ws.project();
    await pinmlOk(dir, 'register', runs[0] as string);
    const r = await pinml(dir, 'rollback', 'iris');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('pinml: iris has no production version to roll back\n');
    expect((await pinmlOk(dir, 'history', 'iris')).stdout).toBe(
      'iris: production has never been pinned\n',
    );
  });

  it('treats a hand edit of pins.json as a promotion that the next rollback reverts', async () => {
    const dir = await threeVersions();
    const file = path.join(dir, 'registry/iris/pins.json');
    await writeFile(
      file,
      (await readFile(file, 'utf8')).replace('"production": 1', '"production": 3'),
    );
    await ws.git(dir, 'commit', '--quiet', '--all', '-m', 'Pin v3 by hand');
    // A hand edit is a promotion like any other: history stacks it and a rollback reverts it.
    const repo = GitRepo.open(dir);
    const tip = await repo.resolve('main');
    const history = await readHistory(repo, tip, 'iris');
    expect(history.entries.map((e) => [e.kind, e.before, e.after])).toEqual([
      ['promote', null, 1],
      ['promote', 1, 3],
    ]);
    expect(planRollback(await readModelState(repo, tip, 'iris'), history)).toMatchObject({
      from: 3,
      to: 1,
    });
    const text = renderHistory('iris', history);
    const lines = text.split('\n');
    // Every column is named, and each header sits over its column.
    const header = lines[0] ?? '';
    expect(header.trim().split(/\s{2,}/)).toEqual([
      'date (UTC)',
      'change',
      'production',
      'commit',
      'author',
      'committer',
      'PR',
      'in effect',
    ]);
    const current = lines.find((l) => / yes$/.test(l)) ?? '';
    expect(current).toMatch(/promote +v1 → v3 /);
    for (const name of ['change', 'production', 'commit', 'author', 'in effect']) {
      const at = header.indexOf(name);
      expect(current.slice(at, at + 1), name).not.toBe(' ');
    }
  });
});
