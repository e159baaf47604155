/**
 * A commit written through GitHub's REST git database (blobs, a tree on the parent's tree, the
 * commit, then the branch moved forward), instead of `git push`: GitHub writes the commit as the
 * token's identity and signs it, so a ruleset that requires signed commits accepts it. The ref
 * update is never forced: a branch that moved is a GitError `not-fast-forward`, which the
 * registration's fetch-replan-retry loop handles as it handles a rejected push.
 */
import { GitError } from '../errors.ts';
import type { GitHubClient } from './client.ts';
import { refused } from './refused.ts';

const PERMISSION = '`contents: write`';

export interface ApiCommitInput {
  owner: string;
  repo: string;
  branch: string;
  /** The commit it goes on top of: the branch's tip it was planned on. */
  parent: string;
  /** The parent's tree (read locally: the caller has fetched the tip). */
  parentTree: string;
  files: readonly { path: string; content: string | Uint8Array }[];
  message: string;
}

/** Writes the commit through the API and moves `branch` to it; returns its id. */
export async function commitThroughApi(
  client: GitHubClient,
  input: ApiCommitInput,
): Promise<string> {
  const { owner, repo } = input;
  const tree = [];
  for (const f of input.files) {
    const blob = await client.rest.git
      .createBlob({
        owner,
        repo,
        content: Buffer.from(f.content).toString('base64'),
        encoding: 'base64',
      })
      .catch((e: unknown) => refused(e, `upload ${f.path}`, PERMISSION));
    tree.push({ path: f.path, mode: '100644' as const, type: 'blob' as const, sha: blob.data.sha });
  }
  const made = await client.rest.git
    .createTree({ owner, repo, base_tree: input.parentTree, tree })
    .catch((e: unknown) => refused(e, 'write the tree', PERMISSION));
  const commit = await client.rest.git
    .createCommit({
      owner,
      repo,
      message: input.message,
      tree: made.data.sha,
      parents: [input.parent],
    })
    .catch((e: unknown) => refused(e, 'write the commit', PERMISSION));
  await client.rest.git
    .updateRef({ owner, repo, ref: `heads/${input.branch}`, sha: commit.data.sha, force: false })
    .catch((e: unknown) => {
      const status = (e as { status?: number }).status;
      const message = String((e as { message?: unknown }).message ?? e);
      if (status === 422 && /not a fast forward/i.test(message))
        throw new GitError(
          'not-fast-forward',
          `${input.branch} moved on GitHub since ${input.parent.slice(0, 12)}`,
          {
            branch: input.branch,
          },
        );
      if (status === 422 || status === 409)
        throw new GitError(
          'permission',
          `GitHub refused to move ${input.branch} to the registration commit (HTTP ${status}): ${message.split('\n').filter(Boolean).join(' ')}`,
          { branch: input.branch },
        );
      return refused(e, `move ${input.branch}`, PERMISSION);
    });
  return commit.data.sha;
}
