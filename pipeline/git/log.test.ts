import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GitRepo } from './repo.ts';
import { repoFixture } from './testing/repo-fixture.ts';

const fixture = repoFixture('pinml-git-log-');
const { git, cliRepo, commitFiles } = fixture;

beforeAll(fixture.setup);
afterAll(fixture.teardown);

describe('GitRepo.log', () => {
  let dir: string;
  const pins = 'registry/iris/pins.json';

  /** The commits of `git rev-list` (in its order) whose tree at `path` differs from their first parent's. */
  async function oracle(path: string): Promise<string[]> {
    const all = (await git(dir, 'rev-list', 'main')).split('\n');
    const out: string[] = [];
    for (const oid of all) {
      const parents = (await git(dir, 'rev-list', '--parents', '-n', '1', oid)).split(' ').slice(1);
      const first = parents[0];
      const changed =
        first === undefined
          ? (await git(dir, 'ls-tree', '-r', oid, '--', path)) !== ''
          : (await git(dir, 'diff', '--name-only', first, oid, '--', path)) !== '';
      if (changed) out.push(oid);
    }
    return out;
  }

  beforeAll(async () => {
    dir = await cliRepo({ [pins]: '{"production":1}\n', 'README.md': 'r' });
    await commitFiles(dir, { 'README.md': 'r2' }, 'docs');
    // A pull request merged with a merge commit.
    await git(dir, 'checkout', '--quiet', '-b', 'promote');
    await commitFiles(dir, { [pins]: '{"production":2}\n' }, 'Promote iris v2');
    await git(dir, 'checkout', '--quiet', 'main');
    await commitFiles(dir, { 'other.txt': 'o' }, 'unrelated on main');
    await git(dir, 'merge', '--quiet', '--no-ff', '-m', 'Merge pull request #1', 'promote');
    // A pull request squash-merged.
    await git(dir, 'checkout', '--quiet', '-b', 'promote2');
    await commitFiles(dir, { [pins]: '{"production":3}\n' }, 'wip');
    await commitFiles(dir, { [pins]: '{"production":3}\n', 'x.txt': 'x' }, 'wip 2');
    await git(dir, 'checkout', '--quiet', 'main');
    await git(dir, 'merge', '--quiet', '--squash', 'promote2');
    await git(dir, 'commit', '--quiet', '-m', 'Promote iris v3 (#2)');
    await git(dir, 'revert', '--no-edit', 'HEAD');
  });

  it('lists the whole history newest first, as git log does', async () => {
    const repo = GitRepo.open(dir);
    const log = await repo.log('main');
    expect(log.map((c) => c.oid)).toEqual(
      (await git(dir, 'log', '--format=%H', 'main')).split('\n'),
    );
    const merge = log.find((c) => c.message.startsWith('Merge pull request #1'));
    expect(merge?.parents).toHaveLength(2);
    expect(log[0]?.author).toEqual({
      name: 'Ada',
      email: 'ada@example.com',
      timestamp: Number(await git(dir, 'log', '-1', '--format=%at')),
      timezoneOffset: 0,
    });
    expect((await repo.log('main', { depth: 2 })).map((c) => c.oid)).toEqual(
      log.slice(0, 2).map((c) => c.oid),
    );
  });

  it('with a path, lists the commits that changed it against their first parent, merges included', async () => {
    const repo = GitRepo.open(dir);
    const expected = await oracle(pins);
    const got = (await repo.log('main', { path: pins })).map((c) => c.oid);
    expect(got).toEqual(expected);
    const subjects = (await repo.log('main', { path: pins })).map((c) => c.message.split('\n')[0]);
    expect(subjects).toEqual([
      'Revert "Promote iris v3 (#2)"',
      'Promote iris v3 (#2)',
      'Merge pull request #1',
      'Promote iris v2',
      'initial',
    ]);
    expect((await repo.log('main', { path: 'registry' })).map((c) => c.oid)).toEqual(
      await oracle('registry'),
    );
    expect(await repo.log('main', { path: 'never/was.txt' })).toEqual([]);
  });

  it('with firstParent, agrees with git log --first-parent -- <path>', async () => {
    const repo = GitRepo.open(dir);
    const got = (await repo.log('main', { path: pins, firstParent: true })).map((c) => c.oid);
    expect(got).toEqual(
      (await git(dir, 'log', '--first-parent', '--format=%H', 'main', '--', pins)).split('\n'),
    );
    const limited = await repo.log('main', { path: pins, firstParent: true, depth: 2 });
    expect(limited.map((c) => c.oid)).toEqual(got.slice(0, 2));
  });

  it('reads the same history after git gc packs every object', async () => {
    const repo = GitRepo.open(dir);
    const before = (await repo.log('main', { path: pins })).map((c) => c.oid);
    const text = await repo.readText('main', pins);
    await git(dir, 'gc', '--quiet', '--aggressive', '--prune=now');
    expect(await git(dir, 'count-objects', '-v')).toMatch(/^count: 0$/m);
    expect((await repo.log('main', { path: pins })).map((c) => c.oid)).toEqual(before);
    expect(await repo.readText('main', pins)).toBe(text);
  });
});
