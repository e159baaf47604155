/**
 * A GitHub stand-in for action tests: a bare repository served by git's own smart-HTTP server
 * (`git http-backend`) on loopback, and the OpenAPI-checked fake of GitHub's REST API over the
 * same bare repository (its merge endpoint really merges). Both demand the job's token.
 *
 * A developer clone pushes commits (the events), and `checkout` does what actions/checkout
 * does on a runner: a clone of the event's commit over HTTPS, shallow unless `fetch-depth: 0`.
 *
 * Test helper only. Every git command here is asynchronous: a synchronous `git` against the
 * in-process server deadlocks.
 */
import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gitCli, gitEnv, type GitCli } from '../../pipeline/git/testing/git-cli.ts';
import {
  createBareRepo,
  startGitServer,
  type GitServer,
} from '../../pipeline/git/testing/git-server.ts';
import {
  startFakeGitHub,
  type FakeGitHub,
  type TokenPermissions,
} from '../../pipeline/github/testing/fake-github.ts';
import type { Actor, CausedEvent } from './events.ts';
import type { WorkflowEvent } from './workflow-runner.ts';

/** A token distinctive enough that finding it anywhere means it leaked. */
export const TEST_TOKEN = 'ghs_pinmlTEST7c1d0e9aNeverPrintMe42';
/** The token of a job granted only `contents: read`: it fetches, but a push with it is refused. */
export const TEST_READ_TOKEN = 'ghs_pinmlREAD55b2f7ReadOnlyNoPush17';

export interface SandboxOptions {
  owner?: string;
  repo?: string;
  token?: string;
  readToken?: string;
  /**
   * "Allow GitHub Actions to create and approve pull requests": on here, as the README's
   * "Setting up GitHub" asks (GitHub's default for a new repository is off).
   */
  actionsCanCreatePullRequests?: boolean;
  /** The repository's default branch (default `main`). */
  defaultBranch?: string;
}

export interface Checkout {
  /** The commit to check out (the event's sha). */
  sha: string;
  /** The branch the event is on (`main`). */
  branch?: string;
  /** 1 (the default) is a shallow clone; 0 fetches every branch with full history. */
  fetchDepth?: number;
  /** Leave the token in .git/config (actions/checkout's default); the harness default is false. */
  persistCredentials?: boolean;
}

export interface Sandbox {
  root: string;
  owner: string;
  repo: string;
  /** `owner/repo`. */
  repository: string;
  /** The repository's default branch. */
  defaultBranch: string;
  /** The token with contents and pull-requests write (the REST fake accepts only this one). */
  token: string;
  /** A token git accepts for fetches only. */
  readToken: string;
  /**
   * A workflow job's `GITHUB_TOKEN` for its `permissions:` (`contents: write` lets it push; the
   * REST fake refuses what the others do not grant, as GitHub does).
   */
  jobToken(permissions: TokenPermissions): string;
  /**
   * A GitHub App installation token with `permissions` (what actions/create-github-app-token
   * returns): scoped like a job token, but not Actions' own, so the "Allow GitHub Actions to
   * create pull requests" setting does not bind it and its events start workflows.
   */
  appToken(permissions: TokenPermissions): string;
  /** The bare repository (the "GitHub" side). */
  bare: string;
  /** Its clone URL over HTTP (no credentials in it). */
  url: string;
  server: GitServer;
  fake: FakeGitHub;
  /** The git CLI, with no user or system config. */
  cli: GitCli;
  /** The developer's clone, where test pushes are made. */
  dev: string;
  /**
   * Commits `files` (content, or null to delete) in the developer's clone and pushes `branch`
   * (main; a new branch starts from main); returns the push event's before/after and the
   * changed paths.
   */
  push(
    files: Record<string, string | Buffer | null>,
    message: string,
    branch?: string,
  ): Promise<{ before: string; after: string; changed: string[] }>;
  /** The tip of a branch of the bare repository. */
  tip(branch?: string): Promise<string>;
  /** A file at a commit-ish of the bare repository, or undefined. */
  show(commitish: string, file: string): Promise<string | undefined>;
  /**
   * Every event pushes and API calls have caused so far, oldest first, with who caused it: git
   * pushes (read by the bare repository's post-receive hook), pull requests opened, merges, and
   * a push to the head of a pull request opened earlier (`synchronize`). `events.ts` says which
   * workflows GitHub starts from each.
   */
  causedEvents(): Promise<CausedEvent[]>;
  /** Does what actions/checkout does, into `dir`, with `token` (default the write token). */
  checkout(dir: string, options: Checkout & { token?: string }): Promise<void>;
  /** What a token may do: `all` for the full token, a job's or App's permissions, or undefined. */
  permissions(secret: string): TokenPermissions | 'all' | undefined;
  /**
   * The `pull_request` event of an open pull request now, as GitHub builds it: the head commit
   * kept under `refs/pull/<n>/head`, the test merge with its base written to
   * `refs/pull/<n>/merge` (GITHUB_SHA), and the files the pull request changes.
   */
  pullRequestEvent(
    number: number,
    action?: 'opened' | 'synchronize' | 'reopened',
  ): Promise<WorkflowEvent>;
  /**
   * A pull request from a fork (`fork`, e.g. `eve/models`): commits `files` on `branch` of a
   * clone of the default branch, puts the commit under `refs/pull/<n>/head` of the bare
   * repository (as GitHub keeps a fork's commits) and opens the pull request in the fake.
   */
  openForkPull(input: {
    fork: string;
    branch: string;
    files: Record<string, string | Buffer | null>;
    message: string;
    title: string;
  }): Promise<{ number: number; sha: string }>;
  /** A fresh temporary folder under the sandbox. */
  tempDir(prefix: string): Promise<string>;
  close(): Promise<void>;
}

