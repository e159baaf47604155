/**
 * The git database operations of the fake GitHub (blobs, trees, commits, refs), written into the
 * bare repository with the git CLI as GitHub writes them: a tree from a base tree and entries
 * with nested paths, a commit made by the token's identity, a ref moved only forward unless
 * forced. A commit created here without a custom author, committer or signature is one GitHub
 * signs: its id is appended to {@link VERIFIED_FILE} in the bare repository, which the git
 * server's "require signed commits" rule (`protectBranch`) and this fake's ref updates read.
 *
 * Test helper only.
 */
import { execFile } from 'node:child_process';
import { appendFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Commenter, Reply } from './fake-issues.ts';

const run = promisify(execFile);

/** The file (in the bare repository) listing the commits GitHub signed, one id per line. */
export const VERIFIED_FILE = 'pinml-verified-commits';
/** The file listing the branches whose ruleset requires signed commits, one per line. */
export const SIGNED_BRANCHES_FILE = 'pinml-signed-branches';

export interface GitDatabaseState {
  bare: string;
  apiUrl: string;
  owner: string;
  repo: string;
}

const NOT_FOUND: Reply = [404, { message: 'Not Found' }];
const invalid = (message: string): Reply => [422, { message }];

async function git(
  bare: string,
  args: string[],
  options: { input?: string | Buffer; env?: Record<string, string> } = {},
): Promise<string> {
  const child = run('git', args, {
    cwd: bare,
    env: { ...process.env, ...options.env },
    maxBuffer: 256 * 1024 * 1024,
    encoding: 'buffer',
  });
  if (options.input !== undefined) child.child.stdin?.end(options.input);
  const { stdout } = await child;
  return stdout.toString('utf8').trim();
}

async function lines(file: string): Promise<Set<string>> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return new Set(text.split('\n').filter(Boolean));
}

/** Whether every commit `to` adds over `from` is one GitHub signed. */
export async function allVerified(
  bare: string,
  from: string | null,
  to: string,
): Promise<string[]> {
  const verified = await lines(path.join(bare, VERIFIED_FILE));
  const range = from === null ? [to] : [`${from}..${to}`];
  const added = (await git(bare, ['rev-list', ...range])).split('\n').filter(Boolean);
  return added.filter((c) => !verified.has(c));
}

