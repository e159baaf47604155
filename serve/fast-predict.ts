/**
 * `POST /predict`, `POST /models/{name}/predict` and the Open Inference Protocol's
 * `POST /v2/models/{model}[/versions/{version}]/infer` answered without the Hono app, with the
 * same code as the Hono routes (`answerPredict`, `answerInfer`, the same errors, headers, metrics
 * and log line). Why:
 * for a POST, @hono/node-server builds a fetch-style request and response around the body, which
 * costs more CPU than parsing, validating and predicting together (measured in serve/README.md);
 * the prediction routes are the hot path.
 *
 * Two transports use it: the connection front (serve/front.ts), which answers these requests
 * straight from node's HTTP parser, and `createFastPredict`, the same answer on node:http's
 * request and response objects for a connection the front handed to node:http.
 *
 * Both take only the plain case: a JSON content type and a Content-Length within the body limit.
 * Anything else (chunked bodies, a wrong content type, an oversized body, other routes) is left
 * to the Hono app, which answers it as `app.request()` tests show.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

import { getRequestListener } from '@hono/node-server';

import { JSON_TYPE, parseJsonBody } from './body.ts';
import {
  COMMIT_HEADER,
  VERSION_HEADER,
  errorAnswer,
  recordRequest,
  stateHeaders,
  type AppDeps,
} from './context.ts';
import { answerInfer } from './oip.ts';
import { answerPredict, type Picked } from './predict.ts';
import type { ServingState } from './reconcile.ts';

const PREDICT = '/predict';
const MODEL_PREDICT = /^\/models\/([^/?#]+)\/predict$/;
const INFER = /^\/v2\/models\/([^/?#]+)\/(?:versions\/([^/?#]+)\/)?infer$/;

/** Which prediction route a request goes to. */
export interface PredictTarget {
  /** `predict`: pinml's `/predict` routes; `infer`: the Open Inference Protocol's. */
  kind: 'predict' | 'infer';
  /** The route's metric label, as the Hono app labels it. */
  route: string;
  /** The URL's path, for the log. */
  path: string;
  /** The model the path names, decoded (`/models/{name}/predict`, `/v2/models/{model}/…`). */
  pathModel: string | undefined;
  /** The version the path names (`/v2/models/{model}/versions/{version}/infer`), decoded. */
  pathVersion: string | undefined;
}

/** The prediction route of a POST to `url`, or undefined when it is another route. */
export function predictTarget(url: string): PredictTarget | undefined {
  const query = url.indexOf('?');
  const path = query < 0 ? url : url.slice(0, query);
  if (path === PREDICT) {
    return { kind: 'predict', route: PREDICT, path, pathModel: undefined, pathVersion: undefined };
  }
  try {
    const m = MODEL_PREDICT.exec(path);
    if (m !== null) {
      const pathModel = decodeURIComponent(m[1] as string);
      return {
        kind: 'predict',
        route: '/models/:name/predict',
        path,
        pathModel,
        pathVersion: undefined,
      };
    }
    const i = INFER.exec(path);
    if (i === null) return undefined;
    const version = i[2];
    return {
      kind: 'infer',
      route:
        version === undefined
          ? '/v2/models/:model/infer'
          : '/v2/models/:model/versions/:version/infer',
      path,
      pathModel: decodeURIComponent(i[1] as string),
      pathVersion: version === undefined ? undefined : decodeURIComponent(version),
    };
  } catch {
    return undefined;
  }
}

/**
 * The body's length when a request is the plain case (a JSON content type, a Content-Length
 * within `limit`, no Transfer-Encoding), else undefined: the Hono app answers the rest.
 */
export function plainJsonLength(
  type: string | undefined,
  length: string | undefined,
  transferEncoding: string | undefined,
  limit: number,
): number | undefined {
  if (
    type === undefined ||
    (type !== 'application/json' && !JSON_TYPE.test(type)) ||
    length === undefined ||
    transferEncoding !== undefined ||
    !/^\d+$/.test(length)
  ) {
    return undefined;
  }
  const n = Number(length);
  return n <= limit ? n : undefined;
}

