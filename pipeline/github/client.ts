/**
 * The GitHub client: `@actions/github`'s Octokit with retries on transient failures and
 * waits on rate limits. The token is only ever handed to Octokit, never logged.
 */
import { getOctokit } from '@actions/github';
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import { proxyAwareFetch } from '../proxy.ts';

export type GitHubClient = ReturnType<typeof getOctokit>;

export interface GitHubClientOptions {
  token: string;
  /** REST base URL; defaults to GITHUB_API_URL's value as passed by the caller, else api.github.com. */
  baseUrl?: string;
  /** Retries of a request that failed transiently (5xx, network). */
  retries?: number;
  /** Called when GitHub's rate limit makes the client wait (for a log line). */
  onWait?: (message: string) => void;
}

/** Builds the client; the rate-limit handlers retry twice on the primary limit and once on the secondary. */
export function createGitHubClient(options: GitHubClientOptions): GitHubClient {
  return getOctokit(
    options.token,
    {
      ...(options.baseUrl ? { baseUrl: options.baseUrl } : {}),
      // Octokit merges its defaults shallowly: without `fetch` here, @actions/github's
      // proxy-aware fetch would be dropped along with the rest of its `request` defaults.
      request: { retries: options.retries ?? 3, fetch: proxyAwareFetch },
      throttle: {
        onRateLimit: (
          after: number,
          request: { method: string; url: string },
          _octokit: unknown,
          count: number,
        ) => {
          options.onWait?.(
            `rate limit on ${request.method} ${request.url}: retrying in ${after} s`,
          );
          return count < 2;
        },
        onSecondaryRateLimit: (
          after: number,
          request: { method: string; url: string },
          _octokit: unknown,
          count: number,
        ) => {
          options.onWait?.(
            `secondary rate limit on ${request.method} ${request.url}: retrying in ${after} s`,
          );
          return count < 1;
        },
      },
    },
    retry,
    throttling,
  );
}
