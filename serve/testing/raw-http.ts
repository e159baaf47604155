/**
 * A raw HTTP/1.1 client for tests of the connection front: it writes exactly the bytes it is
 * given (pipelined requests, split heads and bodies, malformed requests) on one loopback
 * connection and reads the answers with node's own response parser. Test helper only: product
 * code never imports it.
 */
import { createRequire } from 'node:module';
import { connect, type Socket } from 'node:net';

interface ResponseParser {
  initialize(type: number, resource: object): void;
  execute(data: Buffer): number | Error;
  [callback: number]: ((...args: never[]) => unknown) | undefined;
}

const { HTTPParser } = createRequire(import.meta.url)('node:_http_common') as {
  HTTPParser: {
    new (): ResponseParser;
    RESPONSE: number;
    kOnHeadersComplete: number;
    kOnBody: number;
    kOnMessageComplete: number;
  };
};

export interface RawResponse {
  status: number;
  /** Header names in lower case. */
  headers: Record<string, string>;
  body: string;
  /** The response's bytes up to the end of its head, as sent. */
  head: string;
}

/** One open connection and the answers it has read so far. */
export class RawConnection {
  readonly socket: Socket;
  readonly responses: RawResponse[] = [];
  /** Resolves when the server closes the connection (or it fails). */
  readonly closed: Promise<void>;
  #text = '';
  #headStart = 0;
  #waiters: { count: number; resolve: () => void }[] = [];
  #parseError: Error | undefined;

  private constructor(socket: Socket) {
    this.socket = socket;
    const parser = new HTTPParser();
    parser.initialize(HTTPParser.RESPONSE, {});
    let current: RawResponse | undefined;
    let body: Buffer[] = [];
    parser[HTTPParser.kOnHeadersComplete] = (
      _major: number,
      _minor: number,
      headers: string[],
      _method: unknown,
      _url: unknown,
      status: number,
    ) => {
      const named: Record<string, string> = {};
      for (let i = 0; i < headers.length; i += 2) {
        named[(headers[i] as string).toLowerCase()] = headers[i + 1] as string;
      }
      const end = this.#text.indexOf('\r\n\r\n', this.#headStart);
      current = { status, headers: named, body: '', head: this.#text.slice(this.#headStart, end) };
      this.#headStart = end + 4;
      body = [];
      return 0;
    };
    parser[HTTPParser.kOnBody] = (chunk: Buffer) => {
      body.push(chunk);
    };
    parser[HTTPParser.kOnMessageComplete] = () => {
      if (current === undefined) return;
      current.body = Buffer.concat(body).toString('utf8');
      this.#headStart += Buffer.concat(body).length;
      this.responses.push(current);
      current = undefined;
      this.#wake();
    };
    socket.on('data', (chunk: Buffer) => {
      this.#text += chunk.toString('latin1');
      const r = parser.execute(chunk);
      if (r instanceof Error) this.#parseError = r;
    });
    this.closed = new Promise<void>((resolve) => {
      socket.on('close', () => {
        resolve();
        this.#wake();
      });
      socket.on('error', () => {});
    });
  }

  static async open(port: number): Promise<RawConnection> {
    const socket = connect(port, '127.0.0.1');
    socket.setNoDelay(true);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('error', reject);
    });
    return new RawConnection(socket);
  }

  write(bytes: string | Buffer): void {
    this.socket.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
  }

  /** Resolves once `count` responses are in; rejects when the connection closes before. */
  async waitFor(count: number): Promise<RawResponse[]> {
    if (this.responses.length < count && !this.socket.destroyed) {
      await new Promise<void>((resolve) => this.#waiters.push({ count, resolve }));
    }
    if (this.#parseError) throw this.#parseError;
    if (this.responses.length < count) {
      throw new Error(
        `the connection closed after ${this.responses.length} of ${count} responses:\n${this.#text}`,
      );
    }
    return this.responses.slice(0, count);
  }

  /** Everything the server sent, as text. */
  get text(): string {
    return this.#text;
  }

  close(): void {
    this.socket.destroy();
  }

  #wake(): void {
    const closed = this.socket.destroyed || this.socket.readableEnded;
    this.#waiters = this.#waiters.filter((w) => {
      if (closed || this.responses.length >= w.count) {
        w.resolve();
        return false;
      }
      return true;
    });
  }
}

/** A request's bytes: `method path HTTP/1.1`, Host, the given headers, and a body with its length. */
export function rawRequest(
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): string {
  let head = `${method} ${path} HTTP/1.1\r\nHost: test\r\n`;
  for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
  if (body !== undefined && !('Transfer-Encoding' in headers)) {
    head += `Content-Length: ${Buffer.byteLength(body)}\r\n`;
  }
  return `${head}\r\n${body ?? ''}`;
}
