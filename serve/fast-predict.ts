/**
 * `POST /predict` and `POST /models/{name}/predict` answered straight on node:http, in front of
 * the Hono app, with the same code as the Hono routes (`answerPredict`, the same errors, headers,
 * metrics and log line). Why: for a POST, @hono/node-server builds a fetch-style request and
 * response around the body, which costs more CPU than parsing, validating and predicting
 * together (measured in serve/README.md); the prediction routes are the hot path.
 *
 * It takes only the plain case: a JSON content type and a Content-Length within the body limit.
 * Anything else (chunked bodies, a wrong content type, an oversized body, other routes) is left
 * to the Hono app, which answers it as `app.request()` tests show.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

import { getRequestListener } from '@hono/node-server';

import { JSON_TYPE, parseJsonBody } from './body.ts';
import { COMMIT_HEADER, VERSION_HEADER, stateHeaders, type AppDeps } from './context.ts';
import { RequestError } from './errors.ts';
import { answerPredict, type Picked } from './predict.ts';
import type { ServingState } from './reconcile.ts';

const PREDICT = '/predict';
const MODEL_PREDICT = /^\/models\/([^/?#]+)\/predict$/;

/** A node:http handler that answers the request and returns true, or returns false untouched. */
export type FastPath = (req: IncomingMessage, res: ServerResponse) => boolean;

/** The state of one request on the fast path, kept beside its request until it ends. */
interface Exchange extends Picked {
  deps: AppDeps;
  res: ServerResponse;
  route: string;
  path: string;
  pathModel: string | undefined;
  started: number;
  state: ServingState;
  chunks: Buffer[];
}

// Keyed by request, not stored on it: a new property would change the shape of every
// IncomingMessage that node's own http code handles.
const exchanges = new WeakMap<IncomingMessage, Exchange>();

// Listeners are module functions reading their request from `this` (the emitter): no function
// object is made per request (tsx wraps each one made in a name-keeping helper, which shows).
function onData(this: IncomingMessage, chunk: Buffer): void {
  exchanges.get(this)?.chunks.push(chunk);
}

function ignore(): void {}

function onEnd(this: IncomingMessage): void {
  const x = exchanges.get(this);
  if (x === undefined) return;
  exchanges.delete(this);
  const { metrics, log, limits } = x.deps;
  const route = x.route;
  let status = 200;
  let payload: unknown;
  try {
    const chunks = x.chunks;
    const bytes = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
    payload = answerPredict(
      x.state,
      parseJsonBody(bytes.toString('utf8')),
      x.pathModel,
      limits.batchRows,
      metrics,
      x,
    );
  } catch (err) {
    if (err instanceof RequestError) {
      status = err.status;
      payload = err.toJSON();
      metrics.error(route, err.code);
    } else {
      status = 500;
      payload = { error: 'internal server error: see the server log', code: 'internal' };
      metrics.error(route, 'internal');
      log.error({ err, method: 'POST', path: x.path }, 'internal error');
    }
  }
  const body = JSON.stringify(payload);
  const model = x.model;
  const h = stateHeaders(x.state);
  const version = model === undefined ? h.versions : `${model.name}@${model.version}`;
  x.res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    [VERSION_HEADER]: version,
    [COMMIT_HEADER]: model === undefined ? h.commit : model.commit,
  });
  x.res.end(body);
  const seconds = (performance.now() - x.started) / 1000;
  metrics.request('POST', route, status, seconds);
  if (log.isLevelEnabled('debug')) {
    const ms = Math.round(seconds * 1e4) / 10;
    log.debug({ method: 'POST', path: x.path, route, status, ms, model: version }, 'request');
  }
}

/** The fast path for the prediction routes of an app built from `deps`. */
export function createFastPredict(deps: AppDeps): FastPath {
  const { limits } = deps;
  return (req, res) => {
    if (req.method !== 'POST') return false;
    const url = req.url ?? '';
    const query = url.indexOf('?');
    const path = query < 0 ? url : url.slice(0, query);
    let route: string;
    let pathModel: string | undefined;
    if (path === PREDICT) {
      route = PREDICT;
    } else {
      const m = MODEL_PREDICT.exec(path);
      if (m === null) return false;
      route = '/models/:name/predict';
      try {
        pathModel = decodeURIComponent(m[1] as string);
      } catch {
        return false;
      }
    }
    const type = req.headers['content-type'];
    const length = req.headers['content-length'];
    if (
      type === undefined ||
      !JSON_TYPE.test(type) ||
      length === undefined ||
      req.headers['transfer-encoding'] !== undefined ||
      !/^\d+$/.test(length) ||
      Number(length) > limits.bodyBytes
    ) {
      return false;
    }

    exchanges.set(req, {
      deps,
      res,
      route,
      path,
      pathModel,
      started: performance.now(),
      state: deps.state(),
      chunks: [],
      model: undefined,
    });
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', ignore);
    return true;
  };
}

/**
 * The server's node:http listener: the prediction fast path first, then the Hono app (through
 * @hono/node-server, as `serve()` would run it).
 */
export function nodeListener(
  app: { fetch: (request: Request, env: unknown) => Response | Promise<Response> },
  deps: AppDeps,
): (req: IncomingMessage, res: ServerResponse) => void {
  const fast = createFastPredict(deps);
  const hono = getRequestListener(app.fetch);
  return (req, res) => {
    if (!fast(req, res)) void hono(req, res);
  };
}
