/**
 * Where pinml is published, for tests of a repository that uses it: a public repository
 * `pinml-org/pinml` (no token) behind `git http-backend`, with the release tag `tag`, which
 * `pinml init --actions pinml-org/pinml@<tag>` looks up (`GITHUB_SERVER_URL` = `base`). The
 * actions themselves come from this checkout (the harness's `remoteActions`).
 *
 * Test helper only.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  createBareRepo,
  startGitServer,
  type GitServer,
} from '../../pipeline/git/testing/git-server.ts';

const run = promisify(execFile);

export interface Published {
  server: GitServer;
  root: string;
  /** The server URL (`GITHUB_SERVER_URL`): `<base>/pinml-org/pinml.git` is the repository. */
  base: string;
  /** The commit the tag names. */
  commit: string;
  close(): Promise<void>;
}

export async function publishPinml(tag = 'v1.2.0'): Promise<Published> {
  const root = await mkdtemp(path.join(tmpdir(), 'pinml-published-'));
  const bare = await createBareRepo(root, 'pinml-org/pinml');
  const work = path.join(root, 'work');
  const env = {
    ...process.env,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_AUTHOR_NAME: 'Release',
    GIT_AUTHOR_EMAIL: 'release@example.com',
    GIT_COMMITTER_NAME: 'Release',
    GIT_COMMITTER_EMAIL: 'release@example.com',
  };
  const git = async (...args: string[]) =>
    (await run('git', args, { cwd: root, env })).stdout.trim();
  await git('init', '--quiet', '--initial-branch=main', work);
  await git('-C', work, 'commit', '--quiet', '--allow-empty', '-m', `pinml ${tag}`);
  await git('-C', work, 'tag', '-a', tag, '-m', `pinml ${tag}`);
  await git('-C', work, 'push', '--quiet', bare, 'main', tag);
  const commit = await git('-C', work, 'rev-parse', 'HEAD');
  const server = await startGitServer({ root });
  const base = server.url('pinml-org/pinml').replace(/\/pinml-org\/pinml\.git$/, '');
  return {
    server,
    root,
    base,
    commit,
    async close() {
      await server.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}
