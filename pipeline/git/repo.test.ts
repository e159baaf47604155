import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GitError } from '../errors.ts';
import { GitRepo } from './repo.ts';
import type { GitIdentity } from './repo.ts';
import type { HttpClient } from 'isomorphic-git';
import nodeHttp from 'isomorphic-git/http/node';
import { gitCli, gitEnv } from './testing/git-cli.ts';
import { createBareRepo, protectBranch, startGitServer } from './testing/git-server.ts';
import type { GitServer } from './testing/git-server.ts';

let work: string;
let clock = 1_700_000_000;

// Each git command is dated a minute after the last date handed out (by it or ada()).
const { git } = gitCli(() => {
  clock += 60;
  return gitEnv(work, `@${clock} +0000`);
});

/** The next identity with a later time, so commits are deterministic and ordered. */
function ada(): GitIdentity {
  clock += 60;
  return { name: 'Ada', email: 'ada@example.com', timestamp: clock, timezoneOffset: 0 };
}

let seq = 0;
async function freshDir(name: string): Promise<string> {
  seq += 1;
  const dir = join(work, `${name}-${seq}`);
  await mkdir(dir, { recursive: true });
  return dir;
}

/** A repository made by the git CLI with one commit of `files`. */
async function cliRepo(files: Record<string, string>): Promise<string> {
  const dir = await freshDir('cli');
  await git(dir, 'init', '--quiet', '--initial-branch=main');
  await commitFiles(dir, files, 'initial');
  return dir;
}

async function commitFiles(
  dir: string,
  files: Record<string, string | null>,
  message: string,
): Promise<string> {
  for (const [path, content] of Object.entries(files)) {
    if (content === null) await git(dir, 'rm', '--quiet', path);
    else {
      await mkdir(join(dir, path, '..'), { recursive: true });
      await writeFile(join(dir, path), content);
      await git(dir, 'add', path);
    }
  }
  await git(dir, 'commit', '--quiet', '--allow-empty', '-m', message);
  return git(dir, 'rev-parse', 'HEAD');
}

