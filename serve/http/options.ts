/**
 * The server's configuration from command-line flags and environment variables (a flag wins
 * over its variable). Pure: takes argv, env and the working directory, returns a value or
 * throws `UsageError` with what to change.
 */
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

import { UsageError } from '../../pipeline/errors.ts';
import { DEFAULT_DATA_DIR, LOG_FILE_NAME } from '../../pipeline/log/store.ts';
import { parseDuration } from '../../pipeline/log/window.ts';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
const LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Where the registry is read from. */
export type RepoConfig =
  | { kind: 'local'; dir: string }
  | { kind: 'remote'; url: string; cacheDir: string; token: string | undefined };

export interface ServeConfig {
  repo: RepoConfig;
  ref: string;
  /** Milliseconds between polls; 0 turns polling off (webhooks only). */
  pollMs: number;
  webhookSecret: string | undefined;
  host: string;
  port: number;
  /** Largest request body; undefined: sized from the batch limit and the served models. */
  bodyLimitBytes: number | undefined;
  batchLimit: number;
  /** How long a client may take to send a whole request (node's `requestTimeout`; 408 after). */
  requestTimeoutMs: number;
  /** How long a client may take to send a request's headers (node's `headersTimeout`). */
  headersTimeoutMs: number;
  logLevel: LogLevel;
  /** How long shutdown waits for in-flight requests before closing connections. */
  shutdownMs: number;
  /** Where the server keeps its state (the prediction log's database). */
  dataDir: string;
  /** The prediction log; undefined when it is off. */
  predictionLog: PredictionLogConfig | undefined;
  /** The token `/logs` and `/feedback` require; undefined: they are off. */
  adminToken: string | undefined;
}

/** How the prediction log records, keeps and reads back. */
export interface PredictionLogConfig {
  /** The SQLite file. */
  file: string;
  logInputs: boolean;
  /** The share of requests recorded, in (0, 1]. */
  sampleRate: number;
  retentionMs: number;
  maxRows: number;
  liveIntervalMs: number;
  liveWindowMs: number;
}

/** The flags, their variables and defaults, as `--help` prints them. */
export const USAGE = `Usage: pinml-serve [options]

Serves the model versions the registry pins at a git ref, and follows the ref.

Options (flag, then environment variable; a flag wins):
  --repo <path|url>          PINML_REPO             repository to serve: a local path (default: the
                                                    current folder) or an https:// URL, cloned shallow
                                                    and single-branch, then fetched on every poll
  --ref <branch>             PINML_REF              branch to follow (default: main)
  --poll-interval <seconds>  PINML_POLL_INTERVAL    seconds between polls; 0 = webhooks only (default: 15)
  --webhook-secret <secret>  PINML_WEBHOOK_SECRET   GitHub webhook secret; enables POST /webhooks/github
                                                    (prefer the variable: flags show in process lists)
  --host <address>           PINML_HOST             address to listen on (default: 0.0.0.0)
  --port <n>                 PORT, PINML_PORT       port to listen on, 0 = any free one (default: 8080)
  --body-limit <size>        PINML_BODY_LIMIT       largest request body: bytes, or 512kb, 1mb (default: what
                                                    a full batch of the served models' rows needs:
                                                    224kb for 1000 Iris rows)
  --batch-limit <rows>       PINML_BATCH_LIMIT      most rows in one prediction request (default: 1000)
  --request-timeout <s>      PINML_REQUEST_TIMEOUT  seconds a client may take to send a whole request;
                                                    408 and the connection closes after (default: 30)
  --headers-timeout <s>      PINML_HEADERS_TIMEOUT  seconds a client may take to send a request's
                                                    headers (default: 10)
  --log-level <level>        PINML_LOG_LEVEL        fatal, error, warn, info, debug (one line per
                                                    request), trace or silent (default: info)
  --cache-dir <path>         PINML_CACHE_DIR        where a remote is cloned (default: a folder per URL
                                                    and ref under the system's temporary folder)
  --shutdown-timeout <s>     PINML_SHUTDOWN_TIMEOUT seconds to finish in-flight requests on SIGTERM (default: 10)
  --data-dir <path>          PINML_DATA_DIR         where the server keeps its state: the prediction log
                                                    (default: .pinml/serve under the current folder)
  --prediction-log <on|off>  PINML_PREDICTION_LOG   record every answered row (default: on)
  --log-inputs <on|off>      PINML_LOG_INPUTS       record the inputs too (default: on)
  --log-sample <rate>        PINML_LOG_SAMPLE       share of requests recorded, 0 < rate <= 1 (default: 1)
  --log-retention <dur>      PINML_LOG_RETENTION    how long rows are kept: 90s, 15m, 24h, 30d (default: 30d)
  --log-max-rows <n>         PINML_LOG_MAX_ROWS     most rows kept (default: 10000000)
  --live-interval <s>        PINML_LIVE_INTERVAL    seconds between live-quality computations (default: 60)
  --live-window <dur>        PINML_LIVE_WINDOW      the window live quality covers (default: 24h)
  -h, --help                                        print this help

Environment only:
  PINML_GIT_TOKEN or GITHUB_TOKEN   token for an https remote (sent as GitHub expects; never logged)
  PINML_ADMIN_TOKEN                 bearer token of GET /logs and POST /feedback (off without one)
`;

