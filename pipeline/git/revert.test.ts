import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GitRepo } from './repo.ts';
import { expectGitError, repoFixture } from './testing/repo-fixture.ts';

const fixture = repoFixture('pinml-git-revert-');
const { git, ada, cliRepo, commitFiles } = fixture;

beforeAll(fixture.setup);
afterAll(fixture.teardown);

describe('GitRepo.revertCommit', () => {
  it('gives the same tree and message as git revert for a normal commit', async () => {
    const dir = await cliRepo({ 'pins.json': '1', 'keep.txt': 'k', 'old.txt': 'o' });
    const target = await commitFiles(
      dir,
      { 'pins.json': '2', 'old.txt': null, 'new/added.txt': 'a' },
      'Promote iris v2\n\nbody',
    );
    await commitFiles(dir, { 'keep.txt': 'k2' }, 'later, elsewhere');
    const repo = GitRepo.open(dir);
    const tip = await repo.resolve('main');
    const revert = await repo.revertCommit(target, { onto: tip, author: ada() });

    await git(dir, 'revert', '--no-edit', target);
    expect(await git(dir, 'rev-parse', `${revert}^{tree}`)).toBe(
      await git(dir, 'rev-parse', 'HEAD^{tree}'),
    );
    expect(await git(dir, 'log', '-1', '--format=%B', revert)).toBe(
      await git(dir, 'log', '-1', '--format=%B', 'HEAD'),
    );
    expect((await repo.readCommit(revert)).parents).toEqual([tip]);
    await git(dir, 'fsck', '--full', '--strict', '--no-dangling');
  });

  it('gives the same tree and message as git revert -m 1 for a merge commit', async () => {
    const dir = await cliRepo({ 'registry/iris/pins.json': '1', 'a.txt': 'a' });
    await git(dir, 'checkout', '--quiet', '-b', 'pr');
    await commitFiles(
      dir,
      { 'registry/iris/pins.json': '2', 'registry/iris/v2.json': 'v2' },
      'pin v2',
    );
    await git(dir, 'checkout', '--quiet', 'main');
    await commitFiles(dir, { 'a.txt': 'a2' }, 'main moves on');
    await git(
      dir,
      'merge',
      '--quiet',
      '--no-ff',
      '-m',
      'Merge pull request #7 from pinml/promote-iris',
      'pr',
    );
    const merge = await git(dir, 'rev-parse', 'HEAD');
    await commitFiles(dir, { 'b.txt': 'b' }, 'after the merge');
    const repo = GitRepo.open(dir);
    const revert = await repo.revertCommit(merge, { onto: 'main', mainline: 1, author: ada() });

    await git(dir, 'revert', '--no-edit', '-m', '1', merge);
    expect(await git(dir, 'rev-parse', `${revert}^{tree}`)).toBe(
      await git(dir, 'rev-parse', 'HEAD^{tree}'),
    );
    const message = await git(dir, 'log', '-1', '--format=%B', revert);
    expect(message).toBe(await git(dir, 'log', '-1', '--format=%B', 'HEAD'));
    expect(message).toContain(`, reversing\nchanges made to `);
    await expectGitError(repo.revertCommit(merge, { onto: 'main', mainline: 3 }), 'other');
  });

  it('refuses with a conflict naming the path when it changed since, and when nothing is left to undo', async () => {
    const dir = await cliRepo({ 'pins.json': '1', 'a.txt': 'a' });
    const target = await commitFiles(dir, { 'pins.json': '2', 'a.txt': 'A' }, 'v2');
    await commitFiles(dir, { 'pins.json': '3' }, 'v3');
    const repo = GitRepo.open(dir);
    const err = await expectGitError(repo.revertCommit(target, { onto: 'main' }), 'conflict');
    expect(err.message).toContain('pins.json');
    expect(err.message).not.toContain('a.txt');
    expect(err.data.paths).toEqual(['pins.json']);

    const undone = await commitFiles(dir, { 'pins.json': '1', 'a.txt': 'a' }, 'undo by hand');
    const empty = await expectGitError(repo.revertCommit(target, { onto: undone }), 'conflict');
    expect(empty.data.empty).toBe(true);
  });
});
