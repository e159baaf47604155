/**
 * Git and the GitHub client through an HTTP proxy, as a self-hosted runner behind one needs: a
 * real CONNECT proxy on loopback in front of `git http-backend` and the fake GitHub. Their host
 * names (`git.pinml.test`, `api.pinml.test`) resolve nowhere but in the proxy, so a call that
 * succeeds went through it.
 */
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGitHubClient } from '../github/client.ts';
import { startFakeGitHub, type FakeGitHub } from '../github/testing/fake-github.ts';
import { GitRepo } from './repo.ts';
import { createBareRepo, startGitServer, type GitServer } from './testing/git-server.ts';
import { expectGitError, repoFixture } from './testing/repo-fixture.ts';

const fixture = repoFixture('pinml-git-proxy-');
const { git, freshDir, cliRepo } = fixture;

const HOST = 'git.pinml.test';
const API_HOST = 'api.pinml.test';
const PROXY_PASSWORD = 'pr0xyS3cret';

/** A CONNECT proxy that knows some hosts (name → loopback port), wants Basic credentials, and records what it tunnels. */
async function startProxy(
  ports: () => Record<string, number>,
): Promise<{ server: Server; url: string; tunnels: string[] }> {
  const tunnels: string[] = [];
  const expected = `Basic ${Buffer.from(`ops:${PROXY_PASSWORD}`).toString('base64')}`;
  const server = createServer((_req, res) => {
    res.writeHead(405).end('CONNECT only\n');
  });
  server.on('connect', (req, socket, head) => {
    const target = req.url ?? '';
    if (req.headers['proxy-authorization'] !== expected) {
      socket.end('HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const [host, targetPort] = target.split(':');
    const port = ports()[host ?? ''];
    if (port === undefined || Number(targetPort) !== port) {
      socket.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    tunnels.push(target);
    const upstream = connect(port, '127.0.0.1', () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port: proxyPort } = server.address() as AddressInfo;
  return { server, url: `http://ops:${PROXY_PASSWORD}@127.0.0.1:${proxyPort}`, tunnels };
}

beforeAll(fixture.setup);
afterAll(fixture.teardown);

describe('GitRepo through HTTP_PROXY / HTTPS_PROXY', () => {
  let gitServer: GitServer;
  let proxy: Awaited<ReturnType<typeof startProxy>>;
  let url: string;
  let gitPort = 0;
  let fake: FakeGitHub;
  let apiPort = 0;

  beforeAll(async () => {
    const root = await freshDir('server');
    await createBareRepo(root, 'registry', { defaultBranch: 'main' });
    gitServer = await startGitServer({ root });
    const local = new URL(gitServer.url('registry'));
    gitPort = Number(local.port);
    const seed = await cliRepo({ 'registry/iris/pins.json': '{"production":1}\n' });
    await git(seed, 'push', '--quiet', local.toString(), 'main');
    fake = await startFakeGitHub({
      owner: 'acme',
      repo: 'registry',
      bareRepoDir: join(root, 'registry.git'),
      token: 's3cret',
    });
    apiPort = Number(new URL(fake.url).port);
    proxy = await startProxy(() => ({ [HOST]: gitPort, [API_HOST]: apiPort }));
    url = `http://${HOST}:${gitPort}/registry.git`;
  });

  afterAll(async () => {
    proxy.server.closeAllConnections();
    await new Promise((resolve) => proxy.server.close(resolve));
    await gitServer.close();
    await fake.close();
  });

  /** Runs `body` with the process environment's proxy variables (pinml, like git, reads them there). */
  async function withProxyEnv<T>(vars: Record<string, string>, body: () => Promise<T>): Promise<T> {
    const names = [
      'HTTP_PROXY',
      'http_proxy',
      'HTTPS_PROXY',
      'https_proxy',
      'NO_PROXY',
      'no_proxy',
    ];
    const saved = names.map((n) => [n, process.env[n]] as const);
    for (const n of names) delete process.env[n];
    Object.assign(process.env, vars);
    try {
      return await body();
    } finally {
      for (const [n, v] of saved) {
        if (v === undefined) delete process.env[n];
        else process.env[n] = v;
      }
    }
  }

  it('clones and pushes through the proxy HTTP_PROXY names', async () => {
    const dir = await freshDir('a');
    const next = await withProxyEnv({ HTTP_PROXY: proxy.url }, async () => {
      const repo = await GitRepo.clone({ dir, url, branch: 'main' });
      expect(await repo.readText('main', 'registry/iris/pins.json')).toBe('{"production":1}\n');
      const oid = await repo.writeCommit({
        parent: 'main',
        changes: [{ path: 'registry/iris/pins.json', content: '{"production":2}\n' }],
        message: 'Promote iris v2',
      });
      await repo.push({ oid, branch: 'main' });
      return oid;
    });
    expect(proxy.tunnels.length).toBeGreaterThanOrEqual(1);
    expect(new Set(proxy.tunnels)).toEqual(new Set([`${HOST}:${gitPort}`]));
    const remote = await git(dir, 'ls-remote', gitServer.url('registry'), 'main');
    expect(remote.split('\t')[0]).toBe(next);
  });

  it('calls the GitHub API through the proxy too', async () => {
    const before = proxy.tunnels.length;
    const repo = await withProxyEnv({ HTTP_PROXY: proxy.url }, async () => {
      const client = createGitHubClient({
        token: 's3cret',
        baseUrl: `http://${API_HOST}:${apiPort}`,
        retries: 0,
      });
      return (await client.rest.repos.get({ owner: 'acme', repo: 'registry' })).data;
    });
    expect(repo.full_name).toBe('acme/registry');
    expect(proxy.tunnels.slice(before)).toContain(`${API_HOST}:${apiPort}`);
  });

  it('goes direct for a host NO_PROXY names (and then this host resolves nowhere)', async () => {
    const before = proxy.tunnels.length;
    const dir = await freshDir('b');
    const err = await withProxyEnv({ HTTP_PROXY: proxy.url, NO_PROXY: '.pinml.test' }, () =>
      expectGitError(GitRepo.clone({ dir, url, branch: 'main' }), 'network'),
    );
    expect(proxy.tunnels.length).toBe(before);
    expect(err.message).toMatch(/could not connect \(ENOTFOUND\)/);
  });

  it('says the proxy refused, and what to check, without its password', async () => {
    const wrong = proxy.url.replace(PROXY_PASSWORD, 'wrong-password');
    const dir = await freshDir('c');
    const err = await withProxyEnv({ HTTP_PROXY: wrong }, () =>
      expectGitError(GitRepo.clone({ dir, url, branch: 'main' }), 'network'),
    );
    expect(err.message).toMatch(/the proxy .*answered 407.*HTTP_PROXY/);
    expect(err.message).not.toContain('wrong-password');
    expect(JSON.stringify(err.data)).not.toContain('wrong-password');
  });
});
