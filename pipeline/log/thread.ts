/**
 * The SQLite log on a thread of its own. SQLite calls are synchronous: on the server's thread a
 * batch of 1,000 rows held every answer for ~10 ms, and a file another program holds locked
 * for the whole busy timeout (`npm run bench:serve`: /predict lost 28 % of its requests/s and
 * its p99 went from 15 to 70 ms with the log on the server's thread). Here the server's thread
 * only hands rows over (`postMessage`); the thread runs {@link SqliteLog} and answers each call
 * in order. Same interface, same errors (`PinmlError`, with its code, message and data). A
 * thread that dies is started again at the next call; the calls it had are rejected.
 *
 * From TypeScript source the thread registers tsx's CommonJS hook (module hooks of the calling
 * thread do not reach threads on Node 20) and loads `thread-worker.ts`; from the server's bundle
 * (`npm run build:serve`) it runs `log-thread.js`, the bundle of `thread-entry.ts` beside it.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';

import { PinmlError, type ErrorCode } from '../errors.ts';
import type { SqliteLogOptions } from './sqlite.ts';
import type {
  FeedbackOutcome,
  FeedbackRecord,
  LogPage,
  LogQuery,
  LogStore,
  LoggedSignature,
  PredictionRecord,
  QualityCounts,
  RetentionPolicy,
  RetentionResult,
} from './store.ts';
import type { LogCall, LogMethod, LogReply } from './thread-worker.ts';

/** The file name of the thread's bundle, beside the bundle that starts it (`serve/scripts/build.ts`). */
export const LOG_THREAD_BUNDLE = 'log-thread.js';

interface Pending {
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
}

/** The SQLite log at `file`, written and read on its own thread. */
export function openThreadedSqliteLog(file: string, options: SqliteLogOptions = {}): ThreadedLog {
  return new ThreadedLog(file, options);
}

export class ThreadedLog implements LogStore {
  readonly location: string;
  readonly #options: SqliteLogOptions;
  #thread: { worker: Worker; port: MessagePort } | undefined;
  #pending = new Map<number, Pending>();
  #next = 0;

  constructor(file: string, options: SqliteLogOptions = {}) {
    this.location = file;
    this.#options = options;
  }

  /** The running thread, started now if there is none. */
  #start(): { worker: Worker; port: MessagePort } {
    if (this.#thread !== undefined) return this.#thread;
    const here = import.meta.url;
    const { port1, port2 } = new MessageChannel();
    const workerData = { port: port2, file: this.location, options: this.#options };
    let worker: Worker;
    if (here.endsWith('.ts')) {
      const require = createRequire(here);
      const tsx = require.resolve('tsx/cjs/api');
      const entry = fileURLToPath(new URL('./thread-worker.ts', here));
      const code = [
        "const { workerData } = require('node:worker_threads');",
        `require(${JSON.stringify(tsx)}).register();`,
        `require(${JSON.stringify(entry)}).serveLog(workerData.port, workerData.file, workerData.options);`,
      ].join('\n');
      worker = new Worker(code, { eval: true, workerData, transferList: [port2] });
    } else {
      worker = new Worker(new URL(`./${LOG_THREAD_BUNDLE}`, here), {
        workerData,
        transferList: [port2],
      });
    }
    const thread = { worker, port: port1 };
    port1.on('message', (reply: LogReply) => {
      const p = this.#pending.get(reply.id);
      if (p === undefined) return;
      this.#pending.delete(reply.id);
      if ('error' in reply) {
        p.reject(
          new PinmlError(reply.error.code as ErrorCode, reply.error.message, reply.error.data),
        );
      } else p.resolve(reply.value);
    });
    const lost = (why: string): void => {
      if (this.#thread !== thread) return;
      this.#thread = undefined;
      port1.close();
      for (const [id, p] of this.#pending) {
        this.#pending.delete(id);
        p.reject(
          new PinmlError('E_LOG_STORE', `the prediction log's thread ${why}`, {
            file: this.location,
          }),
        );
      }
    };
    worker.on('error', (err) => lost(`failed: ${err.message}`));
    worker.on('exit', (code) => lost(`exited with code ${code}`));
    // The thread keeps the process alive only while a call waits for it.
    worker.unref();
    port1.unref();
    this.#thread = thread;
    return thread;
  }

  #call<T>(method: LogMethod, args: LogCall['args']): Promise<T> {
    let thread: { worker: Worker; port: MessagePort };
    try {
      thread = this.#start();
    } catch (err) {
      return Promise.reject(
        new PinmlError(
          'E_LOG_STORE',
          `the prediction log's thread cannot start: ${(err as Error).message}`,
          { file: this.location },
          { cause: err },
        ),
      );
    }
    const id = ++this.#next;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      if (this.#pending.size === 1) thread.port.ref();
      thread.port.postMessage({ id, method, args });
    }).finally(() => {
      if (this.#pending.size === 0) this.#thread?.port.unref();
    });
  }

  append(rows: readonly PredictionRecord[], signatures: readonly LoggedSignature[]): Promise<void> {
    // Plain number lists: a typed-array view would carry its whole buffer (a batch's) per row.
    const plain = rows.map((r) =>
      (r.inputs === null || Array.isArray(r.inputs)) && Array.isArray(r.probabilities)
        ? r
        : {
            ...r,
            inputs: r.inputs === null ? null : Array.from(r.inputs),
            probabilities: Array.from(r.probabilities),
          },
    );
    return this.#call('append', [plain, signatures]);
  }

  appendFeedback(items: readonly FeedbackRecord[]): Promise<FeedbackOutcome[]> {
    return this.#call('appendFeedback', [items]);
  }

  read(query: LogQuery): Promise<LogPage> {
    return this.#call('read', [query]);
  }

  quality(window: { from: number; until: number; model?: string }): Promise<QualityCounts[]> {
    return this.#call('quality', [window]);
  }

  retain(policy: RetentionPolicy, now: number, batchRows?: number): Promise<RetentionResult> {
    return this.#call('retain', [policy, now, batchRows]);
  }

  async close(): Promise<void> {
    const thread = this.#thread;
    if (thread === undefined) return;
    try {
      await this.#call('close', []);
    } finally {
      this.#thread = undefined;
      await thread.worker.terminate();
    }
  }
}
