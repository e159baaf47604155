/**
 * The thread side of `thread.ts`: one SQLite log, driven by the messages of one port. Each call
 * `{id, method, args}` is answered `{id, value}` or `{id, error: {code, message, data}}`; calls
 * run one at a time, in order.
 */
import type { MessagePort } from 'node:worker_threads';

import { PinmlError } from '../errors.ts';
import { SqliteLog, type SqliteLogOptions } from './sqlite.ts';
import type { LogStore } from './store.ts';

/** The store methods a thread serves. */
export type LogMethod = 'append' | 'appendFeedback' | 'read' | 'quality' | 'retain' | 'close';

/** One call: a method and its arguments. */
export type LogCall = {
  [M in LogMethod]: { id: number; method: M; args: Parameters<LogStore[M]> };
}[LogMethod];

export type LogReply =
  | { id: number; value: unknown }
  | { id: number; error: { code: string; message: string; data: Record<string, unknown> } };

/** Runs one call on the log. */
function dispatch(log: LogStore, call: LogCall): Promise<unknown> {
  switch (call.method) {
    case 'append':
      return log.append(...call.args);
    case 'appendFeedback':
      return log.appendFeedback(...call.args);
    case 'read':
      return log.read(...call.args);
    case 'quality':
      return log.quality(...call.args);
    case 'retain':
      return log.retain(...call.args);
    case 'close':
      return log.close();
  }
}

/**
 * Serves the log at `file` on `port`. After `close` the thread stays until the caller terminates
 * it: a thread that ended by itself could end before its last answer was read.
 */
export function serveLog(port: MessagePort, file: string, options: SqliteLogOptions): void {
  const log = new SqliteLog(file, options);
  let queue = Promise.resolve();
  port.on('message', (call: LogCall) => {
    queue = queue.then(async () => {
      let reply: LogReply;
      try {
        reply = { id: call.id, value: await dispatch(log, call) };
      } catch (err) {
        const e = err instanceof PinmlError ? err : undefined;
        reply = {
          id: call.id,
          error: {
            code: e?.code ?? 'E_LOG_STORE',
            message: (err as Error).message,
            data: e?.data ?? {},
          },
        };
      }
      port.postMessage(reply);
    });
  });
}
