/**
 * A running server's prediction log, read through its `GET /logs` (NDJSON, page by page after
 * the cursor in `X-Pinml-Next-Cursor`, `Authorization: Bearer <PINML_ADMIN_TOKEN>`): its rows,
 * or live-quality counts tallied as the pages come, so no page is kept. `fetch` comes in as a
 * port.
 */
import { PinmlError } from '../errors.ts';
import { QualityTally, rowsOfNdjson } from './counts.ts';
import { LOG_CURSOR_HEADER, type LoggedRow, type QualityCounts } from './store.ts';

/** What to read, from where. */
export interface ServerLogQuery {
  /** The server's base URL (`http://127.0.0.1:8080`, or a prefix behind a proxy). */
  url: string;
  /** The admin token; sent, never shown. */
  token: string;
  model: string;
  version?: number | undefined;
  /** `[from, until)`, milliseconds since the epoch. */
  from: number;
  until: number;
  /** Rows asked for per page (the server's largest page: 10000). */
  pageRows?: number;
}

/**
 * The rows of a server's log over a window, page by page, oldest first; `labelled` keeps the
 * rows with feedback (true) or without (false).
 */
export async function* readServerPages(
  query: ServerLogQuery & { labelled?: boolean | undefined },
  fetchPage: typeof fetch = fetch,
): AsyncGenerator<LoggedRow[]> {
  const base = query.url.endsWith('/') ? query.url : `${query.url}/`;
  const endpoint = new URL('logs', base);
  const where = `${endpoint.origin}${endpoint.pathname}`;
  let after: string | undefined;
  for (let page = 1; ; page++) {
    const url = new URL(endpoint);
    url.searchParams.set('model', query.model);
    if (query.version !== undefined) url.searchParams.set('version', String(query.version));
    url.searchParams.set('from', new Date(query.from).toISOString());
    url.searchParams.set('until', new Date(query.until).toISOString());
    if (query.labelled !== undefined) url.searchParams.set('labelled', String(query.labelled));
    url.searchParams.set('limit', String(query.pageRows ?? 10_000));
    if (after !== undefined) url.searchParams.set('after', after);
    let response: Response;
    try {
      response = await fetchPage(url, {
        headers: { authorization: `Bearer ${query.token}`, accept: 'application/x-ndjson' },
      });
    } catch (err) {
      const cause = (err as Error & { cause?: Error }).cause?.message ?? (err as Error).message;
      throw new PinmlError(
        'E_LOG_STORE',
        `cannot reach ${where}: ${cause} (is the server running at ${query.url}?)`,
        { url: where },
        { cause: err },
      );
    }
    if (!response.ok) throw await refusal(response, where);
    const next = response.headers.get(LOG_CURSOR_HEADER);
    yield rowsOfNdjson(await response.text(), `${where} page ${page}`);
    if (next === null) break;
    if (next === after) {
      throw new PinmlError('E_LOG_STORE', `${where} gave the same cursor ${next} twice`, {
        url: where,
      });
    }
    after = next;
  }
}

/** Live-quality counts of a server's log over a window, grouped as a store's `quality()`. */
export async function readServerCounts(
  query: ServerLogQuery,
  fetchPage: typeof fetch = fetch,
): Promise<QualityCounts[]> {
  const tally = new QualityTally();
  for await (const rows of readServerPages(query, fetchPage))
    for (const row of rows) tally.add(row);
  return tally.counts();
}

/** A refused page as an error that says what to set. */
async function refusal(response: Response, where: string): Promise<PinmlError> {
  const text = await response.text().catch(() => '');
  let said = text.trim().slice(0, 300);
  let code: string | undefined;
  try {
    const body = JSON.parse(text) as { error?: unknown; code?: unknown };
    if (typeof body.error === 'string') said = body.error;
    if (typeof body.code === 'string') code = body.code;
  } catch {
    // not JSON: the text as it came
  }
  const status = response.status;
  const hint =
    status === 401
      ? 'set PINML_ADMIN_TOKEN to the admin token the server was started with'
      : status === 404 && code === 'log_off'
        ? 'start the server with its prediction log on (--prediction-log on)'
        : status === 404
          ? '/logs needs a pinml server started with PINML_ADMIN_TOKEN set (the admin routes are off without it) and its prediction log on'
          : undefined;
  return new PinmlError(
    'E_LOG_STORE',
    `${where} answered ${status}${said === '' ? '' : ` (${said})`}${hint === undefined ? '' : `: ${hint}`}`,
    { url: where, status, ...(code === undefined ? {} : { code }) },
  );
}