const OPTIONS = {
  repo: { type: 'string' },
  ref: { type: 'string' },
  'poll-interval': { type: 'string' },
  'webhook-secret': { type: 'string' },
  host: { type: 'string' },
  port: { type: 'string' },
  'body-limit': { type: 'string' },
  'batch-limit': { type: 'string' },
  'log-level': { type: 'string' },
  'cache-dir': { type: 'string' },
  'shutdown-timeout': { type: 'string' },
  'request-timeout': { type: 'string' },
  'data-dir': { type: 'string' },
  'prediction-log': { type: 'string' },
  'log-inputs': { type: 'string' },
  'log-sample': { type: 'string' },
  'log-retention': { type: 'string' },
  'log-max-rows': { type: 'string' },
  'live-interval': { type: 'string' },
  'live-window': { type: 'string' },
  'headers-timeout': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** `--help` asked for: print {@link USAGE}. */
export const HELP = Symbol('help');

/** Reads the configuration; `HELP` when `--help` was given. */
export function parseConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
): ServeConfig | typeof HELP {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: joinNegativeValues(argv),
      options: OPTIONS,
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError(`${(err as Error).message} (see --help)`);
  }
  if (values.help === true) return HELP;
  const pick = (flag: keyof typeof OPTIONS, ...vars: string[]): string | undefined => {
    const v = values[flag];
    if (typeof v === 'string') return v;
    for (const name of vars) {
      const e = env[name];
      if (e !== undefined && e !== '') return e;
    }
    return undefined;
  };
  const where = (flag: string, variable: string): string => `--${flag} (${variable})`;

  const number = (
    flag: keyof typeof OPTIONS,
    variable: string,
    fallback: number,
    check: (n: number) => boolean,
    rule: string,
  ): number => {
    const text = pick(flag, variable);
    if (text === undefined) return fallback;
    const n = Number(text);
    if (text.trim() === '' || !Number.isFinite(n) || !check(n)) {
      throw new UsageError(`${where(flag, variable)} must be ${rule}, got ${JSON.stringify(text)}`);
    }
    return n;
  };

  const ref = pick('ref', 'PINML_REF') ?? 'main';
  if (!/^[A-Za-z0-9._/-]+$/.test(ref) || ref.startsWith('-') || ref.includes('..')) {
    throw new UsageError(
      `--ref (PINML_REF) must be a branch name such as main, got ${JSON.stringify(ref)}`,
    );
  }
  const token = env.PINML_GIT_TOKEN || env.GITHUB_TOKEN || undefined;
  const repoText = pick('repo', 'PINML_REPO') ?? cwd;
  let repo: RepoConfig;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(repoText)) {
    const { url, token: urlToken } = splitUrl(repoText);
    const secret = token ?? urlToken;
    if (secret !== undefined && url.protocol === 'http:' && !isLoopback(url.hostname)) {
      throw new UsageError(
        `--repo (PINML_REPO) is plain http://, which would send the token unencrypted: use https://`,
      );
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new UsageError(
        `--repo (PINML_REPO) must be a local path or an https:// URL, got ${url.protocol}`,
      );
    }
    const clean = url.toString();
    const cacheDir =
      pick('cache-dir', 'PINML_CACHE_DIR') ??
      join(
        tmpdir(),
        'pinml-serve',
        createHash('sha256').update(`${clean}\n${ref}`).digest('hex').slice(0, 16),
      );
    repo = { kind: 'remote', url: clean, cacheDir: resolve(cwd, cacheDir), token: secret };
  } else {
    repo = { kind: 'local', dir: resolve(cwd, repoText) };
  }

  const level = (pick('log-level', 'PINML_LOG_LEVEL') ?? 'info') as LogLevel;
  if (!LEVELS.includes(level)) {
    throw new UsageError(
      `--log-level (PINML_LOG_LEVEL) must be one of ${LEVELS.join(', ')}, got ${JSON.stringify(level)}`,
    );
  }
  const portText = values.port ?? (env.PORT || env.PINML_PORT);
  const port = portText === undefined ? 8080 : Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError(
      `--port (PORT, PINML_PORT) must be an integer from 0 to 65535, got ${JSON.stringify(portText)}`,
    );
  }
  const bodyLimit = pick('body-limit', 'PINML_BODY_LIMIT');
  const seconds = (flag: keyof typeof OPTIONS, variable: string, fallback: number): number =>
    Math.round(number(flag, variable, fallback, (n) => n > 0, 'a number of seconds > 0') * 1000);
  const headersTimeoutMs = seconds('headers-timeout', 'PINML_HEADERS_TIMEOUT', 10);
  const requestTimeoutMs = seconds('request-timeout', 'PINML_REQUEST_TIMEOUT', 30);
  if (headersTimeoutMs > requestTimeoutMs) {
    throw new UsageError(
      '--headers-timeout (PINML_HEADERS_TIMEOUT) must not be longer than --request-timeout (PINML_REQUEST_TIMEOUT)',
    );
  }
  const onOff = (flag: keyof typeof OPTIONS, variable: string): boolean => {
    const text = pick(flag, variable) ?? 'on';
    if (text !== 'on' && text !== 'off') {
      throw new UsageError(
        `${where(flag, variable)} must be on or off, got ${JSON.stringify(text)}`,
      );
    }
    return text === 'on';
  };
  const duration = (flag: keyof typeof OPTIONS, variable: string, fallback: string): number => {
    try {
      return parseDuration(pick(flag, variable) ?? fallback, where(flag, variable));
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  };
  const dataDir = resolve(cwd, pick('data-dir', 'PINML_DATA_DIR') ?? DEFAULT_DATA_DIR);
  const predictionLog: PredictionLogConfig | undefined = onOff(
    'prediction-log',
    'PINML_PREDICTION_LOG',
  )
    ? {
        file: join(dataDir, LOG_FILE_NAME),
        logInputs: onOff('log-inputs', 'PINML_LOG_INPUTS'),
        sampleRate: number(
          'log-sample',
          'PINML_LOG_SAMPLE',
          1,
          (n) => n > 0 && n <= 1,
          'a share of requests, 0 < rate <= 1',
        ),
        retentionMs: duration('log-retention', 'PINML_LOG_RETENTION', '30d'),
        maxRows: number(
          'log-max-rows',
          'PINML_LOG_MAX_ROWS',
          10_000_000,
          (n) => Number.isInteger(n) && n >= 1,
          'an integer >= 1',
        ),
        liveIntervalMs: Math.round(
          number(
            'live-interval',
            'PINML_LIVE_INTERVAL',
            60,
            (n) => n > 0,
            'a number of seconds > 0',
          ) * 1000,
        ),
        liveWindowMs: duration('live-window', 'PINML_LIVE_WINDOW', '24h'),
      }
    : undefined;
  return {
    repo,
    ref,
    dataDir,
    predictionLog,
    adminToken: env.PINML_ADMIN_TOKEN || undefined,
    pollMs: Math.round(
      number(
        'poll-interval',
        'PINML_POLL_INTERVAL',
        15,
        (n) => n >= 0,
        'a number of seconds >= 0 (0 = no polling: webhooks only)',
      ) * 1000,
    ),
    webhookSecret: pick('webhook-secret', 'PINML_WEBHOOK_SECRET'),
    host: pick('host', 'PINML_HOST') ?? '0.0.0.0',
    port,
    bodyLimitBytes: bodyLimit === undefined ? undefined : parseSize(bodyLimit),
    batchLimit: number(
      'batch-limit',
      'PINML_BATCH_LIMIT',
      1000,
      (n) => Number.isInteger(n) && n >= 1,
      'an integer >= 1',
    ),
    requestTimeoutMs,
    headersTimeoutMs,
    logLevel: level,
    shutdownMs: Math.round(
      number(
        'shutdown-timeout',
        'PINML_SHUTDOWN_TIMEOUT',
        10,
        (n) => n >= 0,
        'a number of seconds >= 0',
      ) * 1000,
    ),
  };
}

