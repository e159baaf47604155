/**
 * The server's connections. node:http listens; each connection it accepts is first read by
 * node's own HTTP/1.1 parser (llhttp, the parser node:http runs, with node:http's strictness and
 * header size limit) driven from here. A plain JSON POST to a prediction route is answered right
 * there; at the first request of any other kind the connection is handed to node:http for good,
 * that request included, and node:http (the fast path of serve/fast-predict.ts, then the Hono
 * app) answers it and everything after it.
 *
 * Why: node:http's request and response streams cost a POST more CPU than parsing, validating
 * and predicting together. Measured on the bench's machine (serve/README.md), a bare node:http
 * handler that only reads a JSON body and answers a fixed object reaches 0.6–0.8x the requests/s
 * of Hono's GET hello; answering from the parser's callbacks reaches 1.1–1.5x.
 *
 * What node:http would do for these connections is done here too: keep-alive and
 * `Connection: close` (HTTP/1.0 included), pipelined requests answered in order, 400 (431 for
 * oversized headers) and close on a malformed request, node's headers, request and keep-alive
 * timeouts (the server's `headersTimeout`, `requestTimeout`, `keepAliveTimeout`), back-pressure
 * when a client does not read, and `closeIdleConnections` / `closeAllConnections` for shutdown.
 * Chunked bodies, `Expect`, upgrades, other content types and oversized bodies are handed over.
 */
import { STATUS_CODES, createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';

import { COMMIT_HEADER, VERSION_HEADER, type AppDeps } from './context.ts';
import {
  answerPredictBody,
  nodeListener,
  plainJsonLength,
  predictTarget,
  recordPredict,
  type PredictTarget,
} from './fast-predict.ts';
import type { ServingState } from './reconcile.ts';

/** node's HTTP parser binding, as node:http drives it (lib/_http_common.js, lib/_http_server.js). */
interface HttpParser {
  initialize(type: number, resource: object, maxHeaderSize: number, lenient: number): void;
  /** Bytes parsed, or the parse error (with `code` and `bytesParsed`). */
  execute(data: Buffer): number | (Error & { code?: string });
  free(): void;
  [callback: number]: ((...args: never[]) => unknown) | undefined;
}

interface HttpParserClass {
  new (): HttpParser;
  REQUEST: number;
  kOnMessageBegin: number;
  kOnHeaders: number;
  kOnHeadersComplete: number;
  kOnBody: number;
  kOnMessageComplete: number;
}

/** What the front takes from node:_http_common. */
interface Binding {
  HTTPParser: HttpParserClass;
  /** Method names by llhttp's method number, 0 to 33 (QUERY, 46, comes after them). */
  methods: readonly string[];
}

/** node's parser binding, or why it cannot be used (loaded once, checked before first use). */
function loadParser(): Binding | string {
  try {
    const common = createRequire(import.meta.url)('node:_http_common') as {
      HTTPParser?: HttpParserClass;
      methods?: readonly string[];
    };
    if (typeof common.HTTPParser !== 'function' || !Array.isArray(common.methods)) {
      return 'node:_http_common has no HTTPParser or methods';
    }
    return { HTTPParser: common.HTTPParser, methods: common.methods };
  } catch (err) {
    return `node:_http_common cannot be loaded: ${(err as Error).message}`;
  }
}

const loaded = loadParser();

const POST = 3;
/** llhttp's method numbers above the contiguous range of node's `methods` list. */
const LATE_METHODS: Readonly<Record<number, string>> = { 46: 'QUERY' };

function methodName(methods: readonly string[], code: number): string | undefined {
  return code <= 33 ? methods[code] : LATE_METHODS[code];
}

const IDLE = 0;
const HEAD = 1;
const BODY = 2;

const BAD_REQUEST = 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n';
const HEADERS_TOO_LARGE =
  'HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n';
const TIMEOUT = 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n';
const NOT_IMPLEMENTED = 'HTTP/1.1 501 Not Implemented\r\nConnection: close\r\n\r\n';

let dateSecond = -1;
let dateText = '';
/** The Date header's value, made once a second (as node:http does). */
function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(second * 1000).toUTCString();
  }
  return dateText;
}

/** The headers the front decides on, from llhttp's flat [name, value, ...] list. */
interface PlainHead {
  host?: string;
  'content-type'?: string;
  'content-length'?: string;
  'transfer-encoding'?: string;
  expect?: string;
}

/** The headers the front decides on (each one's first value), in one pass over the list. */
function plainHead(headers: readonly string[]): PlainHead {
  const head: PlainHead = {};
  for (let i = 0; i < headers.length; i += 2) {
    const name = (headers[i] as string).toLowerCase();
    if (
      name === 'host' ||
      name === 'content-type' ||
      name === 'content-length' ||
      name === 'transfer-encoding' ||
      name === 'expect'
    ) {
      head[name] ??= headers[i + 1];
    }
  }
  return head;
}

