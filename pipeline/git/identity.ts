/**
 * Who a commit is by when the caller names no one, read as git reads it (git-commit-tree(1),
 * "COMMIT INFORMATION"; git-config(1), "FILES"): for the author `GIT_AUTHOR_NAME` and
 * `GIT_AUTHOR_EMAIL`, for the committer `GIT_COMMITTER_NAME` and `GIT_COMMITTER_EMAIL`; else
 * `author.*` or `committer.*`, then `user.*`, from the repository's `.git/config`, then from the
 * global configuration (`~/.gitconfig` over `$XDG_CONFIG_HOME/git/config`, or the one file
 * `GIT_CONFIG_GLOBAL` names); else, for the email, `EMAIL`; else GitHub's Actions bot.
 *
 * The system configuration (`/etc/gitconfig`) and `include` directives are not read.
 * isomorphic-git's `getConfig` reads only the repository's file, so the global files are
 * parsed here.
 */
import git from 'isomorphic-git';
import { files, type GitContext } from './context.ts';

/**
 * The identity used when neither the environment nor any configuration names one: GitHub's
 * Actions bot, as its `GITHUB_TOKEN` pushes (a made-up `…@users.noreply.github.com` address
 * would be credited to whichever GitHub user owns that name).
 */
export const DEFAULT_IDENTITY = {
  name: 'github-actions[bot]',
  email: '41898282+github-actions[bot]@users.noreply.github.com',
} as const;

/** The role a commit signature is for: the environment and config keys differ. */
export type IdentityRole = 'author' | 'committer';

/**
 * The `[user]`, `[author]` and `[committer]` values of a git config file's text, as
 * `section.key` (lower-case) → value; the last assignment wins, as in git.
 */
export function parseIdentityConfig(text: string): Map<string, string> {
  const values = new Map<string, string>();
  let section = '';
  for (const raw of text.split(/\r?\n/)) {
    let line = raw.trim();
    const header = /^\[\s*([A-Za-z0-9.-]+)(\s+"(?:[^"\\]|\\.)*")?\s*\]/.exec(line);
    if (header) {
      // `[user "x"]` is a subsection, not `[user]` (and `[user.x]` its old spelling).
      section = header[2] === undefined ? (header[1] ?? '').toLowerCase() : '';
      line = line.slice(header[0].length).trim();
    }
    const assignment = /^([A-Za-z][A-Za-z0-9-]*)\s*(?:=(.*))?$/.exec(line);
    if (!assignment || !['user', 'author', 'committer'].includes(section)) continue;
    const key = `${section}.${(assignment[1] ?? '').toLowerCase()}`;
    values.set(key, configValue(assignment[2] ?? ''));
  }
  return values;
}

/** A value as git reads it: quotes removed, `\"`, `\\`, `\n`, `\t` unescaped, comments cut. */
function configValue(text: string): string {
  let out = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') quoted = !quoted;
    else if (c === '\\') {
      const next = text[++i] ?? '';
      out += next === 'n' ? '\n' : next === 't' ? '\t' : next;
    } else if (!quoted && (c === '#' || c === ';')) break;
    else out += c;
  }
  return quoted ? out : out.trim();
}

/** The global config files git reads, lowest precedence first. */
export function globalConfigFiles(env: GitContext['env']): string[] {
  if (env.GIT_CONFIG_GLOBAL !== undefined)
    return env.GIT_CONFIG_GLOBAL ? [env.GIT_CONFIG_GLOBAL] : [];
  const home = env.HOME || undefined;
  const xdg = env.XDG_CONFIG_HOME || (home && `${home}/.config`);
  return [...(xdg ? [`${xdg}/git/config`] : []), ...(home ? [`${home}/.gitconfig`] : [])];
}

/** The global configuration's values; a missing or unreadable file adds none, as in git. */
async function readGlobalConfig(ctx: GitContext): Promise<Map<string, string>> {
  const merged = new Map<string, string>();
  for (const file of globalConfigFiles(ctx.env)) {
    const text = await files(ctx)
      .readFile(file, { encoding: 'utf8' })
      .then(String)
      .catch(() => '');
    for (const [k, v] of parseIdentityConfig(text)) merged.set(k, v);
  }
  return merged;
}

async function readRepoConfig(ctx: GitContext): Promise<Map<string, string>> {
  const values = new Map<string, string>();
  for (const key of [
    'author.name',
    'author.email',
    'committer.name',
    'committer.email',
    'user.name',
    'user.email',
  ]) {
    const value: unknown = await git
      .getConfig({ fs: ctx.fs, gitdir: ctx.gitdir, path: key })
      .catch(() => undefined);
    if (typeof value === 'string') values.set(key, value);
  }
  return values;
}

/** The name and email git would sign a commit with as `role`, or the bot's when none is set. */
export async function defaultIdentity(
  ctx: GitContext,
  role: IdentityRole,
): Promise<{ name: string; email: string }> {
  const { env } = ctx;
  const fromEnv = {
    name: env[role === 'author' ? 'GIT_AUTHOR_NAME' : 'GIT_COMMITTER_NAME'] || undefined,
    email: env[role === 'author' ? 'GIT_AUTHOR_EMAIL' : 'GIT_COMMITTER_EMAIL'] || undefined,
  };
  // One configuration, the repository's values over the global ones; then `author.name` (or
  // `committer.name`) wherever it is set over `user.name`, as git looks them up.
  const config = new Map([...(await readGlobalConfig(ctx)), ...(await readRepoConfig(ctx))]);
  const pick = (field: 'name' | 'email'): string | undefined =>
    config.get(`${role}.${field}`) || config.get(`user.${field}`) || undefined;
  return {
    name: withoutCrud(fromEnv.name ?? pick('name')) || DEFAULT_IDENTITY.name,
    email: withoutCrud(fromEnv.email ?? pick('email') ?? env.EMAIL) || DEFAULT_IDENTITY.email,
  };
}

/** `Grace H. ` → `Grace H`: git drops `.,:;<>"'` and white space at the ends, and `<>` inside. */
function withoutCrud(text: string | undefined): string {
  return (text ?? '').replace(/^[\s.,:;<>"']+|[\s.,:;<>"']+$/g, '').replace(/[<>\n]/g, '');
}
