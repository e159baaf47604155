import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { globalConfigFiles, parseIdentityConfig } from './identity.ts';
import { GitRepo } from './repo.ts';
import { repoFixture } from './testing/repo-fixture.ts';

const fixture = repoFixture('pinml-git-identity-');
const { git, freshDir } = fixture;
const run = promisify(execFile);

beforeAll(fixture.setup);
afterAll(fixture.teardown);

type Env = Record<string, string>;

/** A home folder with `files` (`.gitconfig`, `.config/git/config`) in it. */
async function home(files: Record<string, string>): Promise<string> {
  const dir = await freshDir('home');
  for (const [name, text] of Object.entries(files)) {
    await mkdir(join(dir, name, '..'), { recursive: true });
    await writeFile(join(dir, name), text);
  }
  return dir;
}

/** Writes an empty commit with isomorphic-git in `env`; `author|committer` as `git log` shows them. */
async function commitIn(env: Env, local?: Record<string, string>): Promise<string> {
  const dir = await freshDir('repo');
  const repo = await GitRepo.init(dir, { env });
  for (const [key, value] of Object.entries(local ?? {})) await git(dir, 'config', key, value);
  const oid = await repo.writeCommit({ parent: null, changes: [], message: 'x' });
  const shown = await git(dir, 'log', '-1', '--format=%an <%ae>|%cn <%ce>', oid);
  // The real git, in the same environment and repository, signs with the same identity.
  const ident = async (v: string): Promise<string> =>
    (
      await run('git', ['var', v], {
        cwd: dir,
        env: { PATH: process.env.PATH, GIT_CONFIG_NOSYSTEM: '1', ...env },
      })
    ).stdout.replace(/>.*\n$/, '>');
  if (!shown.includes('41898282+github-actions[bot]@users.noreply.github.com')) {
    expect(shown).toBe(`${await ident('GIT_AUTHOR_IDENT')}|${await ident('GIT_COMMITTER_IDENT')}`);
  }
  return shown;
}

describe('the identity of a commit that names no author', () => {
  it("is the global ~/.gitconfig's user when the repository names none", async () => {
    const h = await home({
      '.gitconfig': '[user]\n\tname = Grace Hopper\n\temail = grace@example.com\n',
    });
    expect(await commitIn({ HOME: h })).toBe(
      'Grace Hopper <grace@example.com>|Grace Hopper <grace@example.com>',
    );
  });

  it('reads $XDG_CONFIG_HOME/git/config, and ~/.gitconfig over it', async () => {
    const xdg = await home({ 'git/config': '[user]\n  name = Xena\n  email = xena@example.com\n' });
    expect(await commitIn({ HOME: await home({}), XDG_CONFIG_HOME: xdg })).toBe(
      'Xena <xena@example.com>|Xena <xena@example.com>',
    );
    const both = await home({
      '.config/git/config': '[user]\n  name = Xena\n  email = xena@example.com\n',
      '.gitconfig': '[user]\n  email = grace@example.com\n',
    });
    expect(await commitIn({ HOME: both })).toBe(
      'Xena <grace@example.com>|Xena <grace@example.com>',
    );
  });

  it("takes the repository's config over the global one, key by key", async () => {
    const h = await home({ '.gitconfig': '[user]\n\tname = Grace\n\temail = grace@example.com\n' });
    expect(await commitIn({ HOME: h }, { 'user.email': 'ada@example.com' })).toBe(
      'Grace <ada@example.com>|Grace <ada@example.com>',
    );
  });

  it('takes GIT_AUTHOR_* for the author and GIT_COMMITTER_* for the committer over any config', async () => {
    const h = await home({ '.gitconfig': '[user]\n\tname = Grace\n\temail = grace@example.com\n' });
    const env = {
      HOME: h,
      GIT_AUTHOR_NAME: 'Ada',
      GIT_AUTHOR_EMAIL: 'ada@example.com',
      GIT_COMMITTER_NAME: 'Bot',
    };
    expect(await commitIn(env, { 'user.name': 'Local' })).toBe(
      'Ada <ada@example.com>|Bot <grace@example.com>',
    );
  });

  it('takes author.* and committer.* over user.*, GIT_CONFIG_GLOBAL over ~/.gitconfig, and trims as git does', async () => {
    const h = await home({ '.gitconfig': '[user]\n\tname = Ignored\n\temail = no@example.com\n' });
    const file = join(
      await home({
        'other.ini':
          '# a comment\n[user "sub"]\n  name = Not me\n[user]\n  name = "Grace  H." ; comment\n' +
          '  email = grace@example.com\n[committer]\n  name = Release Bot\n',
      }),
      'other.ini',
    );
    expect(await commitIn({ HOME: h, GIT_CONFIG_GLOBAL: file })).toBe(
      'Grace  H <grace@example.com>|Release Bot <grace@example.com>',
    );
  });

  it('is pinml when neither the environment nor any configuration names one', async () => {
    expect(await commitIn({ HOME: await home({}) })).toBe(
      'github-actions[bot] <41898282+github-actions[bot]@users.noreply.github.com>|github-actions[bot] <41898282+github-actions[bot]@users.noreply.github.com>',
    );
    expect(await commitIn({})).toBe(
      'github-actions[bot] <41898282+github-actions[bot]@users.noreply.github.com>|github-actions[bot] <41898282+github-actions[bot]@users.noreply.github.com>',
    );
  });
});

describe('parseIdentityConfig', () => {
  it('reads the user, author and committer sections as git does, the last value winning', () => {
    const text = [
      '[core]',
      '\tname = not an identity',
      '[User]',
      '\tNAME = first',
      '\tname = "A \\"quoted\\" name" # comment',
      '\temail',
      '[user.sub]',
      '\temail = skipped@example.com',
      '[author] email = a@example.com',
    ].join('\n');
    expect(Object.fromEntries(parseIdentityConfig(text))).toEqual({
      'user.name': 'A "quoted" name',
      'user.email': '',
      'author.email': 'a@example.com',
    });
  });

  it('lists the global files git reads, lowest precedence first', () => {
    expect(globalConfigFiles({ HOME: '/h' })).toEqual(['/h/.config/git/config', '/h/.gitconfig']);
    expect(globalConfigFiles({ HOME: '/h', XDG_CONFIG_HOME: '/x' })).toEqual([
      '/x/git/config',
      '/h/.gitconfig',
    ]);
    expect(globalConfigFiles({ HOME: '/h', GIT_CONFIG_GLOBAL: '/g' })).toEqual(['/g']);
    expect(globalConfigFiles({})).toEqual([]);
  });
});