/** The connections the front reads, and what they share. */
class Front {
  readonly deps: AppDeps;
  readonly server: Server;
  readonly binding: Binding;
  readonly #nodeConnection: (socket: Socket) => void;
  readonly connections = new Set<Connection>();
  #sweep: NodeJS.Timeout | undefined;
  /** Set by closeIdle: every answer from now on closes its connection. */
  closing = false;

  constructor(
    deps: AppDeps,
    server: Server,
    binding: Binding,
    nodeConnection: (socket: Socket) => void,
  ) {
    this.deps = deps;
    this.server = server;
    this.binding = binding;
    this.#nodeConnection = nodeConnection;
    server.on('close', () => {
      clearInterval(this.#sweep);
      this.#sweep = undefined;
    });
  }

  accept(socket: Socket): void {
    this.connections.add(new Connection(this, socket));
    // node:http checks its timeouts on an interval too (connectionsCheckingInterval).
    this.#sweep ??= setInterval(() => this.checkTimeouts(), 1000).unref();
  }

  /** Gives a connection to node:http, with the bytes it must read first. */
  handOver(socket: Socket, bytes: Buffer): void {
    this.#nodeConnection.call(this.server, socket);
    if (socket.isPaused()) socket.resume();
    socket.emit('data', bytes);
  }

  checkTimeouts(): void {
    const now = performance.now();
    const { keepAliveTimeout, headersTimeout, requestTimeout } = this.server;
    for (const c of this.connections) {
      const age = now - c.since;
      if (c.phase === IDLE) {
        // Before its first request a connection has the headers timeout, after one keep-alive's
        // (counted once its answers are all written: a client may read them slowly).
        const limit = c.answered ? keepAliveTimeout : headersTimeout;
        if (c.socket.writableLength > 0) c.since = now;
        else if (limit > 0 && age > limit) c.socket.destroy();
      } else if (
        (c.phase === HEAD && headersTimeout > 0 && age > headersTimeout) ||
        (requestTimeout > 0 && age > requestTimeout)
      ) {
        c.refuse(TIMEOUT, 'request_timeout');
      }
    }
  }

  /** Closes the connections between requests whose answers are all written. */
  closeIdle(): void {
    this.closing = true;
    for (const c of this.connections) {
      if (c.phase === IDLE && c.socket.writableLength === 0) c.socket.destroy();
    }
  }

  closeAll(): void {
    this.closing = true;
    for (const c of this.connections) c.socket.destroy();
  }
}

/** One connection while the front reads it. */
class Connection {
  readonly #front: Front;
  readonly socket: Socket;
  readonly #parser: HttpParser;
  /** IDLE between requests, HEAD while headers come in, BODY after them. */
  phase = IDLE;
  /** When the current phase began (performance.now() ms): the timeouts count from it. */
  since = performance.now();
  /** True once the front answered a request on this connection. */
  answered = false;
  /** Headers and URL given early, when there are many of them (node's parser flushes them). */
  #headers: string[] = [];
  #url = '';
  /** The request being answered here. */
  #target: PredictTarget | undefined;
  #state: ServingState | undefined;
  #keepAlive = true;
  #started = 0;
  #chunks: Buffer[] = [];
  /** The head of the request node:http must answer, once the connection goes to it. */
  #handOver: Buffer | undefined;
  /** True once the connection is closing: later bytes are ignored. */
  #ended = false;

