/**
 * `POST /feedback`: ground truth for row ids of the prediction log, one `{id, label}` or a list
 * of them, each optionally naming its `model` (needed when several are served). Stored on its
 * own and joined at read time, so it may come before its row is written, days later, or for a
 * row that was not sampled. The same pair again is `unchanged`; a different label for an id
 * `replaced`. A list is answered item by item: a bad item is refused with its field, the others
 * are stored. Needs the admin token.
 */
import { z } from '@hono/zod-openapi';

import type { FeedbackRecord } from '../../pipeline/log/store.ts';
import { pickModel } from '../answer/pick.ts';
import { respond } from '../answer/respond.ts';
import type { AppDeps } from '../deps.ts';
import type { ServingState } from '../follow/reconcile.ts';
import { requireAdmin } from '../http/auth.ts';
import { jsonBody, limitBody, requireJson } from '../http/body.ts';
import { RequestError, describeValue, invalidInput, type ErrorBody } from '../http/errors.ts';
import { declare, errorResponses, jsonBodyOf, jsonResponse, type Routes } from './declare.ts';

/** Most items in one feedback request. */
export const FEEDBACK_BATCH = 10_000;
const FEEDBACK_BODY_BYTES = 2 * 1024 * 1024;

const item = z.object({
  id: z.string().min(1).max(300).describe('The row id, as answered (X-Request-Id, or id:index).'),
  label: z.union([z.string(), z.number()]).describe('The true class.'),
  model: z.string().optional().describe('Needed when the server serves several models.'),
});

/** Checks one item; the record to store, or the refusal naming the field. */
function readItem(
  value: unknown,
  field: string,
  state: ServingState,
  model: string | undefined,
  now: number,
): FeedbackRecord | RequestError {
  try {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw invalidInput(field, `must be {"id": "...", "label": ...}, got ${describeValue(value)}`);
    }
    const v = value as Record<string, unknown>;
    for (const key of Object.keys(v)) {
      if (key !== 'id' && key !== 'label' && key !== 'model') {
        throw invalidInput(`${field}.${key}`, 'is not a field of feedback (id, label, model)');
      }
    }
    if (typeof v.id !== 'string' || v.id === '' || v.id.length > 300) {
      throw invalidInput(
        `${field}.id`,
        `must be a row id (a string of 1 to 300 characters), got ${describeValue(v.id)}`,
      );
    }
    if (typeof v.label !== 'string' && !(typeof v.label === 'number' && Number.isFinite(v.label))) {
      throw invalidInput(
        `${field}.label`,
        `must be a class (a string or a number), got ${describeValue(v.label)}`,
      );
    }
    if (v.model !== undefined && typeof v.model !== 'string') {
      throw invalidInput(`${field}.model`, `must be a model name, got ${describeValue(v.model)}`);
    }
    const served = pickModel(state, v.model ?? model, undefined, `${field}.model`);
    const label = String(v.label);
    if (!served.classKeys.includes(label)) {
      throw invalidInput(
        `${field}.label`,
        `${JSON.stringify(label)} is not a class of ${served.name} (classes: ${served.classKeys.join(', ')})`,
      );
    }
    return { id: v.id, model: served.name, label, time: now };
  } catch (err) {
    if (err instanceof RequestError) return err;
    throw err;
  }
}

/** The routes. */
export const feedbackRoutes: Routes = (app, deps: AppDeps) => {
  declare(
    app,
    {
      method: 'post',
      path: '/feedback',
      tags: ['monitoring'],
      summary: 'Ground truth for logged rows: one {id, label} or a list (answered item by item)',
      security: [{ bearer: [] }],
      request: {
        query: z.object({ model: z.string().optional() }),
        body: jsonBodyOf(z.union([item, z.array(item).max(FEEDBACK_BATCH)]).openapi('Feedback')),
      },
      responses: {
        200: jsonResponse('Stored: created, unchanged or replaced (a list: per item)'),
        ...errorResponses(400, 401, 404, 413, 415, 503),
      },
    },
    requireAdmin(deps.adminToken, '/feedback'),
    limitBody(() => FEEDBACK_BODY_BYTES),
    requireJson,
    async (c) => {
      const recorder = deps.recorder;
      if (recorder === undefined) {
        throw new RequestError(
          'log_off',
          'the prediction log is off (--prediction-log off): feedback has nowhere to go',
        );
      }
      const body = await jsonBody(c);
      const now = Date.now();
      const model = c.req.query('model');
      const state = c.get('state');
      if (!Array.isArray(body)) {
        const read = readItem(body, '(body)', state, model, now);
        if (read instanceof RequestError) throw read;
        const [outcome] = await store(recorder.store, [read]);
        return respond(c, { id: read.id, model: read.model, label: read.label, outcome });
      }
      if (body.length === 0)
        throw invalidInput('(body)', 'is an empty list: send at least one item');
      if (body.length > FEEDBACK_BATCH) {
        throw invalidInput(
          '(body)',
          `has ${body.length} items, over the limit of ${FEEDBACK_BATCH}: split it`,
        );
      }
      const read = body.map((v, i) => readItem(v, `[${i}]`, state, model, now));
      const good = read.filter((r): r is FeedbackRecord => !(r instanceof RequestError));
      const outcomes = await store(recorder.store, good);
      let next = 0;
      const results = read.map((r, index): Record<string, unknown> => {
        if (r instanceof RequestError) return { index, ...(r.toJSON() satisfies ErrorBody) };
        return { index, id: r.id, model: r.model, label: r.label, outcome: outcomes[next++] };
      });
      const count = (outcome: string): number =>
        results.filter((r) => r.outcome === outcome).length;
      return respond(c, {
        results,
        created: count('created'),
        unchanged: count('unchanged'),
        replaced: count('replaced'),
        refused: read.length - good.length,
      });
    },
  );
};

async function store(
  log: { appendFeedback(items: readonly FeedbackRecord[]): Promise<string[]> },
  items: readonly FeedbackRecord[],
): Promise<string[]> {
  if (items.length === 0) return [];
  try {
    return await log.appendFeedback(items);
  } catch (err) {
    throw new RequestError(
      'log_unavailable',
      `the prediction log cannot store feedback now: ${(err as Error).message}`,
    );
  }
}
