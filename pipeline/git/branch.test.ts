import { spawnSync } from 'node:child_process';
import { link, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROCESS_TAG } from './atomic-fs.ts';
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

  /** The pid of a process of this host that has exited. */
  const deadPid = (): number => spawnSync(process.execPath, ['-e', '0']).pid ?? 0;
  /** Takes main's lock as pinml does (an owner file, hard-linked), for the process `pid`. */
  const lockAs = async (dir: string, pid: number, value: string): Promise<void> => {
    const owner = join(
      dir,
      `.git/refs/heads/.main.pinml-${PROCESS_TAG.slice(0, 8)}-${pid}-1.owner`,
    );
    await writeFile(owner, `${value}\n`);
    await link(owner, join(dir, '.git/refs/heads/main.lock'));
  };

  it('removes a lock a killed pinml process left, and the owner file, then moves the branch', async () => {
    const dir = await cliRepo({ 'a.txt': 'a' });
    const repo = GitRepo.open(dir);
    const tip = await repo.resolve('main');
    const next = await repo.writeCommit({ parent: tip, changes: [], message: 'n', author: ada() });
    await lockAs(dir, deadPid(), next);
    // git itself refuses while the lock is there…
    await expect(git(dir, 'update-ref', 'refs/heads/main', next)).rejects.toThrow(/lock/);
    // …pinml sees its owner is gone and takes over.
    await repo.updateBranch('main', next, { expected: tip });
    expect(await git(dir, 'rev-parse', 'main')).toBe(next);
    expect((await readdir(join(dir, '.git/refs/heads'))).sort()).toEqual(['main']);
    await git(dir, 'fsck', '--strict');
  });

  it('leaves a lock of a live process, and one git took, and says what to do', async () => {
    const dir = await cliRepo({ 'a.txt': 'a' });
    const repo = GitRepo.open(dir);
    const tip = await repo.resolve('main');
    const next = await repo.writeCommit({ parent: tip, changes: [], message: 'n', author: ada() });
    await lockAs(dir, process.ppid, tip);
    const busy = await expectGitError(repo.updateBranch('main', next), 'conflict');
    expect(busy.message).toMatch(
      /^Branch main is locked by another git process \(refs\/heads\/main\.lock exists\)\. Retry; if no git process is running, delete \S+\/\.git\/refs\/heads\/main\.lock\.$/,
    );
    expect(await readFile(join(dir, '.git/refs/heads/main.lock'), 'utf8')).toBe(`${tip}\n`);
    expect(await git(dir, 'rev-parse', 'main')).toBe(tip);
  });

  it('publishes by renaming the lock: the ref holds the new value, no lock or owner file is left', async () => {
    const dir = await cliRepo({ 'a.txt': 'a' });
    const repo = GitRepo.open(dir);
    const tip = await repo.resolve('main');
    const next = await repo.writeCommit({ parent: tip, changes: [], message: 'n', author: ada() });
    await repo.updateBranch('side', next, { expected: null });
    expect(await readFile(join(dir, '.git/refs/heads/side'), 'utf8')).toBe(`${next}\n`);
    expect((await readdir(join(dir, '.git/refs/heads'))).sort()).toEqual(['main', 'side']);
  });
});
