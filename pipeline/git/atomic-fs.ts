/**
 * The file system isomorphic-git writes a repository through: node:fs, except that a file
 * written under the git directory (a loose object, the index, a ref, packed-refs, a config) is
 * written to a temporary file beside it and renamed into place, as git does with its `.lock`
 * files, so a kill or a full disk mid-write leaves the old file or the new one — never an empty
 * or truncated object that every later push trips over, nor a truncated index. An exclusive
 * create (`flag: 'wx'`, how a lock file is taken) is passed through as it is. Working-tree
 * files are written as before (in place, keeping their mode).
 */
import * as nodeFs from 'node:fs';
import type { GitFs } from './types.ts';

type WriteFile = typeof nodeFs.promises.writeFile;

let written = 0;

/** node:fs with atomic writes of every file under `gitdir`. */
export function atomicGitFs(gitdir: string, base: typeof nodeFs.promises = nodeFs.promises): GitFs {
  const inside = `${gitdir.replace(/\/+$/, '')}/`;
  const writeFile = async (
    file: Parameters<WriteFile>[0],
    data: Parameters<WriteFile>[1],
    options?: Parameters<WriteFile>[2],
  ): Promise<void> => {
    const flag = typeof options === 'object' && options !== null ? options.flag : undefined;
    if (
      typeof file !== 'string' ||
      !file.startsWith(inside) ||
      (flag !== undefined && flag !== 'w')
    ) {
      return base.writeFile(file, data, options);
    }
    written += 1;
    const temporary = `${file}.pinml-${process.pid}-${written}.tmp`;
    try {
      await base.writeFile(temporary, data, options);
      await base.rename(temporary, file);
    } catch (err) {
      await base.unlink(temporary).catch(() => undefined);
      throw err;
    }
  };
  return { promises: { ...base, writeFile } };
}
