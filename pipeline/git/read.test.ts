import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GitRepo } from './repo.ts';
import { expectGitError, repoFixture } from './testing/repo-fixture.ts';

const fixture = repoFixture('pinml-git-read-');
const { git, cliRepo, commitFiles } = fixture;

beforeAll(fixture.setup);
afterAll(fixture.teardown);

describe('GitRepo reads', () => {
  it('reads files at a ref from git objects, ignoring working-tree edits', async () => {
    const dir = await cliRepo({ 'registry/iris/pins.json': '{"production":1}\n', 'x.txt': 'x' });
    const repo = GitRepo.open(dir);
    await writeFile(join(dir, 'registry/iris/pins.json'), '{"production":99}\n');
    await writeFile(join(dir, 'untracked.txt'), 'nope');
    expect(await repo.readText('main', 'registry/iris/pins.json')).toBe('{"production":1}\n');
    expect(await repo.readText('HEAD', '/registry/iris/pins.json')).toBe('{"production":1}\n');
    expect(await repo.readFile('main', 'untracked.txt')).toBeUndefined();
    expect(await repo.readFile('main', 'registry/iris')).toBeUndefined();
    expect(await repo.listDir('main', '')).toEqual([
      { name: 'registry', type: 'tree' },
      { name: 'x.txt', type: 'blob' },
    ]);
    expect(await repo.listDir('main', 'registry/iris')).toEqual([
      { name: 'pins.json', type: 'blob' },
    ]);
    expect(await repo.listDir('main', 'nowhere')).toEqual([]);
    expect(await repo.listDir('main', 'x.txt')).toEqual([]);
  });

  it('resolves branches, full refs, remote branches, tags and oids to commits', async () => {
    const dir = await cliRepo({ 'a.txt': 'a' });
    const tip = await git(dir, 'rev-parse', 'HEAD');
    await git(dir, 'update-ref', 'refs/remotes/origin/main', tip);
    await git(dir, 'tag', 'light');
    await git(dir, 'tag', '-a', 'annotated', '-m', 'an annotated tag');
    const repo = GitRepo.open(dir);
    for (const ref of [
      'main',
      'HEAD',
      'refs/heads/main',
      'origin/main',
      'refs/remotes/origin/main',
      'light',
      'annotated',
      'refs/tags/annotated',
      tip,
      tip.slice(0, 8),
    ]) {
      expect(await repo.resolve(ref), ref).toBe(tip);
    }
    expect(await repo.currentBranch()).toBe('main');
    await expectGitError(repo.resolve('nope'), 'not-found');
    await expectGitError(repo.resolve('f'.repeat(40)), 'not-found');
    await expectGitError(repo.resolve(await git(dir, 'rev-parse', 'HEAD^{tree}')), 'not-found');
    await expectGitError(repo.readFile('nope', 'a.txt'), 'not-found');
    const nowhere = await expectGitError(
      GitRepo.open(join(dir, 'nope')).resolve('main'),
      'not-found',
    );
    expect(nowhere.message).toContain('is not a git repository');
  });

  it('lists the files that differ between two commits', async () => {
    const dir = await cliRepo({ 'a.txt': 'a', 'd/b.txt': 'b', 'd/e/c.txt': 'c', 'same.txt': 's' });
    const first = await git(dir, 'rev-parse', 'HEAD');
    const second = await commitFiles(
      dir,
      { 'a.txt': 'A', 'd/e/c.txt': null, 'd/new.txt': 'n', 'f/g.txt': 'g' },
      'second',
    );
    const repo = GitRepo.open(dir);
    const expected = (await git(dir, 'diff', '--name-only', first, second)).split('\n').sort();
    expect(await repo.changedPaths(first, second)).toEqual(expected);
    expect(await repo.changedPaths(second, first)).toEqual(expected);
    expect(await repo.changedPaths(null, first)).toEqual([
      'a.txt',
      'd/b.txt',
      'd/e/c.txt',
      'same.txt',
    ]);
    expect(await repo.changedPaths(second, second)).toEqual([]);
  });
});