  constructor(front: Front, socket: Socket) {
    this.#front = front;
    this.socket = socket;
    const { HTTPParser } = front.binding;
    const p = new HTTPParser();
    this.#parser = p;
    // 0: node's --max-http-header-size (16 KiB unless set), as node:http's own parser.
    p.initialize(HTTPParser.REQUEST, {}, 0, 0);
    p[HTTPParser.kOnMessageBegin] = () => {
      this.phase = HEAD;
      this.since = performance.now();
    };
    p[HTTPParser.kOnHeaders] = (headers: string[], url: string) => {
      for (const h of headers) this.#headers.push(h);
      this.#url += url;
    };
    p[HTTPParser.kOnHeadersComplete] = (
      major: number,
      minor: number,
      headers: string[] | undefined,
      method: number,
      url: string | undefined,
      _status: unknown,
      _message: unknown,
      upgrade: boolean,
      keepAlive: boolean,
    ) => this.#head(major, minor, headers, method, url, upgrade, keepAlive);
    p[HTTPParser.kOnBody] = (chunk: Buffer) => {
      this.#chunks.push(chunk);
    };
    p[HTTPParser.kOnMessageComplete] = () => {
      if (this.phase === BODY && this.#handOver === undefined && !this.#ended) this.#answer();
    };
    socket.on('data', this.#onData);
    socket.on('end', this.#onEnd);
    socket.on('error', this.#onError);
    socket.on('close', this.#onClose);
  }

  /**
   * The request's head: 0 reads its body here, 2 stops the parser right after the head (as for
   * an upgrade), and the connection goes to node:http.
   */
  #head(
    major: number,
    minor: number,
    headers: string[] | undefined,
    method: number,
    url: string | undefined,
    upgrade: boolean,
    keepAlive: boolean,
  ): number {
    if (headers === undefined) {
      headers = this.#headers;
      this.#headers = [];
    }
    if (url === undefined) {
      url = this.#url;
      this.#url = '';
    }
    const front = this.#front;
    const target = method === POST && !upgrade ? predictTarget(url) : undefined;
    const h = target === undefined ? undefined : plainHead(headers);
    if (
      h !== undefined &&
      h.expect === undefined &&
      // node:http refuses an HTTP/1.1 request without Host (400): it answers those.
      (minor !== 1 || major !== 1 || h.host !== undefined) &&
      plainJsonLength(
        h['content-type'],
        h['content-length'],
        h['transfer-encoding'],
        front.deps.limits.bodyBytes,
      ) !== undefined
    ) {
      this.phase = BODY;
      this.#target = target;
      this.#state = front.deps.state();
      this.#keepAlive = keepAlive;
      this.#started = performance.now();
      return 0;
    }
    const name = methodName(front.binding.methods, method);
    if (name === undefined) {
      this.refuse(NOT_IMPLEMENTED, 'unknown_method');
      return 2;
    }
    // The head again, as the client sent it (llhttp checked every byte of it), for node:http.
    let head = `${name} ${url} HTTP/${major}.${minor}\r\n`;
    for (let i = 0; i < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`;
    this.#handOver = Buffer.from(`${head}\r\n`, 'latin1');
    return 2;
  }

  #answer(): void {
    const target = this.#target as PredictTarget;
    const chunks = this.#chunks;
    const text =
      chunks.length === 0
        ? ''
        : (chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)).toString('utf8');
    this.#chunks = [];
    const front = this.#front;
    const answer = answerPredictBody(front.deps, target, this.#state as ServingState, text);
    this.#state = undefined;
    const close = !this.#keepAlive || front.closing;
    const socket = this.socket;
    const out =
      `HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status] ?? ''}\r\n` +
      `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(answer.body)}\r\n` +
      `${VERSION_HEADER}: ${answer.version}\r\n${COMMIT_HEADER}: ${answer.commit}\r\n` +
      `Date: ${httpDate()}\r\n` +
      (close
        ? 'Connection: close\r\n\r\n'
        : `Connection: keep-alive\r\nKeep-Alive: timeout=${Math.floor(front.server.keepAliveTimeout / 1000)}\r\n\r\n`) +
      answer.body;
    this.phase = IDLE;
    this.since = performance.now();
    this.answered = true;
    if (close) {
      this.#ended = true;
      socket.end(out);
    } else if (!socket.write(out) && !socket.isPaused()) {
      // The client is not reading its answers: stop reading its requests until it does.
      socket.pause();
      socket.once('drain', () => {
        if (!this.#ended && this.#handOver === undefined) socket.resume();
      });
    }
    recordPredict(front.deps, target, answer, this.#started);
  }

  /** Answers with a fixed error and closes, as node:http does for a request it cannot take. */
  refuse(response: string, code: string): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#front.deps.metrics.error('(connection)', code);
    const socket = this.socket;
    if (socket.writable) socket.end(response, () => socket.destroy());
    else socket.destroy();
  }

  readonly #onData = (chunk: Buffer): void => {
    if (this.#ended) return;
    let parsed: ReturnType<HttpParser['execute']>;
    try {
      parsed = this.#parser.execute(chunk);
    } catch (err) {
      // A throw from a callback: a bug here, not the client's; the client sees the socket close.
      this.#front.deps.log.error({ err }, 'connection failed');
      this.#ended = true;
      this.socket.destroy();
      return;
    }
    const head = this.#handOver;
    if (head !== undefined && !this.#ended && typeof parsed === 'number') {
      this.#release();
      this.#front.handOver(this.socket, Buffer.concat([head, chunk.subarray(parsed)]));
    } else if (typeof parsed !== 'number') {
      this.refuse(
        parsed.code === 'HPE_HEADER_OVERFLOW' ? HEADERS_TOO_LARGE : BAD_REQUEST,
        parsed.code === 'HPE_HEADER_OVERFLOW' ? 'headers_too_large' : 'malformed_request',
      );
    }
  };

  readonly #onEnd = (): void => {
    // The client is done sending: close once every answer is out; a request it cut off gets a
    // 400, as node:http answers one.
    if (this.phase === IDLE) this.socket.end();
    else this.refuse(BAD_REQUEST, 'incomplete_request');
  };

  readonly #onError = (): void => {
    this.socket.destroy();
  };

  readonly #onClose = (): void => {
    this.#release();
  };

  /** Stops reading this connection (closed, or handed to node:http). */
  #release(): void {
    if (!this.#front.connections.delete(this)) return;
    const socket = this.socket;
    socket.removeListener('data', this.#onData);
    socket.removeListener('end', this.#onEnd);
    socket.removeListener('error', this.#onError);
    socket.removeListener('close', this.#onClose);
    this.#parser.free();
  }
}

let checked: string | undefined | null = null;

/**
 * Why the front cannot run on this Node.js, or undefined when it can. node's parser binding is
 * node's internal calling convention, not a public API, so before the first server uses it, it
 * parses a pipelined pair of requests and must see exactly what node:http would: a request's
 * method, URL, headers, keep-alive and body, and a stop right after a head when asked.
 */
export function frontProblem(): string | undefined {
  if (checked !== null) return checked;
  checked = typeof loaded === 'string' ? loaded : checkParser(loaded);
  return checked;
}

/** Runs the parser binding `Parser` on known bytes; a description of what differs, or undefined. */
export function checkParser(binding: Binding): string | undefined {
  const Parser = binding.HTTPParser;
  const seen: string[] = [];
  try {
    const p = new Parser();
    p.initialize(Parser.REQUEST, {}, 0, 0);
    p[Parser.kOnMessageBegin] = () => {
      seen.push('begin');
    };
    p[Parser.kOnHeadersComplete] = (
      major: number,
      minor: number,
      headers: string[],
      method: number,
      url: string,
      _status: unknown,
      _message: unknown,
      upgrade: boolean,
      keepAlive: boolean,
    ) => {
      seen.push(
        `head ${methodName(binding.methods, method)} ${url} ${major}.${minor} ${headers.join('|')} ${upgrade} ${keepAlive}`,
      );
      return method === POST ? 0 : 2;
    };
    p[Parser.kOnBody] = (chunk: Buffer) => {
      seen.push(`body ${chunk.toString('latin1')}`);
    };
    p[Parser.kOnMessageComplete] = () => {
      seen.push('complete');
    };
    const first = 'POST /predict?x=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\n{}';
    const second = 'GET /health HTTP/1.1\r\nHost: a\r\n\r\n';
    const parsed = p.execute(Buffer.from(`${first}${second}rest`, 'latin1'));
    p.free();
    seen.push(`parsed ${typeof parsed === 'number' ? parsed : parsed.message}`);
  } catch (err) {
    return `node's HTTP parser binding failed its check: ${(err as Error).message}`;
  }
  const expected = [
    'begin',
    'head POST /predict?x=1 1.1 Host|a|Content-Length|2 false true',
    'body {}',
    'complete',
    'begin',
    'head GET /health 1.1 Host|a false true',
    'complete',
    `parsed ${60 + 33}`,
  ];
  const got = seen.join('; ');
  return got === expected.join('; ')
    ? undefined
    : `node's HTTP parser binding does not behave as the front expects: got ${got}`;
}

/**
 * node:http's server for the app, with the front reading its connections first (unless
 * `front: false`, or `frontProblem()` finds node's parser binding changed: then node:http alone,
 * with a warning). `listen`, `close`, the timeouts and `closeIdleConnections` /
 * `closeAllConnections` cover the front's connections too.
 */
export function createHttpServer(
  app: { fetch: (request: Request, env: unknown) => Response | Promise<Response> },
  deps: AppDeps,
  options: { front?: boolean } = {},
): Server {
  const server = createServer(nodeListener(app, deps));
  if (options.front === false) return server;
  const problem = frontProblem();
  if (problem !== undefined || typeof loaded === 'string') {
    deps.log.warn({ problem }, 'the connection front is off: node:http answers every request');
    return server;
  }
  const listeners = server.listeners('connection') as ((socket: Socket) => void)[];
  const nodeConnection = listeners[0];
  if (listeners.length !== 1 || nodeConnection === undefined) {
    throw new Error('node:http has no single connection listener to put the front before');
  }
  server.removeListener('connection', nodeConnection);
  const front = new Front(deps, server, loaded, nodeConnection);
  server.on('connection', (socket: Socket) => front.accept(socket));
  const closeIdle = server.closeIdleConnections.bind(server);
  const closeAll = server.closeAllConnections.bind(server);
  server.closeIdleConnections = () => {
    front.closeIdle();
    closeIdle();
  };
  server.closeAllConnections = () => {
    front.closeAll();
    closeAll();
  };
  return server;
}
