/**
 * A real git smart-HTTP server for tests: a Node HTTP server on loopback that runs git's own
 * `git http-backend` as a CGI program over bare repositories in a folder, with pushes
 * enabled, optional Basic authentication and a pre-receive hook that protects a branch.
 *
 * Test helper only: product code never imports it. Everything that runs `git` here is
 * asynchronous, because a synchronous `git` talking to a server in the same process
 * deadlocks (the server cannot answer while the event loop is blocked).
 */
import { execFile, spawn } from 'node:child_process';
import { appendFile, chmod, mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { createGunzip, createInflate } from 'node:zlib';

const execFileAsync = promisify(execFile);

/** How the server authenticates a request. */
export interface GitServerOptions {
  /** The folder that holds the bare repositories (`<root>/<name>.git`). */
  root: string;
  /**
   * When set, every request needs HTTP Basic auth whose password is this token (any user name,
   * as GitHub accepts `x-access-token`); a missing or wrong one is answered 401.
   */
  token?: string;
  /** A token that may fetch but not push: a push with it is answered 403, as GitHub does. */
  readOnlyToken?: string;
  /** More tokens, each allowed to fetch (`read`) or to push too (`write`); added while it runs. */
  tokens?: Map<string, 'read' | 'write'>;
  /**
   * Names who pushes, from the password, for the repository's hooks: they see it as
   * `PINML_PUSHED_BY` (default: `token` for {@link token}, `other` for the rest).
   */
  identify?: (password: string) => string;
}

/** Where {@link GitServer.cutNextPush} breaks the connection. */
export type CutMode = 'mid-pack' | 'before-report';

/** A running server. */
export interface GitServer {
  /** The clone URL of the bare repository `<root>/<name>.git`. */
  url(name: string): string;
  /** The number of HTTP requests answered so far (handy to prove a call used the network). */
  readonly requests: number;
  /**
   * Breaks the connection of the next push (the POST to git-receive-pack): `mid-pack` after
   * the first chunk of the pack arrives (git never sees the whole pack: nothing lands);
   * `before-report` after git has stored the pack and moved the branch, before its report is
   * sent (the push landed, the client cannot know).
   */
  cutNextPush(mode: CutMode): void;
  /** Resolves when no `git http-backend` is running (one a dead client left is finishing). */
  idle(): Promise<void>;
  /** Stops listening, ends open connections and waits for running `git` processes. */
  close(): Promise<void>;
}

function repoDir(root: string, name: string): string {
  return join(root, name.endsWith('.git') ? name : `${name}.git`);
}

/** Creates the bare repository `<root>/<name>.git` and returns its path. */
export async function createBareRepo(
  root: string,
  name: string,
  { defaultBranch = 'main' }: { defaultBranch?: string } = {},
): Promise<string> {
  const dir = repoDir(root, name);
  await mkdir(dir, { recursive: true });
  await execFileAsync('git', [
    'init',
    '--quiet',
    '--bare',
    `--initial-branch=${defaultBranch}`,
    dir,
  ]);
  return dir;
}

/** A ruleset's rules, as `protectBranch` enforces them. */
export interface BranchRules {
  /** "Require a pull request before merging": every push to the branch is refused. Default on. */
  pullRequest?: boolean;
  /**
   * "Require signed commits": a push whose new commits are not all ones GitHub signed (the fake's
   * API-created commits, listed in the bare repository's `pinml-verified-commits`) is refused.
   */
  signedCommits?: boolean;
}

/**
 * Installs a pre-receive hook in `<root>/<name>.git` that refuses updates of `branch` as a
 * ruleset with `rules` does, printing GitHub's wording, so tests meet the refusal a real host
 * sends. Pushers named in `bypass` (the server's `PINML_PUSHED_BY`: a ruleset's bypass list) may
 * push. With `signedCommits`, the fake GitHub's ref updates check the same rule.
 */
export async function protectBranch(
  root: string,
  name: string,
  branch: string,
  bypass: readonly string[] = [],
  rules: BranchRules = { pullRequest: true },
): Promise<void> {
  const dir = repoDir(root, name);
  const hooks = join(dir, 'hooks');
  await mkdir(hooks, { recursive: true });
  const ref = `refs/heads/${branch}`;
  const zero = '0'.repeat(40);
  // A push straight to the bare repository (a developer's clone) has no PINML_PUSHED_BY.
  const bypassed = bypass.map((b) => ` && [ "\${PINML_PUSHED_BY:-developer}" != "${b}" ]`).join('');
  const script = [
    '#!/bin/sh',
    'refused=0',
    'while read old new ref; do',
    `  if [ "$ref" = "${ref}" ]${bypassed}; then`,
    ...(rules.pullRequest !== false
      ? [
          `    echo "error: GH006: Protected branch update failed for ${ref}." >&2`,
          `    echo "error: Changes must be made through a pull request." >&2`,
          '    refused=1',
        ]
      : []),
    ...(rules.signedCommits === true
      ? [
          `    if [ "$old" = "${zero}" ]; then range="$new"; else range="$old..$new"; fi`,
          '    for c in $(git rev-list $range); do',
          '      if ! grep -qx "$c" pinml-verified-commits 2>/dev/null; then',
          `        echo "error: GH006: Protected branch update failed for ${ref}." >&2`,
          '        echo "error: Commits must have verified signatures." >&2',
          '        refused=1',
          '        break',
          '      fi',
          '    done',
        ]
      : []),
    '  fi',
    'done',
    'exit $refused',
    '',
  ].join('\n');
  const hook = join(hooks, 'pre-receive');
  await writeFile(hook, script);
  await chmod(hook, 0o755);
  if (rules.signedCommits === true)
    await appendFile(join(dir, 'pinml-signed-branches'), `${branch}\n`);
}

type Access = 'read' | 'write' | 'denied';

/** The password of a request's HTTP Basic auth, if it has one. */
function passwordOf(req: IncomingMessage): string | undefined {
  const match = /^Basic\s+(\S+)$/i.exec(req.headers.authorization ?? '');
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  return decoded.slice(decoded.indexOf(':') + 1);
}

function access(req: IncomingMessage, options: GitServerOptions): Access {
  if (options.token === undefined && options.readOnlyToken === undefined) return 'write';
  const password = passwordOf(req);
  if (password === undefined) return 'denied';
  if (options.token !== undefined && password === options.token) return 'write';
  if (options.readOnlyToken !== undefined && password === options.readOnlyToken) return 'read';
  return options.tokens?.get(password) ?? 'denied';
}

function isPush(url: URL): boolean {
  return (
    url.pathname.endsWith('/git-receive-pack') ||
    url.searchParams.get('service') === 'git-receive-pack'
  );
}

function body(req: IncomingMessage): Readable {
  const encoding = (req.headers['content-encoding'] ?? '').toLowerCase();
  if (encoding === 'gzip' || encoding === 'x-gzip') return req.pipe(createGunzip());
  if (encoding === 'deflate') return req.pipe(createInflate());
  return req;
}

/** Splits a CGI response's header block (`Name: value` lines, then a blank line). */
function parseCgiHeaders(block: string): { status: number; headers: [string, string][] } {
  let status = 200;
  const headers: [string, string][] = [];
  for (const line of block.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10) || 500;
    else headers.push([name, value]);
  }
  return { status, headers };
}

