import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gitCli, gitEnv } from './git-cli.ts';
import { createBareRepo, protectBranch, startGitServer } from './git-server.ts';
import type { GitServer } from './git-server.ts';

let work: string;
const { git, gitStatus } = gitCli(() => gitEnv(work));

function withCredentials(url: string, password: string): string {
  const u = new URL(url);
  u.username = 'x-access-token';
  u.password = password;
  return u.toString();
}

function post(
  url: string,
  body: Buffer,
  headers: Record<string, string>,
): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

function pktLine(text: string): string {
  return (text.length + 4).toString(16).padStart(4, '0') + text;
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'pinml-git-server-'));
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('startGitServer', () => {
  let root: string;
  let server: GitServer;
  let tip: string;

  beforeAll(async () => {
    root = join(work, 'open');
    await createBareRepo(root, 'demo', { defaultBranch: 'main' });
    server = await startGitServer({ root });
    const seed = join(work, 'seed');
    await git(work, 'clone', '--quiet', server.url('demo'), seed);
    await writeFile(join(seed, 'README.md'), 'hello\n');
    await git(seed, 'add', '.');
    await git(seed, 'commit', '--quiet', '-m', 'first');
    await git(seed, 'push', '--quiet', 'origin', 'HEAD:main');
    tip = await git(seed, 'rev-parse', 'HEAD');
  });

  afterAll(async () => {
    await server.close();
  });

  it('lets the git CLI push to and clone from a bare repository over HTTP', async () => {
    expect(await git(join(root, 'demo.git'), 'rev-parse', 'refs/heads/main')).toBe(tip);
    const copy = join(work, 'copy');
    await git(work, 'clone', '--quiet', server.url('demo'), copy);
    expect(await git(copy, 'rev-parse', 'HEAD')).toBe(tip);
    expect(await git(copy, 'show', 'HEAD:README.md')).toBe('hello');
    expect(server.requests).toBeGreaterThan(0);
  });

  it('passes the CGI Status header through (a missing repository is 404)', async () => {
    const result = await gitStatus(work, 'ls-remote', server.url('missing'));
    expect(result.ok).toBe(false);
    expect(result.stderr).toMatch(/not found|404/i);
  });

  it('accepts a gzip-encoded upload-pack request body', async () => {
    const request = pktLine(`want ${tip} side-band-64k\n`) + '0000' + pktLine('done\n');
    const res = await post(`${server.url('demo')}/git-upload-pack`, gzipSync(request), {
      'content-type': 'application/x-git-upload-pack-request',
      'content-encoding': 'gzip',
    });
    expect(res.status).toBe(200);
    expect(res.body.subarray(0, 8).toString('latin1')).toBe('0008NAK\n');
    expect(res.body.includes(Buffer.from('PACK'))).toBe(true);
  });
});

describe('startGitServer with a token', () => {
  let root: string;
  let server: GitServer;
  const token = 'ghs_serverTestToken123';
  const readOnlyToken = 'ghs_readOnly456';

  beforeAll(async () => {
    root = join(work, 'private');
    await createBareRepo(root, 'secret');
    server = await startGitServer({ root, token, readOnlyToken });
  });

  afterAll(async () => {
    await server.close();
  });

  it('answers 401 without credentials and serves the right token', async () => {
    const anonymous = await gitStatus(work, 'ls-remote', server.url('secret'));
    expect(anonymous.ok).toBe(false);
    expect(anonymous.stderr).toMatch(/Authentication failed|401|could not read Username/i);
    const wrong = await gitStatus(work, 'ls-remote', withCredentials(server.url('secret'), 'nope'));
    expect(wrong.ok).toBe(false);
    const right = await gitStatus(work, 'ls-remote', withCredentials(server.url('secret'), token));
    expect(right).toEqual({ ok: true, stderr: '' });
  });

  it('lets a read-only token fetch but answers 403 to its push', async () => {
    const dir = join(work, 'ro');
    await git(work, 'init', '--quiet', '--initial-branch=main', dir);
    await writeFile(join(dir, 'a.txt'), 'a\n');
    await git(dir, 'add', '.');
    await git(dir, 'commit', '--quiet', '-m', 'a');
    const read = await gitStatus(
      dir,
      'ls-remote',
      withCredentials(server.url('secret'), readOnlyToken),
    );
    expect(read.ok).toBe(true);
    const push = await gitStatus(
      dir,
      'push',
      withCredentials(server.url('secret'), readOnlyToken),
      'HEAD:main',
    );
    expect(push.ok).toBe(false);
    expect(push.stderr).toMatch(/403/);
    const write = await gitStatus(
      dir,
      'push',
      withCredentials(server.url('secret'), token),
      'HEAD:main',
    );
    expect(write.ok).toBe(true);
  });
});

describe('protectBranch', () => {
  it('makes the server refuse pushes to that branch only, with the reason in the hook output', async () => {
    const root = join(work, 'protected');
    await createBareRepo(root, 'guarded');
    const server = await startGitServer({ root });
    try {
      const dir = join(work, 'guarded-src');
      await git(work, 'init', '--quiet', '--initial-branch=main', dir);
      await writeFile(join(dir, 'a.txt'), 'a\n');
      await git(dir, 'add', '.');
      await git(dir, 'commit', '--quiet', '-m', 'a');
      await git(dir, 'push', '--quiet', server.url('guarded'), 'HEAD:main');
      await protectBranch(root, 'guarded', 'main');
      await writeFile(join(dir, 'a.txt'), 'b\n');
      await git(dir, 'commit', '--quiet', '-am', 'b');
      const refused = await gitStatus(dir, 'push', server.url('guarded'), 'HEAD:main');
      expect(refused.ok).toBe(false);
      expect(refused.stderr).toContain('pre-receive hook declined');
      expect(refused.stderr).toContain('GH006: Protected branch update failed for refs/heads/main');
      const other = await gitStatus(dir, 'push', server.url('guarded'), 'HEAD:feature');
      expect(other.ok).toBe(true);
    } finally {
      await server.close();
    }
  });
});
