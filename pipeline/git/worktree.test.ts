import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GitRepo } from './repo.ts';
import { expectGitError, repoFixture } from './testing/repo-fixture.ts';

const fixture = repoFixture('pinml-git-worktree-');
const { git, ada, cliRepo } = fixture;

beforeAll(fixture.setup);
afterAll(fixture.teardown);

describe('GitRepo.updateBranch on a checked-out branch', () => {
  it('brings the checked-out working tree and index up to date, leaving git status clean', async () => {
    const dir = await cliRepo({
      'keep.txt': 'keep',
      'a.txt': 'a',
      'gone/deep/b.txt': 'b',
      'dir-becomes-file/x.txt': 'x',
    });
    await writeFile(join(dir, 'notes.txt'), 'untracked, not mine');
    const repo = GitRepo.open(dir);
    const next = await repo.writeCommit({
      parent: 'main',
      changes: [
        { path: 'a.txt', content: 'A' },
        { path: 'gone/deep/b.txt', content: null },
        { path: 'new/c.txt', content: 'c' },
        { path: 'dir-becomes-file/x.txt', content: null },
        { path: 'dir-becomes-file', content: 'now a file' },
      ],
      message: 'change',
      author: ada(),
    });
    const before = await repo.resolve('main');
    await repo.updateBranch('main', next, { expected: before });

    expect(await git(dir, 'rev-parse', 'HEAD')).toBe(next);
    expect(await git(dir, 'status', '--porcelain')).toBe('?? notes.txt');
    expect(await git(dir, 'diff', 'HEAD', '--stat')).toBe('');
    expect(await readFile(join(dir, 'a.txt'), 'utf8')).toBe('A');
    expect(await readFile(join(dir, 'new/c.txt'), 'utf8')).toBe('c');
    expect(await readFile(join(dir, 'dir-becomes-file'), 'utf8')).toBe('now a file');
    expect(await readFile(join(dir, 'notes.txt'), 'utf8')).toBe('untracked, not mine');
    await expect(readFile(join(dir, 'gone/deep/b.txt'))).rejects.toThrow(/ENOENT/);
    await expect(readFile(join(dir, 'gone'))).rejects.toThrow(/ENOENT/);
  });

  it('refuses, touching nothing, when a path it would change has uncommitted changes', async () => {
    const dir = await cliRepo({ 'a.txt': 'a', 'b.txt': 'b', 'other.txt': 'o' });
    const repo = GitRepo.open(dir);
    const before = await repo.resolve('main');
    const next = await repo.writeCommit({
      parent: before,
      changes: [
        { path: 'a.txt', content: 'A' },
        { path: 'b.txt', content: 'B' },
      ],
      message: 'change',
      author: ada(),
    });
    await writeFile(join(dir, 'a.txt'), 'edited in the working tree');
    await writeFile(join(dir, 'b.txt'), 'staged');
    await git(dir, 'add', 'b.txt');
    const err = await expectGitError(repo.updateBranch('main', next), 'dirty');
    expect(err.message).toContain('a.txt');
    expect(err.message).toContain('b.txt');
    expect(err.message).not.toContain('other.txt');
    expect(await git(dir, 'rev-parse', 'main')).toBe(before);
    expect(await readFile(join(dir, 'a.txt'), 'utf8')).toBe('edited in the working tree');
    expect(await git(dir, 'status', '--porcelain')).toBe(' M a.txt\nM  b.txt');

    // An uncommitted change to a path the commit does not touch is kept, and does not block.
    await git(dir, 'checkout', '--quiet', '--', 'a.txt');
    await git(dir, 'reset', '--quiet', '--hard');
    await writeFile(join(dir, 'other.txt'), 'mine');
    await repo.updateBranch('main', next);
    expect(await git(dir, 'status', '--porcelain')).toBe(' M other.txt');
    expect(await readFile(join(dir, 'other.txt'), 'utf8')).toBe('mine');
  });

  it('refuses to overwrite an untracked file the new commit adds', async () => {
    const dir = await cliRepo({ 'a.txt': 'a' });
    const repo = GitRepo.open(dir);
    const next = await repo.writeCommit({
      parent: 'main',
      changes: [{ path: 'new.txt', content: 'from the commit' }],
      message: 'add',
      author: ada(),
    });
    await writeFile(join(dir, 'new.txt'), 'a user file');
    const err = await expectGitError(repo.updateBranch('main', next), 'dirty');
    expect(err.message).toContain('new.txt');
    expect(await readFile(join(dir, 'new.txt'), 'utf8')).toBe('a user file');
  });

  it('finishes an update a kill cut short: files already as the new commit has them are not changes', async () => {
    const dir = await cliRepo({ 'a.txt': 'a', 'old.txt': 'old', 'b.txt': 'b' });
    const repo = GitRepo.open(dir);
    const before = await repo.resolve('main');
    const next = await repo.writeCommit({
      parent: before,
      changes: [
        { path: 'a.txt', content: 'A' },
        { path: 'new/c.txt', content: 'c' },
        { path: 'old.txt', content: null },
        { path: 'b.txt', content: 'B' },
      ],
      message: 'change',
      author: ada(),
    });
    // The killed update had written a.txt and staged it, written new/c.txt without staging it,
    // and deleted old.txt; b.txt was not reached.
    await writeFile(join(dir, 'a.txt'), 'A');
    await git(dir, 'add', 'a.txt');
    await mkdir(join(dir, 'new'));
    await writeFile(join(dir, 'new/c.txt'), 'c');
    await rm(join(dir, 'old.txt'));
    await repo.updateBranch('main', next, { expected: before });
    expect(await git(dir, 'status', '--porcelain')).toBe('');
    expect(await readFile(join(dir, 'b.txt'), 'utf8')).toBe('B');
    // A file that is neither the old content nor the new one is still the user's change.
    const third = await repo.writeCommit({
      parent: next,
      changes: [{ path: 'a.txt', content: 'AA' }],
      message: 'again',
      author: ada(),
    });
    await writeFile(join(dir, 'a.txt'), 'mine');
    await expectGitError(repo.updateBranch('main', third, { expected: next }), 'dirty');
    expect(await readFile(join(dir, 'a.txt'), 'utf8')).toBe('mine');
  });
});
