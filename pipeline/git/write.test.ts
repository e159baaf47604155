import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GitRepo } from './repo.ts';
import { expectGitError, repoFixture } from './testing/repo-fixture.ts';

const fixture = repoFixture('pinml-git-write-');
const { git, ada, freshDir } = fixture;

beforeAll(fixture.setup);
afterAll(fixture.teardown);

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

  it('uses the identity in the repository config, else GitHub Actions bot', async () => {
    const dir = await freshDir('ident');
    // No environment: no HOME, so no global configuration, and no GIT_AUTHOR_*.
    const repo = await GitRepo.init(dir, { env: {} });
    const plain = await repo.writeCommit({ parent: null, changes: [], message: 'empty' });
    expect((await repo.readCommit(plain)).author).toMatchObject({
      name: 'github-actions[bot]',
      email: '41898282+github-actions[bot]@users.noreply.github.com',
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
