import * as nodeFs from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { atomicGitFs } from './atomic-fs.ts';

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
});