async function expectGitError(
  promise: Promise<unknown>,
  reason: GitError['reason'],
): Promise<GitError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(GitError);
    const e = err as GitError;
    expect(e.reason, e.message).toBe(reason);
    return e;
  }
  throw new Error(`expected a GitError "${reason}", but the call succeeded`);
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'pinml-git-repo-'));
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('GitRepo.writeCommit', () => {
  it('writes commits that git fsck --full --strict accepts and git log shows', async () => {
    const dir = await freshDir('write');
    const repo = await GitRepo.init(dir);
    const first = await repo.writeCommit({
      parent: null,
      changes: [
        { path: 'registry/iris/pins.json', content: '{"production":1}\n' },
        { path: 'registry/iris/versions/1/card.json', content: '{"version":1}\n' },
        { path: 'README.md', content: new TextEncoder().encode('# registry\n') },
      ],
      message: 'Register iris v1',
      author: ada(),
    });
    const second = await repo.writeCommit({
      parent: first,
      changes: [
        { path: 'registry/iris/pins.json', content: '{"production":2}\n' },
        { path: 'registry/iris/versions/1/card.json', content: null },
        { path: 'registry/iris/versions/2/card.json', content: '{"version":2}\n' },
        { path: 'bin/run.sh', content: '#!/bin/sh\n', executable: true },
      ],
      message: 'Promote iris v2\n\nWith a body.',
      author: ada(),
    });
    await repo.updateBranch('main', second, { expected: null });

    await git(dir, 'fsck', '--full', '--strict', '--no-dangling');
    expect(await git(dir, 'log', '--format=%H %P|%s|%an <%ae>')).toBe(
      [
        `${second} ${first}|Promote iris v2|Ada <ada@example.com>`,
        `${first} |Register iris v1|Ada <ada@example.com>`,
      ].join('\n'),
    );
    // The emptied folder versions/1 is gone from the tree, not left as an empty tree.
    expect((await git(dir, 'ls-tree', '-r', '-t', '--name-only', 'main')).split('\n')).toEqual([
      'README.md',
      'bin',
      'bin/run.sh',
      'registry',
      'registry/iris',
      'registry/iris/pins.json',
      'registry/iris/versions',
      'registry/iris/versions/2',
      'registry/iris/versions/2/card.json',
    ]);
    expect(await git(dir, 'ls-tree', 'main', 'bin/run.sh')).toMatch(/^100755 blob /);
    expect(await git(dir, 'cat-file', 'commit', second)).toMatch(
      /\n\nPromote iris v2\n\nWith a body\.$/,
    );
    expect(await git(dir, 'status', '--porcelain')).toBe('');
    expect(await readFile(join(dir, 'registry/iris/pins.json'), 'utf8')).toBe('{"production":2}\n');
  });

  it('is deterministic: the same parent, changes, identity and time give the same oid', async () => {
    const repo = await GitRepo.init(await freshDir('det'));
    const author = ada();
    const write = (): Promise<string> =>
      repo.writeCommit({
        parent: null,
        changes: [{ path: 'a/b.txt', content: 'x' }],
        message: 'm',
        author,
      });
    expect(await write()).toBe(await write());
  });

  it('uses the identity in the repository config, else pinml', async () => {
    const dir = await freshDir('ident');
    const repo = await GitRepo.init(dir);
    const plain = await repo.writeCommit({ parent: null, changes: [], message: 'empty' });
    expect((await repo.readCommit(plain)).author).toMatchObject({
      name: 'pinml',
      email: 'pinml@users.noreply.github.com',
    });
    await git(dir, 'config', 'user.name', 'Grace');
    await git(dir, 'config', 'user.email', 'grace@example.com');
    const configured = await repo.writeCommit({ parent: plain, changes: [], message: 'again' });
    const commit = await repo.readCommit(configured);
    expect(commit.author).toMatchObject({ name: 'Grace', email: 'grace@example.com' });
    expect(commit.committer).toMatchObject({ name: 'Grace', email: 'grace@example.com' });
    expect(commit.parents).toEqual([plain]);
    await repo.updateBranch('main', configured);
    await git(dir, 'fsck', '--full', '--strict', '--no-dangling');
    expect(await git(dir, 'rev-parse', 'main^{tree}')).toBe(
      '4b825dc642cb6eb9a060e54bf8d69288fbee4904',
    );
    expect(await git(dir, 'cat-file', '-t', '4b825dc642cb6eb9a060e54bf8d69288fbee4904')).toBe(
      'tree',
    );
    expect(await git(dir, 'count-objects')).not.toMatch(/^0 objects/);
  });

  it('refuses a file where a folder is, and invalid or repeated paths', async () => {
    const repo = await GitRepo.init(await freshDir('bad'));
    const base = await repo.writeCommit({
      parent: null,
      changes: [{ path: 'a/b.txt', content: '1' }],
      message: 'base',
      author: ada(),
    });
    const write = (changes: { path: string; content: string | null }[]): Promise<string> =>
      repo.writeCommit({ parent: base, changes, message: 'x', author: ada() });
    await expectGitError(write([{ path: 'a', content: 'file' }]), 'conflict');
    await expectGitError(write([{ path: 'a/b.txt/c', content: 'file' }]), 'conflict');
    await expectGitError(write([{ path: '../escape', content: 'x' }]), 'other');
    await expectGitError(write([{ path: '.git/config', content: 'x' }]), 'other');
    await expectGitError(
      write([
        { path: 'x', content: '1' },
        { path: 'x', content: '2' },
      ]),
      'other',
    );
    // Replacing a file by a folder works when the file is deleted in the same commit.
    const replaced = await write([
      { path: 'a/b.txt', content: null },
      { path: 'a/b.txt/inner', content: 'now a folder' },
    ]);
    expect(await repo.readText(replaced, 'a/b.txt/inner')).toBe('now a folder');
  });
});

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

