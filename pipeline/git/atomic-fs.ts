/**
 * The file system isomorphic-git writes a repository through: node:fs, except that
 *
 * - a file written under the git directory (a loose object, the index, a ref, packed-refs, a
 *   config) is written to a temporary file beside it and renamed into place, as git does with
 *   its `.lock` files, so a kill or a full disk mid-write leaves the old file or the new one —
 *   never an empty or truncated object that every later push trips over, nor a truncated
 *   index. The temporary files are named so git ignores them (`objects/xx/tmp_obj_…`, as git
 *   names its own, and dot files elsewhere) and carry the writer's host and process id, so
 *   {@link sweepTemporaries} can remove a dead writer's;
 * - a loose object that already exists is checked before isomorphic-git skips writing it (it
 *   never rewrites an existing object file): one that does not inflate to its own id (a crash
 *   of an older writer, a copy cut short) is moved aside so the object is written again.
 *
 * An exclusive create (`flag: 'wx'`, how a lock file is taken) is passed through as it is.
 * Working-tree files are written as before (in place, keeping their mode).
 */
import { createHash } from 'node:crypto';
import * as nodeFs from 'node:fs';
import { hostname } from 'node:os';
import { inflateSync } from 'node:zlib';
import type { GitFs } from './types.ts';

type Promises = typeof nodeFs.promises;
type WriteFile = Promises['writeFile'];
type Stat = Promises['stat'];

/** This process as temporary and owner file names carry it: a hash of the host, and the pid. */
export const PROCESS_TAG = `${createHash('sha1').update(hostname()).digest('hex').slice(0, 8)}-${process.pid}`;

/** The temporary file a loose object or another git file is written to before its rename. */
const TEMPORARY = /^(?:tmp_obj_pinml-|\..*\.pinml-)([0-9a-f]{8})-(\d+)-\d+(?:\.tmp)?$/;

/** A temporary or owner file pinml names itself: written as it is, it is renamed later. */
const OWN_FILE = /^(?:tmp_obj_pinml-|\..*\.pinml-[0-9a-f]{8}-\d+-\d+\.(?:tmp|owner)$)/;

let written = 0;

function temporaryFor(file: string): string {
  written += 1;
  const slash = file.lastIndexOf('/');
  const dir = file.slice(0, slash);
  const base = file.slice(slash + 1);
  return /\/objects\/[0-9a-f]{2}$/.test(dir)
    ? `${dir}/tmp_obj_pinml-${PROCESS_TAG}-${written}`
    : `${dir}/.${base}.pinml-${PROCESS_TAG}-${written}.tmp`;
}

/**
 * A temporary file in the git directory for a working-tree file written and then renamed into
 * place: a kill leaves it where {@link sweepTemporaries} finds it, not in the working tree.
 */
export function worktreeTemporary(gitdir: string, file: string): string {
  written += 1;
  const base = file.slice(file.lastIndexOf('/') + 1);
  return `${gitdir}/.${base}.pinml-${PROCESS_TAG}-${written}.tmp`;
}

/** Whether the process `pid` on this host is running (a process of another user counts). */
export function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether a file name tagged `<host>-<pid>` belongs to a process of this host that has died. */
export function deadOwner(host: string, pid: string): boolean {
  return host === PROCESS_TAG.slice(0, 8) && !processAlive(Number(pid));
}

/** The object id a loose object's path names, or undefined for any other path. */
function looseObjectId(file: string, objects: string): string | undefined {
  if (!file.startsWith(objects)) return undefined;
  const rest = file.slice(objects.length);
  return /^[0-9a-f]{2}\/[0-9a-f]{38}$/.test(rest) ? rest.replace('/', '') : undefined;
}

/** Whether a loose object file's bytes inflate to an object whose id is `oid`. */
export function looseObjectIntact(bytes: Uint8Array, oid: string): boolean {
  try {
    const inflated = inflateSync(bytes);
    const algorithm = oid.length === 64 ? 'sha256' : 'sha1';
    return createHash(algorithm).update(inflated).digest('hex') === oid;
  } catch {
    return false;
  }
}