/** A prediction request's answer: status, JSON body, and the version and commit headers. */
export interface PredictAnswer {
  status: number;
  body: string;
  version: string;
  commit: string;
}

/** Answers a prediction request's body, as the Hono route would (errors as 4xx/5xx JSON). */
export function answerPredictBody(
  deps: AppDeps,
  target: PredictTarget,
  state: ServingState,
  text: string,
): PredictAnswer {
  const { metrics, limits } = deps;
  const picked: Picked = { model: undefined };
  let status = 200;
  let body: string;
  try {
    const request = parseJsonBody(text);
    body =
      target.kind === 'predict'
        ? answerPredict(state, request, target.pathModel, limits.batchRows, metrics, picked)
        : answerInfer(
            state,
            request,
            target.pathModel as string,
            target.pathVersion,
            limits.batchRows,
            metrics,
            picked,
          );
  } catch (err) {
    const refused = errorAnswer(err, target.route, deps, { method: 'POST', path: target.path });
    status = refused.status;
    body = JSON.stringify(refused.json);
  }
  const model = picked.model;
  if (model === undefined) {
    const h = stateHeaders(state);
    return { status, body, version: h.versions, commit: h.commit };
  }
  return { status, body, version: `${model.name}@${model.version}`, commit: model.commit };
}

/** Counts an answered prediction request and logs it at debug, as the Hono app does. */
export function recordPredict(
  deps: AppDeps,
  target: PredictTarget,
  answer: PredictAnswer,
  started: number,
): void {
  recordRequest(
    deps,
    {
      method: 'POST',
      path: target.path,
      route: target.route,
      status: answer.status,
      model: answer.version,
    },
    started,
  );
}

/** A node:http handler that answers the request and returns true, or returns false untouched. */
export type FastPath = (req: IncomingMessage, res: ServerResponse) => boolean;

function ignore(): void {}

/** One request on node:http's fast path, from its headers to its answer. */
class Exchange {
  readonly #deps: AppDeps;
  readonly #res: ServerResponse;
  readonly #target: PredictTarget;
  /** The body's length, from Content-Length. */
  readonly #length: number;
  readonly #started = performance.now();
  /** Taken once, when the request starts: one version answers it. */
  readonly #state: ServingState;
  #received = 0;
  /** The body's chunks before the last one (none when it comes in one, as it usually does). */
  #chunks: Buffer[] | undefined;

  constructor(deps: AppDeps, res: ServerResponse, target: PredictTarget, length: number) {
    this.#deps = deps;
    this.#res = res;
    this.#target = target;
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
    const answer = answerPredictBody(this.#deps, this.#target, this.#state, text);
    // One writeHead and one end: the header and the body leave in one write. Headers as a
    // flat list: node writes them in order without walking an object's keys.
    this.#res.writeHead(answer.status, [
      'content-type',
      'application/json',
      'content-length',
      String(Buffer.byteLength(answer.body)),
      VERSION_HEADER,
      answer.version,
      COMMIT_HEADER,
      answer.commit,
    ]);
    this.#res.end(answer.body);
    recordPredict(this.#deps, this.#target, answer, this.#started);
  }
}

/** The node:http fast path for the prediction routes of an app built from `deps`. */
export function createFastPredict(deps: AppDeps): FastPath {
  const { limits } = deps;
  return (req, res) => {
    if (req.method !== 'POST') return false;
    const target = predictTarget(req.url ?? '');
    if (target === undefined) return false;
    const h = req.headers;
    const length = plainJsonLength(
      h['content-type'],
      h['content-length'],
      h['transfer-encoding'],
      limits.bodyBytes,
    );
    if (length === undefined) return false;

    const exchange = new Exchange(deps, res, target, length);
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
 * The node:http listener: the prediction fast path first, then the Hono app (through
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