/** Writes `files` under `dir` (content, or null to delete). */
async function writeFiles(
  dir: string,
  files: Record<string, string | Buffer | null>,
): Promise<void> {
  for (const [file, content] of Object.entries(files)) {
    const target = path.join(dir, file);
    if (content === null) await rm(target, { force: true });
    else {
      await mkdir(path.dirname(target), { recursive: true });
      await writeFile(target, content);
    }
  }
}

/** Starts the git server and the fake GitHub over a new, empty bare repository. */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const owner = options.owner ?? 'acme';
  const repo = options.repo ?? 'models';
  const token = options.token ?? TEST_TOKEN;
  const readToken = options.readToken ?? TEST_READ_TOKEN;
  const root = await mkdtemp(path.join(tmpdir(), 'pinml-actions-'));
  const home = path.join(root, 'home');
  await mkdir(home);
  const serverRoot = path.join(root, 'srv');
  const defaultBranch = options.defaultBranch ?? 'main';
  const bare = await createBareRepo(serverRoot, repo, { defaultBranch });
  // Keep pushed packs as packs (git unpacks small pushes into loose objects by default): a
  // clone then reuses their compressed objects instead of compressing the bundles again.
  await gitCli(() => gitEnv(home)).git(bare, 'config', 'receive.unpackLimit', '1');
  const gitTokens = new Map<string, 'read' | 'write'>();
  const scopedTokens = new Map<string, TokenPermissions>();
  const appTokens = new Set<string>();
  const actor = (secret: string): Actor =>
    appTokens.has(secret)
      ? 'app'
      : scopedTokens.has(secret)
        ? 'GITHUB_TOKEN'
        : secret === token
          ? 'token'
          : 'other';
  const server = await startGitServer({
    root: serverRoot,
    token,
    readOnlyToken: readToken,
    tokens: gitTokens,
    identify: actor,
  });
  // Every ref update, with who pushed it (the git server's PINML_PUSHED_BY; a push from the
  // developer's clone goes to the bare repository directly and has none).
  const pushLog = path.join(root, 'pushes.log');
  const hook = path.join(bare, 'hooks', 'post-receive');
  await mkdir(path.dirname(hook), { recursive: true });
  await writeFile(
    hook,
    [
      '#!/bin/sh',
      'while read old new ref; do',
      `  echo "$(date +%s%3N) \${PINML_PUSHED_BY:-developer} $old $new $ref" >> '${pushLog}'`,
      'done',
      '',
    ].join('\n'),
  );
  await chmod(hook, 0o755);
  const fake = await startFakeGitHub({
    owner,
    repo,
    bareRepoDir: bare,
    token,
    scopedTokens,
    appTokens,
    defaultBranch,
    actionsCanCreatePullRequests: options.actionsCanCreatePullRequests ?? true,
  });
  const cli = gitCli(() => gitEnv(home));
  const { git } = cli;
  // actions/checkout sends the token as an extra header; here it goes through the environment,
  // so it is neither on a command line nor (unless asked) in .git/config.
  const header = (secret: string): string =>
    `AUTHORIZATION: basic ${Buffer.from(`x-access-token:${secret}`).toString('base64')}`;
  const authed = (secret: string): GitCli =>
    gitCli(() => ({
      ...gitEnv(home),
      GIT_CONFIG_COUNT: '1',
      GIT_CONFIG_KEY_0: 'http.extraheader',
      GIT_CONFIG_VALUE_0: header(secret),
    }));

  const dev = path.join(root, 'dev');
  await git(root, 'init', '--quiet', `--initial-branch=${defaultBranch}`, dev);
  await git(dev, 'remote', 'add', 'origin', bare);

  /** A token with `permissions`, for the REST fake and the git server (`prefix` + their hash). */
  const scopedToken = (prefix: string, permissions: TokenPermissions): string => {
    const key = Object.entries(permissions)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    const scoped = `${prefix}${createHash('sha256').update(key).digest('hex').slice(0, 24)}`;
    scopedTokens.set(scoped, permissions);
    const contents = permissions.contents;
    if (contents === 'write' || contents === 'read') gitTokens.set(scoped, contents);
    return scoped;
  };

  let temp = 0;
  const sandbox: Sandbox = {
    root,
    owner,
    repo,
    repository: `${owner}/${repo}`,
    defaultBranch,
    token,
    readToken,
    jobToken: (permissions) => scopedToken('ghs_job', permissions),
    appToken(permissions) {
      const minted = scopedToken('ghs_app', permissions);
      appTokens.add(minted);
      return minted;
    },
    bare,
    url: server.url(repo),
    server,
    fake,
    cli,
    dev,
    async push(files, message, branch = defaultBranch) {
      const before = await sandbox.tip(branch).catch(() => '0'.repeat(40));
      // On the branch's tip; a new branch starts from main's.
      const from = before !== '0'.repeat(40) ? branch : defaultBranch;
      if ((await sandbox.tip(from).catch(() => undefined)) !== undefined) {
        await git(dev, 'fetch', '--quiet', 'origin', from);
        await git(dev, 'reset', '--quiet', '--hard', `origin/${from}`);
      }
      await writeFiles(dev, files);
      await git(dev, 'add', '--all');
      await git(dev, 'commit', '--quiet', '-m', message);
      await git(dev, 'push', '--quiet', 'origin', `HEAD:${branch}`);
      const after = await git(dev, 'rev-parse', 'HEAD');
      const changed =
        before === '0'.repeat(40)
          ? (await git(dev, 'ls-files')).split('\n')
          : (await git(dev, 'diff', '--name-only', before, after)).split('\n').filter(Boolean);
      return { before, after, changed };
    },
    tip: (branch = defaultBranch) => git(bare, 'rev-parse', `refs/heads/${branch}`),
    async show(commitish, file) {
      const r = await cli.gitStatus(bare, 'cat-file', '-e', `${commitish}:${file}`);
      return r.ok ? git(bare, 'show', `${commitish}:${file}`) : undefined;
    },
    async causedEvents() {
      const log = await readFile(pushLog, 'utf8').catch(() => '');
      const pushes = log
        .split('\n')
        // refs/pull/* are GitHub's own refs of pull requests: no push event.
        .filter((line) => line !== '' && !line.includes(' refs/pull/'))
        .map((line): CausedEvent => {
          const [at, by, before, after, ref] = line.split(' ');
          return {
            name: 'push',
            by: by as Actor,
            ref: ref ?? '',
            before: before ?? '',
            after: after ?? '',
            at: Number(at),
          };
        });
      const api = fake.events.map((e): CausedEvent => ({ ...e, by: actor(e.by) }));
      const all = [...pushes, ...api].sort((a, b) => a.at - b.at);
      // A push to the head branch of a pull request opened before it: `synchronize`.
      const synchronize: CausedEvent[] = [];
      for (const e of all) {
        if (e.name !== 'push') continue;
        const opened = all.find(
          (o) =>
            o.name === 'pull_request' &&
            o.action === 'opened' &&
            o.at <= e.at &&
            e.ref === `refs/heads/${o.head}`,
        );
        if (opened?.name === 'pull_request')
          synchronize.push({ ...opened, action: 'synchronize', by: e.by, at: e.at });
      }
      return [...all, ...synchronize].sort((a, b) => a.at - b.at);
    },
    async checkout(dir, options) {
      const { sha, branch = defaultBranch, fetchDepth = 1, persistCredentials = false } = options;
      const fetcher = authed(options.token ?? token);
      await mkdir(dir, { recursive: true });
      await git(dir, 'init', '--quiet', '--initial-branch', branch);
      await git(dir, 'remote', 'add', 'origin', sandbox.url);
      const pin = `+${sha}:refs/remotes/origin/${branch}`;
      if (fetchDepth > 0) {
        await fetcher.git(
          dir,
          'fetch',
          '--quiet',
          '--no-tags',
          `--depth=${fetchDepth}`,
          'origin',
          pin,
        );
      } else {
        await fetcher.git(
          dir,
          'fetch',
          '--quiet',
          'origin',
          '+refs/heads/*:refs/remotes/origin/*',
          '+refs/tags/*:refs/tags/*',
        );
        // The branch may have moved since the event (or is a pull request's merge ref, not a
        // branch): check out the event's commit.
        const fetched = await git(
          dir,
          'rev-parse',
          '--verify',
          '--quiet',
          `refs/remotes/origin/${branch}`,
        ).catch(() => undefined);
        if (fetched !== sha) await fetcher.git(dir, 'fetch', '--quiet', 'origin', pin);
      }
      await git(
        dir,
        'checkout',
        '--quiet',
        '--force',
        '-B',
        branch,
        `refs/remotes/origin/${branch}`,
      );
      if (persistCredentials)
        await git(
          dir,
          'config',
          '--local',
          `http.${sandbox.url}.extraheader`,
          header(options.token ?? token),
        );
    },
    permissions: (secret) => (secret === token ? 'all' : (scopedTokens.get(secret) ?? undefined)),
    async pullRequestEvent(number, action = 'opened') {
      const pull = fake.pulls.find((p) => p.number === number);
      if (!pull) throw new Error(`no pull request #${String(number)}`);
      if (pull.state !== 'open') throw new Error(`pull request #${String(number)} is closed`);
      const headRef = `refs/pull/${String(number)}/head`;
      const fork = pull.head.repo !== sandbox.repository;
      if (!fork) await git(bare, 'update-ref', headRef, `refs/heads/${pull.head.ref}`);
      const head = await git(bare, 'rev-parse', headRef);
      const base = await sandbox.tip(pull.base.ref);
      const tree = await git(bare, 'merge-tree', '--write-tree', base, head).catch(() => {
        throw new Error(
          `pull request #${String(number)} does not merge cleanly into ${pull.base.ref}`,
        );
      });
      const merge = await git(
        bare,
        'commit-tree',
        tree.split('\n')[0] ?? '',
        '-p',
        base,
        '-p',
        head,
        '-m',
        `Merge ${head} into ${base}`,
      );
      await git(bare, 'update-ref', `refs/pull/${String(number)}/merge`, merge);
      const changed = (await git(bare, 'diff', '--name-only', `${base}...${head}`))
        .split('\n')
        .filter(Boolean);
      return {
        name: 'pull_request',
        sha: merge,
        ref: `refs/pull/${String(number)}/merge`,
        changed,
        pull: {
          number,
          action,
          base: { ref: pull.base.ref, sha: base },
          head: { ref: pull.head.ref, sha: head, repo: pull.head.repo },
        },
      };
    },
    async openForkPull(input) {
      const clone = await sandbox.tempDir('fork');
      await git(root, 'clone', '--quiet', '--branch', defaultBranch, bare, clone);
      await git(clone, 'checkout', '--quiet', '-b', input.branch);
      await writeFiles(clone, input.files);
      await git(clone, 'add', '--all');
      await git(clone, 'commit', '--quiet', '-m', input.message);
      const sha = await git(clone, 'rev-parse', 'HEAD');
      const pull = await fake.openForkPull({
        fork: input.fork,
        branch: input.branch,
        sha,
        title: input.title,
      });
      await git(clone, 'push', '--quiet', 'origin', `HEAD:refs/pull/${String(pull.number)}/head`);
      return { number: pull.number, sha };
    },
    async tempDir(prefix) {
      const dir = path.join(root, `${prefix}-${++temp}`);
      await mkdir(dir, { recursive: true });
      return dir;
    },
    async close() {
      await fake.close();
      await server.close();
      await rm(root, { recursive: true, force: true });
    },
  };
  return sandbox;
}
