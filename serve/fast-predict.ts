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

function ignore(): void {}

/** One request on the fast path, from its headers to its answer. */
class Exchange {
  readonly #deps: AppDeps;
  readonly #res: ServerResponse;
  readonly #route: string;
  readonly #path: string;
  readonly #pathModel: string | undefined;
  /** The body's length, from Content-Length. */
  readonly #length: number;
  readonly #started = performance.now();
  /** Taken once, when the request starts: one version answers it. */
  readonly #state: ServingState;
  #received = 0;
  /** The body's chunks before the last one (none when it comes in one, as it usually does). */
  #chunks: Buffer[] | undefined;

  constructor(
    deps: AppDeps,
    res: ServerResponse,
    route: string,
    path: string,
    pathModel: string | undefined,
    length: number,
  ) {
    this.#deps = deps;
    this.#res = res;
    this.#route = route;
    this.#path = path;
    this.#pathModel = pathModel;
    this.#length = length;
    this.#state = deps.state();
  }

  get complete(): boolean {
    return this.#received === this.#length;
  }

  /**
   * A chunk of the body. The answer goes out with the body's last byte (Content-Length says
   * which), without waiting for the stream's `end` a tick later.
   */
  take(chunk: Buffer): void {
    this.#received += chunk.length;
    if (this.#received < this.#length) {
      (this.#chunks ??= []).push(chunk);
    } else if (this.#received === this.#length) {
      const chunks = this.#chunks;
      this.answer(
        (chunks === undefined ? chunk : Buffer.concat([...chunks, chunk])).toString('utf8'),
      );
    }
  }

  answer(text: string): void {
    const { metrics, log, limits } = this.#deps;
    const route = this.#route;
    const picked: Picked = { model: undefined };
    let status = 200;
    let body: string;
    try {
      body = answerPredict(
        this.#state,
        parseJsonBody(text),
        this.#pathModel,
        limits.batchRows,
        metrics,
        picked,
      );
    } catch (err) {
      if (err instanceof RequestError) {
        status = err.status;
        body = JSON.stringify(err.toJSON());
        metrics.error(route, err.code);
      } else {
        status = 500;
        body = JSON.stringify({
          error: 'internal server error: see the server log',
          code: 'internal',
        });
        metrics.error(route, 'internal');
        log.error({ err, method: 'POST', path: this.#path }, 'internal error');
      }
    }
    const model = picked.model;
    let version: string;
    let commit: string;
    if (model === undefined) {
      const h = stateHeaders(this.#state);
      version = h.versions;
      commit = h.commit;
    } else {
      version = `${model.name}@${model.version}`;
      commit = model.commit;
    }
    // One writeHead and one end: the header and the body leave in one write. Headers as a
    // flat list: node writes them in order without walking an object's keys.
    this.#res.writeHead(status, [
      'content-type',
      'application/json',
      'content-length',
      String(Buffer.byteLength(body)),
      VERSION_HEADER,
      version,
      COMMIT_HEADER,
      commit,
    ]);
    this.#res.end(body);
    const seconds = (performance.now() - this.#started) / 1000;
    metrics.request('POST', route, status, seconds);
    if (log.isLevelEnabled('debug')) {
      const ms = Math.round(seconds * 1e4) / 10;
      log.debug({ method: 'POST', path: this.#path, route, status, ms, model: version }, 'request');
    }
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
      (type !== 'application/json' && !JSON_TYPE.test(type)) ||
      length === undefined ||
      req.headers['transfer-encoding'] !== undefined ||
      !/^\d+$/.test(length) ||
      Number(length) > limits.bodyBytes
    ) {
      return false;
    }

    const exchange = new Exchange(deps, res, route, path, pathModel, Number(length));
    if (exchange.complete) {
      exchange.answer('');
    } else {
      // An arrow made here, not a named function: tsx (esbuild's keepNames) would wrap a named
      // one in a helper on every request.
      req.on('data', (chunk: Buffer) => exchange.take(chunk));
    }
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
