/**
 * `GET /logs`: pages through the prediction log, oldest first, as NDJSON (one row per line) or
 * CSV (`format=csv` or `Accept: text/csv`), filtered by model, version, pin, time range and
 * whether feedback exists; the next page starts after the cursor in `X-Pinml-Next-Cursor`. Needs
 * the admin token.
 */
import { z } from '@hono/zod-openapi';
import { stringify } from 'csv-stringify/sync';

import {
  LOG_CURSOR_HEADER,
  type LogQuery,
  type LoggedRow,
  type Pin,
} from '../../pipeline/log/store.ts';
import { parseInstant } from '../../pipeline/log/window.ts';
import { respond } from '../answer/respond.ts';
import { requireAdmin } from '../http/auth.ts';
import { RequestError, invalidInput } from '../http/errors.ts';
import { declare, errorResponses, type Routes } from './declare.ts';

const PINS: readonly Pin[] = ['production', 'canary', 'shadow'];
const MAX_PAGE = 10_000;

/** Reads the query string into a log query; 400 naming the parameter for a bad value. */
export function readLogQuery(q: Record<string, string | undefined>, now: number): LogQuery {
  const known = [
    'model',
    'version',
    'pin',
    'from',
    'until',
    'since',
    'labelled',
    'after',
    'limit',
    'format',
  ];
  for (const key of Object.keys(q)) {
    if (!known.includes(key))
      throw invalidInput(key, `is not a parameter of /logs (${known.join(', ')})`);
  }
  const int = (name: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined => {
    const text = q[name];
    if (text === undefined) return undefined;
    const n = Number(text);
    if (!/^\d+$/.test(text) || n < min || n > max) {
      throw invalidInput(
        name,
        `must be a whole number from ${min}${max < Number.MAX_SAFE_INTEGER ? ` to ${max}` : ''}, got ${JSON.stringify(text)}`,
      );
    }
    return n;
  };
  const instant = (name: string): number | undefined => {
    const text = q[name];
    if (text === undefined) return undefined;
    try {
      return parseInstant(text, name, now);
    } catch (err) {
      throw invalidInput(name, (err as Error).message.replace(`${name} `, ''));
    }
  };
  const pin = q.pin;
  if (pin !== undefined && !(PINS as readonly string[]).includes(pin)) {
    throw invalidInput('pin', `must be one of ${PINS.join(', ')}, got ${JSON.stringify(pin)}`);
  }
  const labelled = q.labelled;
  if (labelled !== undefined && labelled !== 'true' && labelled !== 'false') {
    throw invalidInput('labelled', `must be true or false, got ${JSON.stringify(labelled)}`);
  }
  const format = q.format;
  if (format !== undefined && format !== 'ndjson' && format !== 'csv') {
    throw invalidInput('format', `must be ndjson or csv, got ${JSON.stringify(format)}`);
  }
  return {
    model: q.model,
    version: int('version', 1),
    pin: pin as Pin | undefined,
    from: instant('from') ?? instant('since'),
    until: instant('until'),
    labelled: labelled === undefined ? undefined : labelled === 'true',
    after: int('after', 0),
    limit: int('limit', 1, MAX_PAGE) ?? 1000,
  };
}

/** A page as CSV: the fixed columns, then `input.<feature>` and `probability.<class>` columns. */
export function logCsv(rows: readonly LoggedRow[]): string {
  const inputs: string[] = [];
  const classes: string[] = [];
  for (const r of rows) {
    for (const f of Object.keys(r.inputs ?? {})) if (!inputs.includes(f)) inputs.push(f);
    for (const k of Object.keys(r.probabilities)) if (!classes.includes(k)) classes.push(k);
  }
  const header = [
    'seq',
    'id',
    'time',
    'model',
    'version',
    'commit',
    'pin',
    'class',
    'label',
    'latency_ms',
    'sample_rate',
    ...inputs.map((f) => `input.${f}`),
    ...classes.map((k) => `probability.${k}`),
  ];
  const records = rows.map((r) => [
    r.seq,
    r.id,
    new Date(r.time).toISOString(),
    r.model,
    r.version,
    r.commit,
    r.pin,
    r.class,
    r.label ?? '',
    r.latencyMs,
    r.sampleRate,
    ...inputs.map((f) => r.inputs?.[f] ?? ''),
    ...classes.map((k) => r.probabilities[k] ?? ''),
  ]);
  return stringify([header, ...records]);
}

/** The route. */
export const logRoutes: Routes = (app, deps) => {
  declare(
    app,
    {
      method: 'get',
      path: '/logs',
      tags: ['monitoring'],
      summary: 'The prediction log, oldest first, as NDJSON or CSV, page by page',
      security: [{ bearer: [] }],
      request: {
        query: z.object({
          model: z.string().optional(),
          version: z.string().optional(),
          pin: z.enum(['production', 'canary', 'shadow']).optional(),
          from: z.string().optional().describe('ISO 8601, or a duration ago (24h)'),
          until: z.string().optional(),
          labelled: z.enum(['true', 'false']).optional(),
          after: z
            .string()
            .optional()
            .describe(`The cursor of the previous page (${LOG_CURSOR_HEADER})`),
          limit: z.string().optional().describe(`Rows per page, 1 to ${MAX_PAGE} (1000)`),
          format: z.enum(['ndjson', 'csv']).optional(),
        }),
      },
      responses: {
        200: {
          description: 'Rows; the next page starts after X-Pinml-Next-Cursor',
          content: {
            'application/x-ndjson': { schema: z.string() },
            'text/csv': { schema: z.string() },
          },
        },
        ...errorResponses(400, 401, 404, 503),
      },
    },
    requireAdmin(deps.adminToken, '/logs'),
    async (c) => {
      const recorder = deps.recorder;
      if (recorder === undefined) {
        throw new RequestError(
          'log_off',
          'the prediction log is off (--prediction-log off): there is nothing to read',
        );
      }
      const query = readLogQuery(c.req.query(), Date.now());
      const csv =
        c.req.query('format') === 'csv' ||
        (c.req.query('format') === undefined && /text\/csv/i.test(c.req.header('accept') ?? ''));
      let page;
      try {
        page = await recorder.store.read(query);
      } catch (err) {
        throw new RequestError(
          'log_unavailable',
          `the prediction log cannot be read now: ${(err as Error).message}`,
        );
      }
      const extra = page.next === null ? undefined : { [LOG_CURSOR_HEADER]: String(page.next) };
      if (csv) return respond(c, logCsv(page.rows), 200, 'text/csv; charset=utf-8', extra);
      const text = page.rows.map((r) => `${JSON.stringify(r)}\n`).join('');
      return respond(c, text, 200, 'application/x-ndjson', extra);
    },
  );
};
