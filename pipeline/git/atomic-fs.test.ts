import * as nodeFs from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import git from 'isomorphic-git';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { atomicGitFs, damagedObjects, PROCESS_TAG, sweepTemporaries } from './atomic-fs.ts';
import { GitRepo } from './repo.ts';
import { gitCli, gitEnv } from './testing/git-cli.ts';

let root: string;
let gitdir: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'pinml-atomic-fs-'));
  gitdir = path.join(root, '.git');
  await nodeFs.promises.mkdir(path.join(gitdir, 'objects', 'ab'), { recursive: true });
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** node:fs whose writes stop after half the bytes with ENOSPC, as a full disk does. */
const fullDisk: typeof nodeFs.promises = {
  ...nodeFs.promises,
  async writeFile(file, data) {
    const bytes = typeof data === 'string' ? Buffer.from(data) : (data as Uint8Array);
    await nodeFs.promises.writeFile(file, bytes.subarray(0, bytes.length >> 1));
    throw Object.assign(new Error(`ENOSPC: no space left on device, write'`), {
      code: 'ENOSPC',
    });
  },
};

type Write = (file: string, data: string, options?: { flag?: string }) => Promise<void>;
const writer = (base?: typeof nodeFs.promises): Write =>
  (atomicGitFs(gitdir, base).promises as unknown as { writeFile: Write }).writeFile;

