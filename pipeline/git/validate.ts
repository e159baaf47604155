/**
 * The argument checks of the facade (`repo.ts`): what git itself would refuse to store or
 * name is refused before any object is read or written.
 */
import { GitError } from '../errors.ts';

/** Whether a text is a full (40 hex digit) object id. */
export function isOid(text: string): boolean {
  return /^[0-9a-f]{40}$/.test(text);
}

/** Normalises a path argument: no leading or trailing slash, `''` for the root. */
export function cleanPath(path: string): string {
  return path.replace(/^\/+|\/+$/g, '');
}

/** Checks a repository-relative path; refuses what git would refuse to store. */
export function assertPath(path: string): void {
  for (const part of path.split('/')) {
    if (part === '' || part === '.' || part === '..' || part.toLowerCase() === '.git') {
      throw new GitError(
        'other',
        `"${path}" is not a valid repository path: use a relative path with "/" separators, no empty, "." or ".." segments and no ".git" folder.`,
        { path },
      );
    }
    if (part.includes('\0')) {
      throw new GitError('other', `"${path}" contains a NUL character.`, { path });
    }
  }
}

/** Checks a branch name against the rules of `git check-ref-format --branch`. */
export function assertBranchName(branch: string): void {
  const bad =
    branch === '' ||
    branch === 'HEAD' ||
    branch.startsWith('-') ||
    branch.startsWith('refs/') ||
    branch.startsWith('/') ||
    branch.endsWith('/') ||
    branch.endsWith('.') ||
    branch.endsWith('.lock') ||
    branch.includes('..') ||
    branch.includes('//') ||
    branch.includes('@{') ||
    branch.split('/').some((part) => part.startsWith('.')) ||
    /[\s~^:?*[\\]/.test(branch) ||
    [...branch].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f);
  if (bad) {
    throw new GitError(
      'other',
      `"${branch}" is not a valid branch name: give a short name such as "main" or "pinml/promote-iris" (no "refs/heads/" prefix, spaces, "..", "~", "^", ":" or "\\").`,
      { branch },
    );
  }
}