/** node:fs with atomic writes of every file under `gitdir`. */
export function atomicGitFs(gitdir: string, base: Promises = nodeFs.promises): GitFs {
  const inside = `${gitdir.replace(/\/+$/, '')}/`;
  const objects = `${inside}objects/`;
  const writeFile = async (
    file: Parameters<WriteFile>[0],
    data: Parameters<WriteFile>[1],
    options?: Parameters<WriteFile>[2],
  ): Promise<void> => {
    const flag = typeof options === 'object' && options !== null ? options.flag : undefined;
    if (
      typeof file !== 'string' ||
      !file.startsWith(inside) ||
      (flag !== undefined && flag !== 'w') ||
      OWN_FILE.test(file.slice(file.lastIndexOf('/') + 1))
    ) {
      return base.writeFile(file, data, options);
    }
    const temporary = temporaryFor(file);
    try {
      // A new loose object's fan-out folder (isomorphic-git would write, fail, create it and
      // write again).
      if (file.startsWith(objects)) {
        await base.mkdir(file.slice(0, file.lastIndexOf('/')), { recursive: true });
      }
      await base.writeFile(temporary, data, options);
      await base.rename(temporary, file);
    } catch (err) {
      await base.unlink(temporary).catch(() => undefined);
      // A write on a file handle (ENOSPC, EDQUOT) names no path: say which file it was.
      if (typeof err === 'object' && err !== null && !('path' in err)) {
        Object.assign(err, { path: temporary });
      }
      throw err;
    }
  };
  // isomorphic-git asks `stat` whether a loose object exists before writing it, and skips the
  // write when it does: a damaged one is moved aside here, so the answer is "no" and the
  // object is written again.
  const stat = (async (file: Parameters<Stat>[0], options?: Parameters<Stat>[1]) => {
    const stats = await base.stat(file, options);
    if (typeof file !== 'string') return stats;
    const oid = looseObjectId(file, objects);
    if (oid === undefined || !stats.isFile()) return stats;
    const bytes = await base.readFile(file);
    if (looseObjectIntact(bytes, oid)) return stats;
    const aside = `${file.slice(0, file.lastIndexOf('/'))}/tmp_obj_damaged-${oid.slice(2)}`;
    await base.rename(file, aside);
    throw Object.assign(new Error(`ENOENT: damaged loose object moved aside, stat '${file}'`), {
      code: 'ENOENT',
      path: file,
    });
  }) as Stat;
  return { promises: { ...base, writeFile, stat } };
}

/**
 * Removes the temporary files a writer on this host left when it was killed between writing
 * and renaming: under `objects/xx/`, in the git directory itself, and under `refs/`. Returns
 * the paths removed. A live writer's files are never touched.
 */
export async function sweepTemporaries(
  gitdir: string,
  base: Promises = nodeFs.promises,
): Promise<string[]> {
  const removed: string[] = [];
  const sweep = async (dir: string, recurse: boolean): Promise<void> => {
    let entries: nodeFs.Dirent[];
    try {
      entries = await base.readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const file = `${dir}/${entry.name}`;
      if (entry.isDirectory()) {
        if (recurse) await sweep(file, true);
        continue;
      }
      const match = TEMPORARY.exec(entry.name);
      if (match?.[1] === undefined || match[2] === undefined) continue;
      if (!deadOwner(match[1], match[2])) continue;
      await base.unlink(file).then(
        () => removed.push(file),
        () => undefined,
      );
    }
  };
  await sweep(gitdir, false);
  await sweep(`${gitdir}/refs`, true);
  let fanout: string[] = [];
  try {
    fanout = (await base.readdir(`${gitdir}/objects`)).filter((d) => /^[0-9a-f]{2}$/.test(d));
  } catch {
    // no objects yet
  }
  for (const dir of fanout) await sweep(`${gitdir}/objects/${dir}`, false);
  return removed;
}

/**
 * The loose objects under `gitdir/objects` that do not inflate to their own id (at most
 * `limit` files are read), as paths: what an error names when an object read fails.
 */
export async function damagedObjects(
  gitdir: string,
  { base = nodeFs.promises, limit = 50_000 }: { base?: Promises; limit?: number } = {},
): Promise<string[]> {
  const damaged: string[] = [];
  let fanout: string[] = [];
  try {
    fanout = (await base.readdir(`${gitdir}/objects`)).filter((d) => /^[0-9a-f]{2}$/.test(d));
  } catch {
    return damaged;
  }
  let read = 0;
  for (const dir of fanout) {
    const names = await base.readdir(`${gitdir}/objects/${dir}`).catch(() => [] as string[]);
    for (const name of names) {
      if (!/^[0-9a-f]{38}$/.test(name) || read++ >= limit) continue;
      const file = `${gitdir}/objects/${dir}/${name}`;
      const bytes = await base.readFile(file).catch(() => undefined);
      if (bytes !== undefined && !looseObjectIntact(bytes, dir + name)) damaged.push(file);
    }
  }
  return damaged;
}
