import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GitRepo } from './repo.ts';
import { expectGitError, repoFixture } from './testing/repo-fixture.ts';

const fixture = repoFixture('pinml-git-branch-');
const { git, ada, cliRepo } = fixture;

beforeAll(fixture.setup);
afterAll(fixture.teardown);

describe('GitRepo.updateBranch', () => {
  it('compares and sets: a branch that moved is a conflict, a missing one can be created', async () => {
    const dir = await cliRepo({ 'a.txt': 'a' });
    const repo = GitRepo.open(dir);
    const tip = await repo.resolve('main');
    const next = await repo.writeCommit({
      parent: tip,
      changes: [{ path: 'a.txt', content: 'b' }],
      message: 'b',
      author: ada(),
    });
    await expectGitError(repo.updateBranch('main', next, { expected: next }), 'conflict');
    await expectGitError(repo.updateBranch('main', next, { expected: null }), 'conflict');
    expect(await git(dir, 'rev-parse', 'main')).toBe(tip);
    // A branch that is not checked out moves without touching the working tree.
    await repo.updateBranch('pinml/promote-iris', next, { expected: null });
    expect(await git(dir, 'rev-parse', 'pinml/promote-iris')).toBe(next);
    expect(await readFile(join(dir, 'a.txt'), 'utf8')).toBe('a');
    expect(await git(dir, 'status', '--porcelain')).toBe('');
    await expectGitError(repo.updateBranch('bad name', next), 'other');
    // A lock held by another git process is a conflict, not a silent overwrite.
    await writeFile(join(dir, '.git/refs/heads/main.lock'), '');
    await expectGitError(repo.updateBranch('main', next), 'conflict');
  });

  it('moves a branch that git gc packed into packed-refs', async () => {
    const dir = await cliRepo({ 'a.txt': 'a' });
    await git(dir, 'branch', 'side');
    await git(dir, 'gc', '--quiet');
    const repo = GitRepo.open(dir);
    const tip = await repo.resolve('side');
    const next = await repo.writeCommit({ parent: tip, changes: [], message: 'n', author: ada() });
    await repo.updateBranch('side', next, { expected: tip });
    expect(await git(dir, 'rev-parse', 'side')).toBe(next);
    await git(dir, 'fsck', '--full', '--strict', '--no-dangling');
  });
});
