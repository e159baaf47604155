import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GitRepo } from './repo.ts';
import { expectGitError, repoFixture } from './testing/repo-fixture.ts';

const fixture = repoFixture('pinml-git-merge-');
const { git, ada, freshDir, cliRepo, commitFiles } = fixture;

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

describe('GitRepo.mergeCommit, as objects only', () => {
  /** A repository whose `theirs` branch and `main` both moved on from `initial`. */
  async function diverged(
    base: Record<string, string>,
    theirs: Record<string, string | null>,
    ours: Record<string, string | null>,
  ): Promise<string> {
    const dir = await cliRepo(base);
    await git(dir, 'checkout', '--quiet', '-b', 'theirs');
    await commitFiles(dir, theirs, 'theirs');
    await git(dir, 'checkout', '--quiet', 'main');
    await commitFiles(dir, ours, 'ours');
    return dir;
  }

  it('writes the commit with the message, author and committer given, and moves no ref, index or working tree', async () => {
    const dir = await diverged({ 'a.txt': 'a', 'b.txt': 'b' }, { 'b.txt': 'B' }, { 'a.txt': 'A' });
    const repo = GitRepo.open(dir);
    const ours = await repo.resolve('main');
    const theirs = await repo.resolve('theirs');
    const index = await readFile(join(dir, '.git/index'));
    const author = ada();
    const committer = { ...ada(), name: 'Grace', email: 'grace@example.com' };
    const result = await repo.mergeCommit({
      ours: 'main',
      theirs: 'theirs',
      message: 'Merge pull request #3 from pinml/promote-iris\n\nPromote iris v3\n',
      author,
      committer,
    });
    expect(
      await git(dir, 'log', '-1', '--format=%P|%an <%ae> %at|%cn <%ce> %ct|%B', result.oid),
    ).toBe(
      `${ours} ${theirs}|Ada <ada@example.com> ${author.timestamp}|Grace <grace@example.com> ${committer.timestamp}|Merge pull request #3 from pinml/promote-iris\n\nPromote iris v3\n`,
    );
    expect(await git(dir, 'rev-parse', 'main', 'theirs')).toBe(`${ours}\n${theirs}`);
    expect(await readFile(join(dir, '.git/index'))).toEqual(index);
    expect(await git(dir, 'status', '--porcelain')).toBe('');
    expect(await readFile(join(dir, 'b.txt'), 'utf8')).toBe('b');
  });

  it('leaves the index and working tree alone on a conflict too', async () => {
    const dir = await diverged({ 'pins.json': '1' }, { 'pins.json': '2' }, { 'pins.json': '3' });
    const repo = GitRepo.open(dir);
    const index = await readFile(join(dir, '.git/index'));
    await expectGitError(
      repo.mergeCommit({ ours: 'main', theirs: 'theirs', message: 'm', author: ada() }),
      'conflict',
    );
    expect(await readFile(join(dir, '.git/index'))).toEqual(index);
    expect(await git(dir, 'status', '--porcelain')).toBe('');
    expect(await readFile(join(dir, 'pins.json'), 'utf8')).toBe('3');
  });

  it('merges in a bare repository to the tree git merge-tree writes', async () => {
    const work = await diverged(
      { 'registry/iris/pins.json': '1', 'registry/iris/versions/1/card.json': 'c1' },
      { 'registry/iris/versions/2/card.json': 'c2', 'registry/iris/versions/1/card.json': null },
      { 'registry/wine/pins.json': '1' },
    );
    const dir = await freshDir('bare');
    await git(dir, 'clone', '--quiet', '--bare', work, '.');
    const repo = GitRepo.open(dir, { bare: true });
    const result = await repo.mergeCommit({
      ours: 'main',
      theirs: 'theirs',
      message: 'm',
      author: ada(),
    });
    expect(await git(dir, 'rev-parse', `${result.oid}^{tree}`)).toBe(
      await git(dir, 'merge-tree', '--write-tree', 'main', 'theirs'),
    );
    await git(dir, 'fsck', '--full', '--strict', '--no-dangling');
    await expect(stat(join(dir, 'index'))).rejects.toThrow(/ENOENT/);
  });

  it("agrees with git merge when one side changes a file's mode and the other its content", async () => {
    const dir = await diverged(
      { 'run.sh': 'echo 1\n', 'a.txt': 'a' },
      { 'run.sh': 'echo 2\n' },
      {},
    );
    await git(dir, 'update-index', '--chmod=+x', 'run.sh');
    await git(dir, 'commit', '--quiet', '-m', 'make run.sh executable');
    const repo = GitRepo.open(dir);
    const result = await repo.mergeCommit({
      ours: 'main',
      theirs: 'theirs',
      message: 'm',
      author: ada(),
    });
    expect(result).toMatchObject({ fastForward: false, upToDate: false });
    expect(await git(dir, 'ls-tree', result.oid, 'run.sh')).toMatch(/^100755 blob /);
    expect(await git(dir, 'rev-parse', `${result.oid}^{tree}`)).toBe(
      await git(dir, 'merge-tree', '--write-tree', 'main', 'theirs'),
    );
  });

  it('refuses an empty message, which isomorphic-git would replace by its own', async () => {
    const dir = await diverged({ 'a.txt': 'a', 'b.txt': 'b' }, { 'b.txt': 'B' }, { 'a.txt': 'A' });
    const repo = GitRepo.open(dir);
    const before = await git(dir, 'count-objects', '-v');
    await expectGitError(
      repo.mergeCommit({ ours: 'main', theirs: 'theirs', message: '' }),
      'other',
    );
    expect(await git(dir, 'count-objects', '-v')).toBe(before);
  });

  it('refuses as dirty while the index holds a merge in progress', async () => {
    const dir = await diverged({ 'pins.json': '1' }, { 'pins.json': '2' }, { 'pins.json': '3' });
    await git(dir, 'checkout', '--quiet', '-b', 'side', 'main~1');
    await commitFiles(dir, { 'other.txt': 'o' }, 'side');
    await git(dir, 'checkout', '--quiet', 'main');
    await expect(git(dir, 'merge', '--quiet', 'theirs')).rejects.toThrow();
    expect(await git(dir, 'ls-files', '--unmerged')).toContain('pins.json');
    const repo = GitRepo.open(dir);
    const err = await expectGitError(
      repo.mergeCommit({ ours: 'side', theirs: 'theirs', message: 'm' }),
      'dirty',
    );
    expect(err.data.paths).toEqual(['pins.json']);
  });

  it('refuses with a conflict a file one side deleted and the other changed, either way round', async () => {
    const theirsDeleted = await diverged(
      { 'pins.json': '1', 'a.txt': 'a' },
      { 'pins.json': null },
      { 'pins.json': '2' },
    );
    const one = await expectGitError(
      GitRepo.open(theirsDeleted).mergeCommit({ ours: 'main', theirs: 'theirs', message: 'm' }),
      'conflict',
    );
    expect(one.data.paths).toEqual(['pins.json']);
    const oursDeleted = await diverged(
      { 'pins.json': '1', 'a.txt': 'a' },
      { 'pins.json': '2' },
      { 'pins.json': null },
    );
    const other = await expectGitError(
      GitRepo.open(oursDeleted).mergeCommit({ ours: 'main', theirs: 'theirs', message: 'm' }),
      'conflict',
    );
    expect(other.data.paths).toEqual(['pins.json']);
  });

  it('refuses with a conflict naming a file one side changed and the other made a folder', async () => {
    const dir = await diverged(
      { 'model.json': '1', 'a.txt': 'a' },
      { 'model.json': null, 'model.json/inner.txt': 'now a folder' },
      { 'model.json': '2' },
    );
    const err = await expectGitError(
      GitRepo.open(dir).mergeCommit({ ours: 'main', theirs: 'theirs', message: 'm' }),
      'conflict',
    );
    expect(err.data.paths).toEqual(['model.json']);
  });

  it('refuses unrelated histories and criss-cross merges with a conflict', async () => {
    const dir = await cliRepo({ 'a.txt': 'a' });
    await git(dir, 'checkout', '--quiet', '--orphan', 'stranger');
    await commitFiles(dir, { 'b.txt': 'b' }, 'a root of its own');
    const repo = GitRepo.open(dir);
    const unrelated = await expectGitError(
      repo.mergeCommit({ ours: 'main', theirs: 'stranger', message: 'm' }),
      'conflict',
    );
    expect(unrelated.message).toContain('share no history');
    expect(unrelated.data.bases).toEqual([]);

    // Two branches that each merged the other's first commit have two merge bases.
    await git(dir, 'checkout', '--quiet', 'main');
    await git(dir, 'checkout', '--quiet', '-b', 'left');
    const left = await commitFiles(dir, { 'l.txt': 'l' }, 'left');
    await git(dir, 'checkout', '--quiet', 'main');
    await git(dir, 'checkout', '--quiet', '-b', 'right');
    const right = await commitFiles(dir, { 'r.txt': 'r' }, 'right');
    await git(dir, 'merge', '--quiet', '--no-ff', '-m', 'right takes left', left);
    await git(dir, 'checkout', '--quiet', 'left');
    await git(dir, 'merge', '--quiet', '--no-ff', '-m', 'left takes right', right);
    const crossed = await expectGitError(
      repo.mergeCommit({ ours: 'left', theirs: 'right', message: 'm' }),
      'conflict',
    );
    expect(crossed.message).toContain('2 merge bases');
    expect([...(crossed.data.bases as string[])].sort()).toEqual([left, right].sort());
  });
});