/** Handles a `git/*` operation; undefined for any other. */
export async function handleGitDatabase(
  s: GitDatabaseState,
  operationId: string,
  params: Record<string, string>,
  body: Record<string, unknown>,
  caller: Commenter,
): Promise<Reply | undefined> {
  const base = `${s.apiUrl}/repos/${s.owner}/${s.repo}/git`;
  const exists = async (oid: string, type: string): Promise<boolean> =>
    /^[0-9a-f]{40}$/.test(oid) &&
    (await git(s.bare, ['cat-file', '-t', oid]).catch(() => '')) === type;
  switch (operationId) {
    case 'git/create-blob': {
      const encoding = body.encoding === 'base64' ? 'base64' : 'utf-8';
      const content = Buffer.from(String(body.content), encoding === 'base64' ? 'base64' : 'utf8');
      const sha = await git(s.bare, ['hash-object', '-w', '--stdin'], { input: content });
      return [201, { sha, url: `${base}/blobs/${sha}` }];
    }
    case 'git/create-tree': {
      const entries = (body.tree ?? []) as {
        path: string;
        mode: string;
        type: string;
        sha?: string | null;
        content?: string;
      }[];
      const baseTree = typeof body.base_tree === 'string' ? body.base_tree : undefined;
      if (baseTree !== undefined && !(await exists(baseTree, 'tree')))
        return invalid('base_tree is not a valid tree oid');
      const dir = await mkdtemp(path.join(tmpdir(), 'fake-tree-'));
      const env = { GIT_INDEX_FILE: path.join(dir, 'index') };
      try {
        await git(s.bare, baseTree ? ['read-tree', baseTree] : ['read-tree', '--empty'], { env });
        for (const e of entries) {
          if (e.sha === null) {
            await git(s.bare, ['update-index', '--force-remove', e.path], { env });
            continue;
          }
          const sha =
            e.content !== undefined
              ? await git(s.bare, ['hash-object', '-w', '--stdin'], { input: e.content })
              : (e.sha ?? '');
          if (!(await exists(sha, e.type === 'tree' ? 'tree' : 'blob')))
            return invalid(`tree.sha ${sha} is not a valid ${e.type}`);
          await git(
            s.bare,
            ['update-index', '--add', '--cacheinfo', `${e.mode},${sha},${e.path}`],
            {
              env,
            },
          );
        }
        const sha = await git(s.bare, ['write-tree'], { env });
        return [201, { sha, url: `${base}/trees/${sha}`, tree: [], truncated: false }];
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
    case 'git/create-commit': {
      const tree = String(body.tree);
      const parents = Array.isArray(body.parents) ? body.parents.map(String) : [];
      if (!(await exists(tree, 'tree'))) return invalid('Tree SHA does not exist');
      for (const p of parents)
        if (!(await exists(p, 'commit')))
          return invalid('Parent SHA does not exist or is not a commit object');
      // GitHub signs what it writes as the token's identity; a custom one stays unsigned.
      const custom =
        body.author !== undefined || body.committer !== undefined || body.signature !== undefined;
      const author = (body.author ?? {
        name: caller.login,
        email: `${caller.login}@users.noreply.github.com`,
      }) as { name: string; email: string };
      const committer = (body.committer ??
        (custom ? author : { name: 'GitHub', email: 'noreply@github.com' })) as {
        name: string;
        email: string;
      };
      const sha = await git(
        s.bare,
        ['commit-tree', tree, ...parents.flatMap((p) => ['-p', p]), '-F', '-'],
        {
          input: String(body.message),
          env: {
            GIT_AUTHOR_NAME: author.name,
            GIT_AUTHOR_EMAIL: author.email,
            GIT_COMMITTER_NAME: committer.name,
            GIT_COMMITTER_EMAIL: committer.email,
          },
        },
      );
      if (!custom) await appendFile(path.join(s.bare, VERIFIED_FILE), `${sha}\n`);
      return [
        201,
        {
          sha,
          url: `${base}/commits/${sha}`,
          html_url: `https://github.com/${s.owner}/${s.repo}/commit/${sha}`,
          message: body.message,
          tree: { sha: tree },
          parents: parents.map((p) => ({ sha: p })),
          verification: custom
            ? { verified: false, reason: 'unsigned', signature: null, payload: null }
            : { verified: true, reason: 'valid', signature: null, payload: null },
        },
      ];
    }
    case 'git/get-commit': {
      const sha = String(params.commit_sha);
      if (!(await exists(sha, 'commit'))) return NOT_FOUND;
      const tree = await git(s.bare, ['rev-parse', `${sha}^{tree}`]);
      return [200, { sha, tree: { sha: tree }, url: `${base}/commits/${sha}` }];
    }
    case 'git/get-ref': {
      const ref = `refs/${String(params.ref)}`;
      const sha = await git(s.bare, ['rev-parse', '--verify', '--quiet', ref]).catch(() => '');
      if (sha === '') return NOT_FOUND;
      return [200, { ref, object: { sha, type: 'commit', url: `${base}/commits/${sha}` } }];
    }
    case 'git/create-ref': {
      const ref = String(body.ref);
      if (!/^refs\/\S+$/.test(ref)) return invalid(`${ref} is not a valid ref name.`);
      if (await git(s.bare, ['rev-parse', '--verify', '--quiet', ref]).catch(() => ''))
        return invalid('Reference already exists');
      await git(s.bare, ['update-ref', ref, String(body.sha), '0'.repeat(40)]);
      return [201, { ref, object: { sha: body.sha, type: 'commit' } }];
    }
    case 'git/update-ref': {
      const ref = `refs/${String(params.ref)}`;
      const sha = String(body.sha);
      const old = await git(s.bare, ['rev-parse', '--verify', '--quiet', ref]).catch(() => '');
      if (old === '') return invalid('Reference does not exist');
      if (!(await exists(sha, 'commit'))) return invalid('Object does not exist');
      if (body.force !== true) {
        const forward = await git(s.bare, ['merge-base', '--is-ancestor', old, sha]).then(
          () => true,
          () => false,
        );
        if (!forward) return invalid('Update is not a fast forward');
      }
      const branch = ref.replace(/^refs\/heads\//, '');
      if ((await lines(path.join(s.bare, SIGNED_BRANCHES_FILE))).has(branch)) {
        const unsigned = await allVerified(s.bare, old, sha);
        if (unsigned.length > 0)
          return [
            422,
            {
              message: `Repository rule violations found\n\nCommits must have verified signatures.\n\nFound ${unsigned.length} violation(s):\n\n${unsigned.join('\n')}`,
            },
          ];
      }
      await git(s.bare, ['update-ref', ref, sha, old]);
      return [200, { ref, object: { sha, type: 'commit' }, previous: old }];
    }
    default:
      return undefined;
  }
}
