import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GitRepo } from './repo.ts';
import { expectGitError, repoFixture } from './testing/repo-fixture.ts';

const fixture = repoFixture('pinml-git-merge-');
const { git, ada, cliRepo, commitFiles } = fixture;

beforeAll(fixture.setup);
afterAll(fixture.teardown);

describe('GitRepo.mergeCommit', () => {
  it('agrees with git merge on a non-conflicting merge', async () => {
    const dir = await cliRepo({ 'a.txt': 'a', 'shared/b.txt': 'b', 'gone.txt': 'g' });
    await git(dir, 'checkout', '--quiet', '-b', 'theirs');
    await commitFiles(
      dir,
      { 'shared/b.txt': 'B', 'theirs/new.txt': 'n', 'gone.txt': null },
      'theirs',
    );
    await git(dir, 'checkout', '--quiet', 'main');
    await commitFiles(dir, { 'a.txt': 'A', 'shared/c.txt': 'c' }, 'ours');
    const repo = GitRepo.open(dir);
    const ours = await repo.resolve('main');
    const theirs = await repo.resolve('theirs');
    const result = await repo.mergeCommit({ ours, theirs, message: 'Merge theirs', author: ada() });
    expect(result.fastForward).toBe(false);
    expect(result.upToDate).toBe(false);
    expect((await repo.readCommit(result.oid)).parents).toEqual([ours, theirs]);

    await git(dir, 'merge', '--quiet', '--no-ff', '--no-edit', 'theirs');
    expect(await git(dir, 'rev-parse', `${result.oid}^{tree}`)).toBe(
      await git(dir, 'rev-parse', 'HEAD^{tree}'),
    );
    await git(dir, 'fsck', '--full', '--strict', '--no-dangling');
  });

  it('reports a fast-forward or an up-to-date merge without writing a commit', async () => {
    const dir = await cliRepo({ 'a.txt': 'a' });
    const base = await git(dir, 'rev-parse', 'HEAD');
    const ahead = await commitFiles(dir, { 'a.txt': 'b' }, 'ahead');
    const repo = GitRepo.open(dir);
    expect(await repo.mergeCommit({ ours: base, theirs: ahead, message: 'm' })).toEqual({
      oid: ahead,
      fastForward: true,
      upToDate: false,
    });
    expect(await repo.mergeCommit({ ours: ahead, theirs: base, message: 'm' })).toEqual({
      oid: ahead,
      fastForward: false,
      upToDate: true,
    });
    expect(await repo.isAncestor(base, ahead)).toBe(true);
    expect(await repo.isAncestor(ahead, base)).toBe(false);
  });

  it('refuses with a conflict naming the path both sides changed differently', async () => {
    const dir = await cliRepo({ 'pins.json': '1', 'a.txt': 'a' });
    await git(dir, 'checkout', '--quiet', '-b', 'theirs');
    await commitFiles(dir, { 'pins.json': '2', 'a.txt': 'same' }, 'theirs');
    await git(dir, 'checkout', '--quiet', 'main');
    await commitFiles(dir, { 'pins.json': '3', 'a.txt': 'same' }, 'ours');
    const repo = GitRepo.open(dir);
    const err = await expectGitError(
      repo.mergeCommit({ ours: 'main', theirs: 'theirs', message: 'm' }),
      'conflict',
    );
    expect(err.data.paths).toEqual(['pins.json']);
  });
});
