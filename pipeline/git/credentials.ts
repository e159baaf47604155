/**
 * Credentials for HTTPS remotes: a token goes to the server as GitHub expects
 * (`x-access-token:<token>`) and never into a message, an error's data or `.git/config`.
 */

const TOKEN_USER = 'x-access-token';

/** Removes `user:password@` from every URL in a text. */
export function stripCredentials(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/gi, '$1');
}

/** A URL without its `user:password@`, and the password (or a lone user name) as a token. */
export function splitCredentials(url: string): { url: string; token?: string } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { url };
  }
  if (parsed.username === '' && parsed.password === '') return { url };
  const secret = decodeURIComponent(parsed.password || parsed.username);
  parsed.username = '';
  parsed.password = '';
  return { url: parsed.toString(), token: secret };
}

/** Redacts URL credentials and `token` (when there is one) from a text. */
export function redact(text: string, token: string | undefined): string {
  const out = stripCredentials(text);
  return token !== undefined && token.length > 0 ? out.split(token).join('***') : out;
}

/** isomorphic-git's `onAuth` for a token; nothing when there is no token. */
export function authCallbacks(token: string | undefined): {
  onAuth?: () => { username: string; password: string };
} {
  if (token === undefined || token === '') return {};
  // No onAuthFailure: a refused token then surfaces as HTTP 401 instead of a retry loop.
  return { onAuth: () => ({ username: TOKEN_USER, password: token }) };
}
