/**
 * A request GitHub refused, as a {@link GitHubError} that says what to fix: the permission the
 * token lacks (403), a missing or invalid token (401), a repository it cannot see (404).
 */
import { GitHubError } from '../errors.ts';

/**
 * Throws the refusal of `what` (`open a pull request from …`); `permission` says what a 403
 * means for this call (`pull-requests: write`, and the repository setting …).
 */
export function refused(e: unknown, what: string, permission: string): never {
  const status = (e as { status?: number }).status;
  const hint =
    status === 403
      ? `: the token lacks permission (the workflow needs ${permission})`
      : status === 401
        ? ': the token is missing or invalid'
        : status === 404
          ? ': the repository was not found, or the token cannot see it'
          : '';
  throw new GitHubError(`GitHub refused to ${what} (HTTP ${status ?? '?'})${hint}`, { status });
}
