/**
 * What a failed clone, fetch or push means, as a pinml git failure: a pure function from what
 * was attempted and the error isomorphic-git (or Node's fetch under it) threw to a reason a
 * caller can branch on, a message that says what to do, and JSON-safe data. `remote.ts` turns
 * the answer into a GitError, redacting the token.
 *
 * The shapes read are isomorphic-git 1.44's: `PushRejectedError` (`data.reason`) when its own
 * fast-forward check refuses a push, `GitPushError` (`data.result`, git's report-status) when
 * the server refuses one, `HttpError` (`data.statusCode`), `UserCanceledError`,
 * `NotFoundError`, `SmartHttpError`; and Node's network codes, also inside an
 * `AggregateError` or an error's `cause` (undici's "fetch failed").
 */
import type { GitFailure } from '../errors.ts';
import { stripCredentials } from './credentials.ts';
import { errorCode, errorData, errorMessage } from './error-shape.ts';

/** What was attempted against a remote. */
export interface RemoteAttempt {
  action: 'clone' | 'fetch' | 'push';
  /** The remote's URL (credentials in it never reach the message). */
  url: string;
  /** The branch fetched or pushed; for a clone, undefined means the default branch. */
  branch?: string | undefined;
  /** The commit pushed. */
  oid?: string | undefined;
  /** The lines the server sent on the sideband (a pre-receive hook's output). */
  messages?: readonly string[] | undefined;
  /** Whether a token was offered. */
  authenticated: boolean;
}

/** A failure as a GitError is built from it. */
export interface RemoteFailure {
  reason: GitFailure;
  message: string;
  data: Record<string, unknown>;
}

/** The Node and undici codes that mean the server could not be reached. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** The codes of a connection that broke once open (one that never opened cannot have pushed). */
const CUT_OFF = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'ETIMEDOUT']);

/** A push refused because the branch moved, as git's report-status words it. */
const MOVED = /non-fast-forward|fetch first|stale info|cannot lock ref|failed to (update|lock)/i;