function runBackend(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  root: string,
  children: Set<Promise<void>>,
  cut: CutMode | undefined,
  pushedBy: string,
): void {
  const child = spawn('git', ['http-backend'], {
    env: {
      PINML_PUSHED_BY: pushedBy,
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      GIT_PROJECT_ROOT: root,
      GIT_HTTP_EXPORT_ALL: '1',
      // Pushes are off in http-backend unless enabled (or REMOTE_USER is set).
      GIT_CONFIG_COUNT: '1',
      GIT_CONFIG_KEY_0: 'http.receivepack',
      GIT_CONFIG_VALUE_0: 'true',
      REMOTE_USER: 'pinml-test',
      REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
      REQUEST_METHOD: req.method ?? 'GET',
      PATH_INFO: decodeURIComponent(url.pathname),
      QUERY_STRING: url.search.replace(/^\?/, ''),
      CONTENT_TYPE: req.headers['content-type'] ?? '',
      GIT_PROTOCOL: String(req.headers['git-protocol'] ?? ''),
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const done = new Promise<void>((resolve) => child.on('close', () => resolve()));
  children.add(done);
  void done.then(() => children.delete(done));

  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const input = body(req);
  input.on('error', () => child.kill());
  child.stdin.on('error', () => undefined);
  if (cut === 'mid-pack') {
    input.once('data', () => {
      child.kill('SIGKILL');
      req.socket.destroy();
    });
  } else {
    input.pipe(child.stdin);
  }

  let head: Buffer = Buffer.alloc(0);
  let started = false;
  child.stdout.on('data', (chunk: Buffer) => {
    if (cut === 'before-report') return;
    if (started) {
      res.write(chunk);
      return;
    }
    head = Buffer.concat([head, chunk]);
    const crlf = head.indexOf('\r\n\r\n');
    const lf = head.indexOf('\n\n');
    const end = crlf >= 0 && (lf < 0 || crlf < lf) ? crlf + 4 : lf >= 0 ? lf + 2 : -1;
    if (end < 0) return;
    const { status, headers } = parseCgiHeaders(head.subarray(0, end).toString('latin1'));
    res.statusCode = status;
    for (const [name, value] of headers) res.setHeader(name, value);
    started = true;
    res.write(head.subarray(end));
  });
  child.on('error', (err) => {
    if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
    res.end(`git http-backend could not start: ${err.message}\n`);
  });
  child.on('close', (code) => {
    if (cut === 'before-report') {
      res.socket?.destroy();
      return;
    }
    if (!started) {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`git http-backend failed (exit ${code}): ${stderr}\n`);
      return;
    }
    res.end();
  });
}

/** Starts a server on 127.0.0.1 with a free port; `close()` it when done. */
export async function startGitServer(options: GitServerOptions): Promise<GitServer> {
  const children = new Set<Promise<void>>();
  let requests = 0;
  let cutNext: CutMode | undefined;
  const server = createServer((req, res) => {
    requests += 1;
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const granted = access(req, options);
    if (granted === 'denied') {
      req.resume();
      res.writeHead(401, {
        'www-authenticate': 'Basic realm="pinml test git server"',
        'content-type': 'text/plain',
      });
      res.end('Authentication required\n');
      return;
    }
    if (granted === 'read' && isPush(url)) {
      req.resume();
      res.writeHead(403, { 'content-type': 'text/plain' });
      res.end('Permission to push denied\n');
      return;
    }
    let cut: CutMode | undefined;
    if (
      cutNext !== undefined &&
      req.method === 'POST' &&
      url.pathname.endsWith('/git-receive-pack')
    ) {
      cut = cutNext;
      cutNext = undefined;
    }
    const password = passwordOf(req) ?? '';
    const pushedBy =
      options.identify?.(password) ?? (password === options.token ? 'token' : 'other');
    runBackend(req, res, url, options.root, children, cut, pushedBy);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: (name) => `http://127.0.0.1:${port}/${name.endsWith('.git') ? name : `${name}.git`}`,
    get requests() {
      return requests;
    },
    cutNextPush: (mode) => {
      cutNext = mode;
    },
    idle: async () => {
      while (children.size > 0) await Promise.all([...children]);
    },
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await Promise.all([closed, ...children]);
    },
  };
}
