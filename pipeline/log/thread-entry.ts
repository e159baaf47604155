/**
 * The entry point of the prediction log's thread in a bundle (`serve/scripts/build.ts` bundles it
 * as `log-thread.js` beside the server): serves the log its starter hands over (`thread.ts`).
 */
import { workerData, type MessagePort } from 'node:worker_threads';

import type { SqliteLogOptions } from './sqlite.ts';
import { serveLog } from './thread-worker.ts';

const data = workerData as { port: MessagePort; file: string; options: SqliteLogOptions };
serveLog(data.port, data.file, data.options);
