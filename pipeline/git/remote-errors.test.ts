import { Errors } from 'isomorphic-git';
import { describe, expect, it } from 'vitest';
import type { GitFailure } from '../errors.ts';
import { translateRemoteError } from './remote-errors.ts';
import type { RemoteAttempt } from './remote-errors.ts';

const URL_ = 'https://github.com/acme/registry.git';
const OID = 'abcdef0123456789abcdef0123456789abcdef01';

const push: RemoteAttempt = {
  action: 'push',
  url: 'https://x-access-token:ghs_inTheUrl@github.com/acme/registry.git',
  branch: 'main',
  oid: OID,
  messages: [],
  authenticated: true,
};
const fetch: RemoteAttempt = { action: 'fetch', url: URL_, branch: 'main', authenticated: true };
const clone: RemoteAttempt = { action: 'clone', url: URL_, authenticated: false };

const PUSH = `Push of abcdef0 to main on ${URL_}`;
const FETCH = `Fetch of main from ${URL_}`;
const CLONE = `Clone of ${URL_}`;
const PUSH_GRANT =
  'the token needs contents: write on acme/registry, and main may be a protected branch: allow the pusher or open a pull request.';

/** git's report-status for a push, as isomorphic-git hands it to GitPushError. */
function refused(
  refs: Record<string, string>,
  unpack?: string,
): InstanceType<typeof Errors.GitPushError> {
  const result = {
    ok: unpack === undefined,
    error: unpack ?? null,
    refs: Object.fromEntries(
      Object.entries(refs).map(([ref, error]) => [ref, { ok: false, error }]),
    ),
  };
  return new Errors.GitPushError('', result);
}

/** A Node network error with its code, as `net` raises it. */
function netError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

/** undici's "fetch failed", with the socket's error as its cause. */
function fetchFailed(cause: unknown): Error {
  return new TypeError('fetch failed', { cause });
}

interface Row {
  name: string;
  attempt: RemoteAttempt;
  error: unknown;
  reason: GitFailure;
  message: string;
  data?: Record<string, unknown>;
}