describe('atomicGitFs', () => {
  it('replaces a file under the git directory by a rename, leaving no temporary file', async () => {
    const index = path.join(gitdir, 'index');
    await writeFile(index, 'old index');
    const before = (await stat(index)).ino;
    await writer()(index, 'new index');
    expect(await readFile(index, 'utf8')).toBe('new index');
    expect((await stat(index)).ino).not.toBe(before);
    expect((await readdir(gitdir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('keeps the old file (or none) when a write fails half-way, and removes its temporary file', async () => {
    const index = path.join(gitdir, 'index');
    await writeFile(index, 'the index before');
    await expect(writer(fullDisk)(index, 'an index that does not fit')).rejects.toThrow(/ENOSPC/);
    expect(await readFile(index, 'utf8')).toBe('the index before');
    const object = path.join(gitdir, 'objects', 'ab', 'cdef');
    await expect(writer(fullDisk)(object, 'x'.repeat(100))).rejects.toThrow(/ENOSPC/);
    expect(nodeFs.existsSync(object)).toBe(false);
    expect(await readdir(path.join(gitdir, 'objects', 'ab'))).toEqual([]);
    expect((await readdir(gitdir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('passes an exclusive create (a lock) and working-tree files through as they are', async () => {
    const lock = path.join(gitdir, 'main.lock');
    await writer()(lock, 'abc\n', { flag: 'wx' });
    await expect(writer()(lock, 'def\n', { flag: 'wx' })).rejects.toMatchObject({ code: 'EEXIST' });
    const tracked = path.join(root, 'data.csv');
    await writeFile(tracked, 'a,b\n');
    const before = (await stat(tracked)).ino;
    await writer()(tracked, 'a,b\n1,2\n');
    expect((await stat(tracked)).ino).toBe(before);
    expect(await readFile(tracked, 'utf8')).toBe('a,b\n1,2\n');
  });

  it('names its temporary files so git ignores them, and sweeps those a dead writer left', async () => {
    const dir = await mkdtemp(path.join(root, 'sweep-'));
    const { git } = gitCli(() => gitEnv(root));
    await git(dir, 'init', '--quiet', '--initial-branch=main');
    await writeFile(path.join(dir, 'a.txt'), 'a');
    await git(dir, 'add', 'a.txt');
    await git(dir, 'commit', '--quiet', '-m', 'a');
    const gd = path.join(dir, '.git');
    const host = PROCESS_TAG.slice(0, 8);
    const dead = spawnSync(process.execPath, ['-e', '0']).pid ?? 0;
    const fan = (await readdir(path.join(gd, 'objects'))).find((d) => /^[0-9a-f]{2}$/.test(d));
    const left = [
      `objects/${fan}/tmp_obj_pinml-${host}-${dead}-1`,
      `.index.pinml-${host}-${dead}-2.tmp`,
      `refs/heads/.main.pinml-${host}-${dead}-3.tmp`,
    ];
    const live = `.index.pinml-${host}-${process.pid}-4.tmp`;
    for (const f of [...left, live]) await writeFile(path.join(gd, f), 'half of something');
    // git sees none of them: no broken ref, no bad object.
    expect(await gitCli(() => gitEnv(root)).gitStatus(dir, 'fsck', '--full', '--strict')).toEqual({
      ok: true,
      stderr: '',
    });
    expect(await git(dir, 'for-each-ref', '--format=%(refname)')).toBe('refs/heads/main');
    const removed = await sweepTemporaries(gd);
    expect(removed.map((f) => path.relative(gd, f)).sort()).toEqual([...left].sort());
    expect(nodeFs.existsSync(path.join(gd, live))).toBe(true);
  });

  it('moves a damaged loose object aside when it is written again, so it is rewritten whole', async () => {
    const dir = await mkdtemp(path.join(root, 'damaged-'));
    const repo = await GitRepo.init(dir);
    const blob = new TextEncoder().encode('the model\n'.repeat(50));
    const first = await repo.writeCommit({
      parent: null,
      changes: [{ path: 'model.json', content: blob }],
      message: 'm',
    });
    const { oid } = await git.hashBlob({ object: blob });
    const file = path.join(dir, '.git', 'objects', oid.slice(0, 2), oid.slice(2));
    const whole = await readFile(file);
    // What a writer killed mid-write (before pinml wrote atomically) left behind.
    await writeFile(file, whole.subarray(0, whole.length >> 1));
    const read = await repo.readFile(first, 'model.json').then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(read?.message).toMatch(/a git object is damaged/);
    expect(read?.message).toContain(file);
    expect(read?.message).toMatch(/Move it aside \(or delete it\) and run again/);
    expect(await damagedObjects(path.join(dir, '.git'))).toEqual([file]);
    // Writing the same content again replaces the damaged file instead of skipping it.
    await repo.writeCommit({
      parent: first,
      changes: [{ path: 'copy.json', content: blob }],
      message: 'again',
    });
    expect(await readFile(file)).toEqual(whole);
    expect(await damagedObjects(path.join(dir, '.git'))).toEqual([]);
    expect(new TextDecoder().decode(await repo.readFile(first, 'model.json'))).toBe(
      'the model\n'.repeat(50),
    );
  });

  it('says which path a full disk or a permission failed on, and what to do', async () => {
    const dir = await mkdtemp(path.join(root, 'errors-'));
    await GitRepo.init(dir);
    const gd = path.join(dir, '.git');
    const denied: typeof nodeFs.promises = {
      ...nodeFs.promises,
      async writeFile(file, data, options) {
        const name = typeof file === 'string' ? file : '';
        if (name.includes('/objects/')) {
          throw Object.assign(new Error(`EACCES: permission denied, open '${name}'`), {
            code: 'EACCES',
            path: name,
          });
        }
        return nodeFs.promises.writeFile(file, data, options);
      },
    };
    const write = (base: typeof nodeFs.promises): Promise<unknown> =>
      GitRepo.open(dir, { fs: atomicGitFs(gd, base) }).writeCommit({
        parent: null,
        changes: [{ path: 'registry/iris/versions/1/card.json', content: '{}' }],
        message: 'm',
      });
    await expect(write(fullDisk)).rejects.toThrow(
      new RegExp(
        `^Could not write registry/iris/versions/1/card\\.json: no space left on the disk that holds ${gd}/objects/[0-9a-f]{2}\\. Free some space and run again: nothing was published, and the repository is as it was \\(ENOSPC\\)\\.$`,
      ),
    );
    await expect(write(denied)).rejects.toThrow(
      new RegExp(
        `^Could not write registry/iris/versions/1/card\\.json: permission denied at ${gd}/objects/[0-9a-f]{2}\\. Check that you own ${gd} and can write to it .*sudo chown -R .*\\(EACCES\\)\\.$`,
      ),
    );
  });
});