describe('GitRepo.updateBranch', () => {
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

describe('GitRepo over HTTP (git http-backend on loopback)', () => {
  const token = 'ghs_s3cretTokenValue_0123456789';
  let root: string;
  let server: GitServer;
  let url: string;
  /** Every GitError seen in this block, to check that none leaks the token. */
  const seen: GitError[] = [];

  async function expectRemoteError(
    promise: Promise<unknown>,
    reason: GitError['reason'],
  ): Promise<GitError> {
    const err = await expectGitError(promise, reason);
    seen.push(err);
    return err;
  }

  beforeAll(async () => {
    root = await freshDir('server');
    await createBareRepo(root, 'registry', { defaultBranch: 'main' });
    server = await startGitServer({ root, token, readOnlyToken: 'ghs_readonly' });
    url = server.url('registry');
    const seed = await cliRepo({ 'registry/iris/pins.json': '{"production":1}\n' });
    const authed = new URL(url);
    authed.username = 'x-access-token';
    authed.password = token;
    await git(seed, 'push', '--quiet', authed.toString(), 'main');
  });

  afterAll(async () => {
    await server.close();
  });

  it('clones, pushes a commit and fetches it into another clone', async () => {
    const a = await GitRepo.clone({ dir: await freshDir('a'), url, branch: 'main', token });
    expect(await a.readText('main', 'registry/iris/pins.json')).toBe('{"production":1}\n');
    expect(await a.currentBranch()).toBe('main');
    const b = await GitRepo.clone({
      dir: await freshDir('b'),
      url,
      branch: 'main',
      token,
      depth: 1,
    });

    const next = await a.writeCommit({
      parent: 'main',
      changes: [{ path: 'registry/iris/pins.json', content: '{"production":2}\n' }],
      message: 'Promote iris v2',
      author: ada(),
    });
    await a.push({ oid: next, branch: 'main' });
    expect(await git(join(root, 'registry.git'), 'rev-parse', 'main')).toBe(next);
    expect(await a.resolve('origin/main')).toBe(next);
    await git(join(root, 'registry.git'), 'fsck', '--full', '--strict');

    expect((await b.log('main')).map((c) => c.oid)).toEqual([await b.resolve('main')]);
    expect(await b.fetch({ branch: 'main' })).toBe(next);
    expect(await b.resolve('refs/remotes/origin/main')).toBe(next);
    expect(await b.readText('origin/main', 'registry/iris/pins.json')).toBe('{"production":2}\n');
    // Fetch moves only the remote-tracking branch.
    expect(await b.readText('main', 'registry/iris/pins.json')).toBe('{"production":1}\n');
    await b.updateBranch('main', next);
    expect(await git(b.dir, 'status', '--porcelain')).toBe('');
    expect(await readFile(join(b.dir, 'registry/iris/pins.json'), 'utf8')).toBe(
      '{"production":2}\n',
    );

    await expectRemoteError(a.fetch({ branch: 'no-such-branch' }), 'not-found');
  });

  it('clones into a bare repository, which reads, fetches and moves branches without a working tree', async () => {
    const dir = await freshDir('bare');
    const repo = await GitRepo.clone({
      dir,
      url,
      token,
      bare: true,
      singleBranch: true,
      branch: 'main',
    });
    expect(await git(dir, 'rev-parse', '--is-bare-repository')).toBe('true');
    const tip = await repo.fetch({ branch: 'main' });
    expect(await repo.readText(tip, 'registry/iris/pins.json')).toMatch(/production/);
    const next = await repo.writeCommit({ parent: tip, changes: [], message: 'e', author: ada() });
    await repo.updateBranch('main', next, { expected: await repo.resolve('main') });
    expect(await git(dir, 'rev-parse', 'main')).toBe(next);
    await git(dir, 'fsck', '--full', '--strict', '--no-dangling');
  });

  it('rejects a stale push as not-fast-forward, and accepts it redone on the new tip', async () => {
    const a = await GitRepo.clone({ dir: await freshDir('stale-a'), url, branch: 'main', token });
    const b = await GitRepo.clone({ dir: await freshDir('stale-b'), url, branch: 'main', token });
    const write = (repo: GitRepo, parent: string, name: string): Promise<string> =>
      repo.writeCommit({
        parent,
        changes: [{ path: `registry/${name}.txt`, content: name }],
        message: name,
        author: ada(),
      });
    await a.push({ oid: await write(a, 'main', 'from-a'), branch: 'main' });
    const stale = await write(b, 'main', 'from-b');
    const err = await expectRemoteError(b.push({ oid: stale, branch: 'main' }), 'not-fast-forward');
    expect(err.message).toMatch(/Fetch main, redo the change on its new tip, and push again/);

    const tip = await b.fetch({ branch: 'main' });
    const redone = await write(b, tip, 'from-b');
    await b.push({ oid: redone, branch: 'main' });
    expect(await git(join(root, 'registry.git'), 'rev-parse', 'main')).toBe(redone);
  });

  it('maps a push that loses a race after ref discovery to not-fast-forward', async () => {
    const winner = await GitRepo.clone({
      dir: await freshDir('race-w'),
      url,
      branch: 'main',
      token,
    });
    let raced = false;
    // An injected HTTP client lets the winner push between the loser's ref discovery and its
    // upload: the client-side fast-forward check passes, and the server refuses the update.
    const racing: HttpClient = {
      request: async (request) => {
        if (!raced && request.method === 'POST' && request.url.endsWith('/git-receive-pack')) {
          raced = true;
          const won = await winner.writeCommit({
            parent: 'main',
            changes: [{ path: 'race.txt', content: 'winner' }],
            message: 'winner',
            author: ada(),
          });
          await winner.push({ oid: won, branch: 'main' });
        }
        return nodeHttp.request(request);
      },
    };
    const loserDir = await freshDir('race-l');
    await GitRepo.clone({ dir: loserDir, url, branch: 'main', token });
    const loser = GitRepo.open(loserDir, { token, http: racing });
    const lost = await loser.writeCommit({
      parent: 'main',
      changes: [{ path: 'race.txt', content: 'loser' }],
      message: 'loser',
      author: ada(),
    });
    const err = await expectRemoteError(
      loser.push({ oid: lost, branch: 'main' }),
      'not-fast-forward',
    );
    expect(raced).toBe(true);
    expect(err.data.refused).toMatch(/refs\/heads\/main/);
    expect(await git(join(root, 'registry.git'), 'rev-parse', 'main')).toBe(
      await winner.resolve('origin/main'),
    );
  });

  it('maps a push refused by a pre-receive hook (a protected branch) to permission', async () => {
    await createBareRepo(root, 'guarded');
    const seed = await cliRepo({ 'a.txt': 'a' });
    const guardedUrl = new URL(server.url('guarded'));
    guardedUrl.username = 'x-access-token';
    guardedUrl.password = token;
    await git(seed, 'push', '--quiet', guardedUrl.toString(), 'main');
    await protectBranch(root, 'guarded', 'main');

    const repo = await GitRepo.clone({
      dir: await freshDir('guarded'),
      url: server.url('guarded'),
      token,
    });
    const next = await repo.writeCommit({
      parent: 'main',
      changes: [{ path: 'a.txt', content: 'b' }],
      message: 'b',
      author: ada(),
    });
    const err = await expectRemoteError(repo.push({ oid: next, branch: 'main' }), 'permission');
    expect(err.message).toContain('pre-receive hook declined');
    expect(err.message).toContain('GH006: Protected branch update failed');
    expect(err.message.toLowerCase()).toContain(
      'the token needs contents: write on guarded, and main may be a protected branch: allow the pusher or open a pull request',
    );
    // Another branch is not protected.
    await repo.push({ oid: next, branch: 'pinml/promote-iris' });
  });

  it('maps a wrong or missing token to auth and a read-only token push to permission', async () => {
    const dir = await freshDir('wrong');
    const wrong = 'ghs_wrongTokenValue_987';
    const err = await expectRemoteError(GitRepo.clone({ dir, url, token: wrong }), 'auth');
    expect(err.message).not.toContain(wrong);
    expect(err.message).toContain('HTTP 401');
    await expectRemoteError(GitRepo.clone({ dir: await freshDir('anon'), url }), 'auth');

    const repo = await GitRepo.clone({ dir: await freshDir('ok'), url, token });
    const readOnly = GitRepo.open(repo.dir, { token: 'ghs_readonly' });
    const next = await readOnly.writeCommit({
      parent: 'main',
      changes: [],
      message: 'e',
      author: ada(),
    });
    const denied = await expectRemoteError(
      readOnly.push({ oid: next, branch: 'main' }),
      'permission',
    );
    expect(denied.message).toContain('HTTP 403');
    expect(denied.message).toContain('contents: write on registry');
    const badFetch = GitRepo.open(repo.dir, { token: 'ghs_notValid' });
    await expectRemoteError(badFetch.fetch({ branch: 'main' }), 'auth');
    await expectRemoteError(
      repo.push({ oid: next, branch: 'main', remote: 'nowhere' }),
      'not-found',
    );
  });

  it('strips credentials given in a URL from messages', async () => {
    const leaky = new URL(server.url('missing-repo'));
    leaky.username = 'x-access-token';
    leaky.password = token;
    const err = await expectRemoteError(
      GitRepo.clone({ dir: await freshDir('leaky'), url: leaky.toString() }),
      'not-found',
    );
    expect(err.message).toContain(server.url('missing-repo'));
  });

  it('maps a refused connection to network', async () => {
    const closed = await startGitServer({ root });
    const deadUrl = closed.url('registry');
    await closed.close();
    const err = await expectRemoteError(
      GitRepo.clone({ dir: await freshDir('dead'), url: deadUrl, token }),
      'network',
    );
    expect(err.message).toContain('ECONNREFUSED');
  });
  it('never puts the token in an error message, its data, its stack or the git config', async () => {
    expect(seen.length).toBeGreaterThanOrEqual(10);
    for (const err of seen) {
      expect(err.message).not.toContain(token);
      expect(JSON.stringify(err)).not.toContain(token);
      expect(String(err.stack)).not.toContain(token);
      expect(err.cause).toBeUndefined();
    }
    const repo = await GitRepo.clone({ dir: await freshDir('config'), url, token });
    expect(await readFile(join(repo.gitdir, 'config'), 'utf8')).not.toContain(token);
    // Credentials given in the URL authenticate, but are not saved with the remote.
    const inUrl = new URL(url);
    inUrl.username = 'x-access-token';
    inUrl.password = token;
    const fromUrl = await GitRepo.clone({
      dir: await freshDir('url-creds'),
      url: inUrl.toString(),
    });
    expect(await git(fromUrl.dir, 'config', 'remote.origin.url')).toBe(url);
    expect(await fromUrl.fetch({ branch: 'main' })).toBe(await repo.resolve('main'));
  });
});