/** Translates a remote call's error into a pinml failure. */
export function translateRemoteError(attempt: RemoteAttempt, err: unknown): RemoteFailure {
  const url = stripCredentials(attempt.url);
  const repo = repoName(attempt.url);
  const branch = attempt.branch ?? 'the default branch';
  const code = errorCode(err);
  const data = errorData(err);
  const pushed = attempt.oid === undefined ? undefined : attempt.oid.slice(0, 7);
  const what =
    attempt.action === 'push'
      ? `Push of ${pushed ?? 'a commit'} to ${branch} on ${url}`
      : attempt.action === 'fetch'
        ? `Fetch of ${branch} from ${url}`
        : `Clone of ${url}`;
  const remoteSaid = (attempt.messages ?? [])
    .map((line) => line.replace(/\s+$/, ''))
    .filter((line) => line !== '');
  const said = remoteSaid.length > 0 ? ` The server said: "${remoteSaid.join(' ')}".` : '';
  const grant =
    attempt.action === 'push'
      ? `the token needs contents: write on ${repo}, and ${branch} may be a protected branch: allow the pusher or open a pull request.`
      : `the token needs contents: read on ${repo}.`;
  const base = { action: attempt.action, url, branch: attempt.branch, code };
  const fail = (
    reason: GitFailure,
    message: string,
    extra: Record<string, unknown> = {},
  ): RemoteFailure => ({ reason, message, data: { ...base, ...extra } });

  if (code === 'PushRejectedError') {
    const reason = typeof data.reason === 'string' ? data.reason : 'not-fast-forward';
    return fail(
      'not-fast-forward',
      `${what} was rejected: ${branch} on the remote has commits that ${pushed ?? 'the commit'} does not contain (${reason}). Fetch ${branch}, redo the change on its new tip, and push again.`,
    );
  }
  if (code === 'GitPushError') {
    const result = (data.result ?? {}) as {
      ok?: boolean;
      error?: string;
      refs?: Record<string, { ok?: boolean; error?: string }>;
    };
    const refErrors = Object.entries(result.refs ?? {})
      .filter(([, r]) => r.ok !== true)
      .map(([ref, r]) => `${ref}: ${r.error ?? 'refused'}`);
    const detail = [result.ok === false ? (result.error ?? 'unpack failed') : '', ...refErrors]
      .filter((s) => s !== '')
      .join('; ');
    if (MOVED.test(detail)) {
      return fail(
        'not-fast-forward',
        `${what} was rejected because ${branch} moved on the remote (${detail}). Fetch ${branch}, redo the change on its new tip, and push again.${said}`,
        { refused: detail },
      );
    }
    if (result.ok === false) {
      return fail(
        'other',
        `${what} failed: the server could not store the objects (${detail}).${said}`,
        { refused: detail },
      );
    }
    return fail(
      'permission',
      `${what} was refused by the server (${detail}).${said} ${capitalise(grant)}`,
      { refused: detail, remoteMessages: remoteSaid },
    );
  }
  if (code === 'HttpError') {
    const status = typeof data.statusCode === 'number' ? data.statusCode : 0;
    if (status === 401) {
      return fail(
        'auth',
        attempt.authenticated
          ? `${what} failed: the server did not accept the token (HTTP 401). Check that it is valid, not expired, and has access to ${repo}.`
          : `${what} failed: the server needs credentials (HTTP 401). Pass a token (in GitHub Actions, the GITHUB_TOKEN).`,
        { status },
      );
    }
    if (status === 403) {
      return fail('permission', `${what} was forbidden (HTTP 403): ${grant}`, { status });
    }
    if (status === 404) {
      return fail(
        'not-found',
        `${what} failed: there is no repository at ${url} (HTTP 404). Check the URL${attempt.authenticated ? ', and that the token has access to it' : ''}.`,
        { status },
      );
    }
    return fail(
      status >= 500 || status === 429 ? 'network' : 'other',
      `${what} failed: the server answered HTTP ${status}. Retry later; if it persists, check the server.`,
      { status },
    );
  }
  if (code === 'UserCanceledError') {
    return fail(
      'auth',
      `${what} failed: the server did not accept the credentials. Check the token.`,
    );
  }
  if (code === 'NotFoundError') {
    return fail(
      'not-found',
      attempt.branch === undefined
        ? `${what} failed: ${errorMessage(err).replace(/\.+$/, '')}. Check the URL.`
        : `${what} failed: the remote has no branch ${attempt.branch}. Check the branch name, or push it first.`,
    );
  }
  if (code === 'SmartHttpError') {
    return fail(
      'other',
      `${what} failed: the server did not answer as a git smart-HTTP server. Check the URL (it usually ends in .git).`,
    );
  }
  const refusedBy = proxyRefusal(err);
  if (refusedBy !== undefined) {
    const variable = url.startsWith('https:') ? 'HTTPS_PROXY' : 'HTTP_PROXY';
    return fail(
      'network',
      `${what} failed: the proxy (${variable}) answered ${refusedBy} instead of opening a connection to the server${refusedBy === 407 ? ': it wants credentials, or those in the proxy URL are wrong' : ''}. Check ${variable} and NO_PROXY.`,
      { proxyStatus: refusedBy },
    );
  }
  const netCode = networkCode(err);
  const brokenReport = code === 'ParseError' && /unpack/.test(errorMessage(err));
  const cutOff = netCode !== undefined && CUT_OFF.has(netCode);
  if (attempt.action === 'push' && (cutOff || brokenReport)) {
    // The server may have stored the pack and moved the branch before the connection broke
    // (or before it wrote its report): the caller has to look before it tries again.
    return fail(
      'network',
      `${what} was cut off: the connection broke during the push (${netCode ?? 'no report from the server'}), so the push may have landed. Fetch ${branch} to see whether it holds ${pushed ?? 'the commit'} before pushing again.`,
      { code: netCode ?? code, mayHaveLanded: true },
    );
  }
  if (netCode !== undefined) {
    return fail(
      'network',
      `${what} failed: could not connect (${netCode}). Check the URL and the network, then retry.`,
      { code: netCode },
    );
  }
  return fail('other', `${what} failed: ${errorMessage(err)}`);
}

/** `owner/name` of a clone URL, for messages that say which repository needs a permission. */
function repoName(url: string): string {
  try {
    const path = new URL(url).pathname.replace(/^\/+|\/+$/g, '').replace(/\.git$/, '');
    return path === '' ? stripCredentials(url) : path;
  } catch {
    return stripCredentials(url);
  }
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** The network error code in an error (or in one of an AggregateError's errors, or a cause). */
/** The first answer `pick` gives for an error or one of its causes (also inside an AggregateError). */
function inCauses<T>(err: unknown, pick: (e: unknown) => T | undefined): T | undefined {
  const queue: unknown[] = [err];
  for (let i = 0; i < queue.length && i < 20; i++) {
    const e = queue[i];
    const found = pick(e);
    if (found !== undefined) return found;
    if (e instanceof AggregateError) queue.push(...(e.errors as unknown[]));
    if (e instanceof Error && e.cause !== undefined) queue.push(e.cause);
  }
  return undefined;
}

function networkCode(err: unknown): string | undefined {
  return inCauses(err, (e) => {
    const code = errorCode(e);
    return code !== undefined && NETWORK_CODES.has(code) ? code : undefined;
  });
}

/** The status a proxy refused the tunnel with (undici: "Proxy response (407) !== 200 …"). */
function proxyRefusal(err: unknown): number | undefined {
  return inCauses(err, (e) => {
    const m = /Proxy response \((\d{3})\)/.exec(e instanceof Error ? e.message : '');
    return m ? Number(m[1]) : undefined;
  });
}