// One row per failure the translation tells apart, in the order it checks them.
const rows: Row[] = [
  {
    name: 'a push the client finds behind the remote (PushRejectedError) as not-fast-forward',
    attempt: push,
    error: new Errors.PushRejectedError('not-fast-forward'),
    reason: 'not-fast-forward',
    message: `${PUSH} was rejected: main on the remote has commits that abcdef0 does not contain (not-fast-forward). Fetch main, redo the change on its new tip, and push again.`,
    data: { action: 'push', url: URL_, branch: 'main', code: 'PushRejectedError' },
  },
  {
    name: 'a PushRejectedError for another reason as not-fast-forward naming that reason',
    attempt: push,
    error: new Errors.PushRejectedError('tag-exists'),
    reason: 'not-fast-forward',
    message: `${PUSH} was rejected: main on the remote has commits that abcdef0 does not contain (tag-exists). Fetch main, redo the change on its new tip, and push again.`,
  },
  {
    name: 'a push the server refuses because the ref moved (lost race) as not-fast-forward',
    attempt: { ...push, messages: ['error: cannot lock ref\n'] },
    error: refused({ 'refs/heads/main': 'failed to update ref' }),
    reason: 'not-fast-forward',
    message: `${PUSH} was rejected because main moved on the remote (refs/heads/main: failed to update ref). Fetch main, redo the change on its new tip, and push again. The server said: "error: cannot lock ref".`,
    data: { refused: 'refs/heads/main: failed to update ref', code: 'GitPushError' },
  },
  {
    name: 'a push the server refuses as non-fast-forward as not-fast-forward',
    attempt: push,
    error: refused({ 'refs/heads/main': 'non-fast-forward' }),
    reason: 'not-fast-forward',
    message: `${PUSH} was rejected because main moved on the remote (refs/heads/main: non-fast-forward). Fetch main, redo the change on its new tip, and push again.`,
  },
  {
    name: 'a push whose objects the server could not unpack as other',
    attempt: push,
    error: refused({ 'refs/heads/main': 'unpacker error' }, 'index-pack abnormal exit'),
    reason: 'other',
    message: `${PUSH} failed: the server could not store the objects (index-pack abnormal exit; refs/heads/main: unpacker error).`,
    data: { refused: 'index-pack abnormal exit; refs/heads/main: unpacker error' },
  },
  {
    name: 'a push a pre-receive hook declines (a protected branch) as permission, with what the server said',
    attempt: {
      ...push,
      messages: ['error: GH006: Protected branch update failed for refs/heads/main.   \n', '\n'],
    },
    error: refused({ 'refs/heads/main': 'pre-receive hook declined' }),
    reason: 'permission',
    message: `${PUSH} was refused by the server (refs/heads/main: pre-receive hook declined). The server said: "error: GH006: Protected branch update failed for refs/heads/main.". T${PUSH_GRANT.slice(1)}`,
    data: {
      refused: 'refs/heads/main: pre-receive hook declined',
      remoteMessages: ['error: GH006: Protected branch update failed for refs/heads/main.'],
    },
  },
  {
    name: 'HTTP 401 with a token as auth: the token was refused',
    attempt: fetch,
    error: new Errors.HttpError(401, 'Unauthorized', ''),
    reason: 'auth',
    message: `${FETCH} failed: the server did not accept the token (HTTP 401). Check that it is valid, not expired, and has access to acme/registry.`,
    data: { status: 401, code: 'HttpError' },
  },
  {
    name: 'HTTP 401 without a token as auth: credentials are needed',
    attempt: clone,
    error: new Errors.HttpError(401, 'Unauthorized', ''),
    reason: 'auth',
    message: `${CLONE} failed: the server needs credentials (HTTP 401). Pass a token (in GitHub Actions, the GITHUB_TOKEN).`,
  },
  {
    name: 'HTTP 403 on a push as permission: the token needs write access',
    attempt: push,
    error: new Errors.HttpError(403, 'Forbidden', ''),
    reason: 'permission',
    message: `${PUSH} was forbidden (HTTP 403): ${PUSH_GRANT}`,
    data: { status: 403 },
  },
  {
    name: 'HTTP 403 on a fetch as permission: the token needs read access',
    attempt: fetch,
    error: new Errors.HttpError(403, 'Forbidden', ''),
    reason: 'permission',
    message: `${FETCH} was forbidden (HTTP 403): the token needs contents: read on acme/registry.`,
  },
  {
    name: 'HTTP 404 with a token as not-found, naming the token',
    attempt: fetch,
    error: new Errors.HttpError(404, 'Not Found', ''),
    reason: 'not-found',
    message: `${FETCH} failed: there is no repository at ${URL_} (HTTP 404). Check the URL, and that the token has access to it.`,
    data: { status: 404 },
  },
  {
    name: 'HTTP 404 without a token as not-found',
    attempt: clone,
    error: new Errors.HttpError(404, 'Not Found', ''),
    reason: 'not-found',
    message: `${CLONE} failed: there is no repository at ${URL_} (HTTP 404). Check the URL.`,
  },
  {
    name: 'HTTP 5xx as network',
    attempt: fetch,
    error: new Errors.HttpError(503, 'Service Unavailable', ''),
    reason: 'network',
    message: `${FETCH} failed: the server answered HTTP 503. Retry later; if it persists, check the server.`,
    data: { status: 503 },
  },
  {
    name: 'HTTP 429 (rate limited) as network',
    attempt: fetch,
    error: new Errors.HttpError(429, 'Too Many Requests', ''),
    reason: 'network',
    message: `${FETCH} failed: the server answered HTTP 429. Retry later; if it persists, check the server.`,
  },
  {
    name: 'another HTTP status as other',
    attempt: fetch,
    error: new Errors.HttpError(400, 'Bad Request', ''),
    reason: 'other',
    message: `${FETCH} failed: the server answered HTTP 400. Retry later; if it persists, check the server.`,
  },
  {
    name: 'credentials refused after onAuth (UserCanceledError) as auth',
    attempt: fetch,
    error: new Errors.UserCanceledError(),
    reason: 'auth',
    message: `${FETCH} failed: the server did not accept the credentials. Check the token.`,
  },
  {
    name: 'a missing remote branch (NotFoundError) as not-found naming the branch',
    attempt: fetch,
    error: new Errors.NotFoundError('refs/heads/main'),
    reason: 'not-found',
    message: `${FETCH} failed: the remote has no branch main. Check the branch name, or push it first.`,
  },
  {
    name: 'a NotFoundError on a clone of the default branch as not-found',
    attempt: clone,
    error: new Errors.NotFoundError('HEAD'),
    reason: 'not-found',
    message: `${CLONE} failed: Could not find HEAD. Check the URL.`,
  },
  {
    name: 'a server that does not speak smart HTTP as other',
    attempt: clone,
    error: new Errors.SmartHttpError('<!DOCTYPE html>', ''),
    reason: 'other',
    message: `${CLONE} failed: the server did not answer as a git smart-HTTP server. Check the URL (it usually ends in .git).`,
  },
  {
    name: 'a refused connection as network',
    attempt: clone,
    error: fetchFailed(netError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:443')),
    reason: 'network',
    message: `${CLONE} failed: could not connect (ECONNREFUSED). Check the URL and the network, then retry.`,
    data: { code: 'ECONNREFUSED' },
  },
  {
    name: 'a refused connection to every address (AggregateError) as network',
    attempt: fetch,
    error: fetchFailed(
      new AggregateError([
        netError('ECONNREFUSED', 'connect ECONNREFUSED ::1:443'),
        netError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:443'),
      ]),
    ),
    reason: 'network',
    message: `${FETCH} failed: could not connect (ECONNREFUSED). Check the URL and the network, then retry.`,
  },
  {
    name: 'an unknown host as network',
    attempt: fetch,
    error: fetchFailed(netError('ENOTFOUND', 'getaddrinfo ENOTFOUND github.invalid')),
    reason: 'network',
    message: `${FETCH} failed: could not connect (ENOTFOUND). Check the URL and the network, then retry.`,
  },
  {
    name: 'a push whose socket closed mid-answer (undici) as network that may have landed',
    attempt: push,
    error: fetchFailed(netError('UND_ERR_SOCKET', 'other side closed')),
    reason: 'network',
    message: `${PUSH} was cut off: the connection broke during the push (UND_ERR_SOCKET), so the push may have landed. Fetch main to see whether it holds abcdef0 before pushing again.`,
    data: { mayHaveLanded: true },
  },
  {
    name: 'a push whose report-status never came (the server died reading the pack)',
    attempt: push,
    error: Object.assign(
      new Error('Expected "unpack ok" or "unpack [error message]" but received "".'),
      { code: 'ParseError' },
    ),
    reason: 'network',
    message: `${PUSH} was cut off: the connection broke during the push (no report from the server), so the push may have landed. Fetch main to see whether it holds abcdef0 before pushing again.`,
  },
  {
    name: 'a fetch whose socket closed mid-answer as network',
    attempt: fetch,
    error: fetchFailed(netError('UND_ERR_SOCKET', 'other side closed')),
    reason: 'network',
    message: `${FETCH} failed: could not connect (UND_ERR_SOCKET). Check the URL and the network, then retry.`,
  },
  {
    name: 'a push whose connection was refused as network that did not land',
    attempt: push,
    error: fetchFailed(netError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:9')),
    reason: 'network',
    message: `${PUSH} failed: could not connect (ECONNREFUSED). Check the URL and the network, then retry.`,
  },
  {
    name: 'a tunnel the proxy refuses (undici ProxyAgent) as network, naming the variable',
    attempt: fetch,
    error: fetchFailed(new Error('Proxy response (407) !== 200 when HTTP Tunneling')),
    reason: 'network',
    message: `${FETCH} failed: the proxy (HTTPS_PROXY) answered 407 instead of opening a connection to the server: it wants credentials, or those in the proxy URL are wrong. Check HTTPS_PROXY and NO_PROXY.`,
    data: { proxyStatus: 407 },
  },
  {
    name: 'anything else as other, with its message',
    attempt: push,
    error: new Error('Something unexpected'),
    reason: 'other',
    message: `${PUSH} failed: Something unexpected`,
  },
];

describe('translateRemoteError', () => {
  it.each(rows)('translates $name', ({ attempt, error, reason, message, data }) => {
    const failure = translateRemoteError(attempt, error);
    expect(failure.reason).toBe(reason);
    expect(failure.message).toBe(message);
    if (data !== undefined) expect(failure.data).toMatchObject(data);
    expect(JSON.stringify(failure)).not.toContain('ghs_inTheUrl');
  });

  it('covers every reason a remote call can fail with', () => {
    expect(new Set(rows.map((row) => row.reason))).toEqual(
      new Set(['not-fast-forward', 'permission', 'auth', 'not-found', 'network', 'other']),
    );
  });
});
