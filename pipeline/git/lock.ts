/**
 * git's lock files (`<file>.lock`), taken so that one left by a killed pinml process is
 * recognised and removed by the next one instead of blocking every later update.
 *
 * The lock's content (the new value) is first written to an owner file beside it,
 * `.<name>.pinml-<host>-<pid>-<n>.owner` (a dot file, which git ignores), and the lock is then
 * created as a hard link to it: atomically, and failing when it exists, as git's `O_EXCL`
 * create does. A lock whose inode is an owner file of a process of this host that is no longer
 * running is stale. A lock with no owner file (git's own, or one taken on a file system
 * without hard links) is never removed: the message says what to do.
 */
import { GitError } from '../errors.ts';
import { deadOwner, PROCESS_TAG } from './atomic-fs.ts';
import { errorCode } from './error-shape.ts';

/** The calls a lock needs (node:fs/promises has them all; `link` may be missing elsewhere). */
export interface LockFs {
  writeFile(path: string, data: string, options?: { flag?: string }): Promise<void>;
  unlink(path: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  readdir(path: string): Promise<string[]>;
  stat(path: string): Promise<{ ino: number }>;
  link?(existing: string, path: string): Promise<void>;
}

/** A lock held: publish renames it over the file; release drops it. Both are idempotent. */
export interface HeldLock {
  /** Renames the lock (which holds the new content) over `file`. */
  publish(): Promise<void>;
  /** Removes the lock if it is still held (after a failure). */
  release(): Promise<void>;
  /** A stale lock that was removed before this one was taken, if any. */
  recovered: string | undefined;
}

let taken = 0;

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function split(file: string): { dir: string; base: string } {
  const slash = file.lastIndexOf('/');
  return { dir: file.slice(0, slash), base: file.slice(slash + 1) };
}

/** The owner files of `file`'s lock in its folder: name, host and pid. */
async function ownerFiles(
  fsp: LockFs,
  file: string,
): Promise<{ path: string; host: string; pid: string }[]> {
  const { dir, base } = split(file);
  const pattern = new RegExp(`^\\.${escape(base)}\\.pinml-([0-9a-f]{8})-(\\d+)-\\d+\\.owner$`);
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch {
    return [];
  }
  return names.flatMap((name) => {
    const m = pattern.exec(name);
    return m?.[1] && m[2] ? [{ path: `${dir}/${name}`, host: m[1], pid: m[2] }] : [];
  });
}

/**
 * Removes `file`'s lock when a dead pinml process of this host holds it, and the owner files
 * such processes left without a lock; returns the stale lock's path when one was removed.
 */
async function removeStale(fsp: LockFs, file: string): Promise<string | undefined> {
  const lock = `${file}.lock`;
  const lockIno = await fsp.stat(lock).then(
    (s) => s.ino,
    () => undefined,
  );
  let removed: string | undefined;
  for (const owner of await ownerFiles(fsp, file)) {
    if (!deadOwner(owner.host, owner.pid)) continue;
    const ino = await fsp.stat(owner.path).then(
      (s) => s.ino,
      () => undefined,
    );
    if (lockIno !== undefined && ino === lockIno) {
      await fsp.unlink(lock).catch(() => undefined);
      removed = lock;
    }
    await fsp.unlink(owner.path).catch(() => undefined);
  }
  return removed;
}

/**
 * Takes `<file>.lock` holding `content`. A lock held by a live process (or by git) is a
 * GitError `conflict` whose message is `busy`'s.
 */
export async function takeLock(
  fsp: LockFs,
  file: string,
  content: string,
  busy: (lock: string) => string,
  data: Record<string, unknown> = {},
): Promise<HeldLock> {
  const lock = `${file}.lock`;
  const { dir, base } = split(file);
  taken += 1;
  const owner = `${dir}/.${base}.pinml-${PROCESS_TAG}-${taken}.owner`;
  const recovered = await removeStale(fsp, file);
  let linked = false;
  if (fsp.link) {
    await fsp.writeFile(owner, content);
    try {
      await fsp.link(owner, lock);
      linked = true;
    } catch (err) {
      const code = errorCode(err);
      await fsp.unlink(owner).catch(() => undefined);
      if (code === 'EEXIST') throw new GitError('conflict', busy(lock), { ...data, lock });
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS')
        throw err;
    }
  }
  if (!linked) {
    try {
      await fsp.writeFile(lock, content, { flag: 'wx' });
    } catch (err) {
      if (errorCode(err) === 'EEXIST')
        throw new GitError('conflict', busy(lock), { ...data, lock });
      throw err;
    }
  }
  let held = true;
  const dropOwner = (): Promise<void> =>
    linked ? fsp.unlink(owner).catch(() => undefined) : Promise.resolve();
  return {
    recovered,
    async publish() {
      if (!held) return;
      await fsp.rename(lock, file);
      held = false;
      await dropOwner();
    },
    async release() {
      if (!held) return;
      held = false;
      await fsp.unlink(lock).catch(() => undefined);
      await dropOwner();
    },
  };
}