/**
 * `--poll-interval -1` as `--poll-interval=-1`: node's parseArgs takes a value that starts with
 * a dash for an option, and would refuse it as ambiguous instead of saying what is allowed.
 */
function joinNegativeValues(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const next = argv[i + 1];
    const name = arg.startsWith('--') ? arg.slice(2) : undefined;
    const option = name === undefined ? undefined : OPTIONS[name as keyof typeof OPTIONS];
    if (option?.type === 'string' && next !== undefined && /^-\d/.test(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else out.push(arg);
  }
  return out;
}

/** `1048576`, `512kb`, `1mb` (powers of 1024) → bytes. */
export function parseSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|kib|mb|mib)?\s*$/i.exec(text);
  const unit = (m?.[2] ?? 'b').toLowerCase();
  const scale = unit.startsWith('k') ? 1024 : unit.startsWith('m') ? 1024 * 1024 : 1;
  const bytes = m ? Math.floor(Number(m[1]) * scale) : NaN;
  if (!(bytes >= 64)) {
    throw new UsageError(
      `--body-limit (PINML_BODY_LIMIT) must be a size of at least 64 bytes such as 1mb or 65536, got ${JSON.stringify(text)}`,
    );
  }
  return bytes;
}

function splitUrl(text: string): { url: URL; token: string | undefined } {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(
      `--repo (PINML_REPO) is not a URL: ${JSON.stringify(text.replace(/\/\/[^@/]*@/, '//'))}`,
    );
  }
  const token = url.password || url.username || undefined;
  url.username = '';
  url.password = '';
  return { url, token: token === undefined ? undefined : decodeURIComponent(token) };
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '[::1]' || /^127\./.test(host);
}
