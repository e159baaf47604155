/**
 * Grows a forest's trees on several cores with worker threads, synchronously (a family's
 * `fit` returns a model, not a promise).
 *
 * The binned rows go into shared memory once; a counter in shared memory hands out tree
 * indices; every thread, the calling one included, takes the next index, grows that tree and
 * hands it back. Tree t depends only on (data, options, seed, t), and the trees are assembled in
 * index order, so the forest is the same whatever the number of threads and whoever grew what.
 * The calling thread waits for the others with `Atomics.wait` and collects their trees with
 * `receiveMessageOnPort`, so no event loop turn is needed.
 *
 * Where a thread's code comes from:
 * - From TypeScript source (tsx in development, vitest in tests), a thread loads
 *   `worker.ts` through tsx's CommonJS hook: on Node 20, module hooks registered in the
 *   main thread (tsx's ESM loader) do not reach worker threads.
 * - From a bundle (the actions' `dist/index.js`, one ESM file per action), there is no separate
 *   file to start: the thread starts the bundle itself, and this module, near the top of it,
 *   recognises the thread by its `workerData`, serves jobs and then awaits forever, so the rest
 *   of the bundle (the action's `run()`) never starts in that thread.
 * - Anywhere a thread cannot start (no tsx beside TypeScript source, a CommonJS bundle without
 *   `import.meta.url`, a thread that fails to load), the calling thread grows every tree itself:
 *   same forest, one core.
 * The caller caps the number of threads (`maxThreads`; the CLI and the actions pass
 * `PINML_TRAIN_THREADS`; 1: never start one).
 */
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import {
  MessageChannel,
  Worker,
  isMainThread,
  receiveMessageOnPort,
  workerData,
  type MessagePort,
} from 'node:worker_threads';

import { PinmlError } from '../../errors.ts';
import { growTree, type BinnedRows, type GrownTree, type TreeOptions } from './tree.ts';
import { FlatForest } from './flat-forest.ts';
import {
  CONTROL_SLOTS,
  FINISHED,
  HEARTBEAT,
  NEXT_TASK,
  runTask,
  serveForestJobs,
  type GrowJob,
  type PredictJob,
  type TaskMessage,
  type ThreadJob,
} from './worker.ts';

/** The `workerData` key that marks a training thread. */
const THREAD_MARK = 'pinmlForestThread';

if (!isMainThread && (workerData as Record<string, unknown> | null)?.[THREAD_MARK] === 'bundle') {
  serveForestJobs((workerData as { port: MessagePort }).port);
  // why: in a bundle this thread started the whole file; stop here so nothing after this
  // module (the action's entry point) runs in it. The thread lives until its process ends.
  await new Promise<never>(() => {});
}

/** How long the training threads may show no sign of work before training gives up. */
const STALL_MS = 120_000;

interface Thread {
  worker: Worker;
  port: MessagePort;
  broken: boolean;
}

const threads: Thread[] = [];
let jobs = 0;

/** The number of threads to work on: the cores, at most `max` (an integer >= 1) when given. */
export function threadCount(max?: number): number {
  const cores = Math.max(1, availableParallelism());
  return max !== undefined && Number.isSafeInteger(max) && max >= 1 ? Math.min(max, cores) : cores;
}

/** Starts a training thread, or returns undefined where none can start. */
function startThread(): Thread | undefined {
  const here = import.meta.url as string | undefined;
  if (typeof here !== 'string' || !here.startsWith('file:')) return undefined;
  const { port1, port2 } = new MessageChannel();
  let worker: Worker;
  try {
    if (here.endsWith('.ts')) {
      const require = createRequire(here);
      const tsx = require.resolve('tsx/cjs/api');
      const entry = fileURLToPath(new URL('./worker.ts', here));
      const code = [
        "const { workerData } = require('node:worker_threads');",
        `require(${JSON.stringify(tsx)}).register();`,
        `require(${JSON.stringify(entry)}).serveForestJobs(workerData.port);`,
      ].join('\n');
      worker = new Worker(code, {
        eval: true,
        workerData: { [THREAD_MARK]: 'source', port: port2 },
        transferList: [port2],
      });
    } else {
      worker = new Worker(new URL(here), {
        workerData: { [THREAD_MARK]: 'bundle', port: port2 },
        transferList: [port2],
      });
    }
  } catch {
    port1.close();
    return undefined;
  }
  const thread: Thread = { worker, port: port1, broken: false };
  // A thread that fails to load or dies takes no more trees; the others (and the calling
  // thread) grow them. Without a listener its error would end the process.
  worker.on('error', () => {
    thread.broken = true;
  });
  worker.on('exit', () => {
    thread.broken = true;
  });
  worker.unref();
  port1.unref();
  return thread;
}

/** Up to `count` running threads, started on first use and kept for later forests. */
function threadPool(count: number): Thread[] {
  for (let i = threads.length - 1; i >= 0; i--) {
    if (threads[i]?.broken) threads.splice(i, 1);
  }
  while (threads.length < count) {
    const thread = startThread();
    if (thread === undefined) break;
    threads.push(thread);
  }
  return threads.slice(0, count);
}

/** How many helper threads are running (started by an earlier fit or prediction). */
export function runningForestThreads(): number {
  return threads.filter((t) => !t.broken).length;
}

/** Stops every helper thread (tests; a process exits without this). */
export async function stopForestThreads(): Promise<void> {
  const all = threads.splice(0);
  await Promise.all(all.map((t) => t.worker.terminate()));
}

function shared<T extends Uint8Array | Uint16Array | Float64Array>(values: T): T {
  const Type = values.constructor as new (buffer: SharedArrayBuffer) => T;
  const copy = new Type(new SharedArrayBuffer(values.byteLength));
  copy.set(values);
  return copy;
}

/**
 * Runs tasks 0..job.tasks-1 on the calling thread and `helpers`, each task once, and returns
 * the trees the tasks grew, by task. Waits for the helpers without an event loop turn.
 */
function runOnThreads(
  job: ThreadJob,
  helpers: readonly Thread[],
  what: string,
  own?: FlatForest,
): GrownTree[] {
  const results: (GrownTree | undefined)[] = new Array<GrownTree | undefined>(job.tasks);
  const control = job.control;
  for (const thread of helpers) thread.worker.postMessage(job);
  const failures: string[] = [];
  // The calling thread predicts with the caller's forest (and the walk it may have made).
  const forest = job.type === 'predict' ? (own ?? new FlatForest(job.forest)) : undefined;
  for (;;) {
    const task = Atomics.add(control, NEXT_TASK, 1);
    if (task >= job.tasks) break;
    try {
      results[task] = runTask(job, task, forest);
    } catch (error) {
      failures.push(String((error as Error)?.stack ?? error));
    }
    Atomics.add(control, FINISHED, 1);
  }

  // Every task is handed out; wait until each is finished.
  let heartbeat = Atomics.load(control, HEARTBEAT);
  let lastSign = Date.now();
  for (;;) {
    const finished = Atomics.load(control, FINISHED);
    if (finished >= Math.min(job.tasks, Atomics.load(control, NEXT_TASK))) break;
    Atomics.wait(control, FINISHED, finished, 1000);
    const beat = Atomics.load(control, HEARTBEAT);
    if (beat !== heartbeat || Atomics.load(control, FINISHED) !== finished) {
      heartbeat = beat;
      lastSign = Date.now();
    } else if (Date.now() - lastSign > STALL_MS) {
      for (const thread of helpers) thread.broken = true;
      void stopForestThreads();
      throw new PinmlError(
        'E_TRAINING',
        `random-forest: a helper thread stopped ${what} (no progress for ${STALL_MS / 1000} s); set PINML_TRAIN_THREADS=1 to use one thread`,
      );
    }
  }
  for (const thread of helpers) {
    for (;;) {
      const received = receiveMessageOnPort(thread.port);
      if (received === undefined) break;
      const message = received.message as TaskMessage;
      if (message.id !== job.id) continue;
      if ('error' in message) failures.push(message.error);
      else results[message.task] = message.grown;
    }
  }
  if (failures.length > 0) {
    throw new PinmlError('E_TRAINING', `random-forest: ${what} failed: ${failures[0]}`);
  }
  return results as GrownTree[];
}

/**
 * Grows trees 0..trees-1 on `threadCount` threads (the calling one included) and returns them
 * in index order. The result does not depend on `threadCount`.
 */
export function growTrees(
  data: BinnedRows,
  options: TreeOptions,
  seed: number,
  trees: number,
  threadCount: number,
): GrownTree[] {
  const helpers = threadCount > 1 && trees > 1 ? threadPool(Math.min(threadCount, trees) - 1) : [];
  if (helpers.length === 0) {
    const grown: GrownTree[] = [];
    for (let t = 0; t < trees; t++) grown.push(growTree(data, options, seed, t));
    return grown;
  }
  // Every thread, the calling one included, reads the same shared copies.
  const job: GrowJob = {
    type: 'grow',
    id: ++jobs,
    tasks: trees,
    control: new Int32Array(new SharedArrayBuffer(CONTROL_SLOTS * 4)),
    rows: data.rows,
    features: data.features,
    classes: data.classes,
    bins: shared(data.bins),
    labels: shared(data.labels),
    binCounts: data.binCounts,
    options,
    seed,
  };
  const grown = runOnThreads(job, helpers, 'growing trees');
  const missing = grown.findIndex((g) => g === undefined);
  if (missing >= 0) {
    throw new PinmlError(
      'E_TRAINING',
      `random-forest: tree ${missing} never came back from its thread; set PINML_TRAIN_THREADS=1 to use one thread`,
    );
  }
  return grown;
}

/** Rows per prediction task. */
const PREDICT_BLOCK = 16_384;
/** Below this many row-trees, starting threads costs more than it saves. */
const THREADED_PREDICTION = 2_000_000;

/**
 * Predicts `rows` rows of `x` (row-major) with `forest`: each row's class and, with
 * `proba: true`, its probabilities (`rows * classes` numbers; empty otherwise). Large batches
 * are split over threads (exactly `threads`, or by default the cores, at most `maxThreads`);
 * the numbers do not depend on it.
 */
export function predictForest(
  forest: FlatForest,
  x: Float64Array,
  rows: number,
  options: { proba?: boolean; threads?: number; maxThreads?: number } = {},
): { index: Uint32Array; proba: Float64Array } {
  const k = forest.classes;
  const wanted =
    options.threads ??
    (rows * forest.trees >= THREADED_PREDICTION ? threadCount(options.maxThreads) : 1);
  const tasks = Math.ceil(rows / PREDICT_BLOCK);
  const helpers = wanted > 1 && tasks > 1 ? threadPool(Math.min(wanted, tasks) - 1) : [];
  if (helpers.length === 0) {
    const index = new Uint32Array(rows);
    const proba = new Float64Array(options.proba === true ? rows * k : 0);
    forest.predictRange(x, 0, rows, index, options.proba === true ? proba : undefined);
    return { index, proba };
  }
  const job: PredictJob = {
    type: 'predict',
    id: ++jobs,
    tasks,
    control: new Int32Array(new SharedArrayBuffer(CONTROL_SLOTS * 4)),
    forest: forest.parts,
    x: shared(x.length === rows * forest.features ? x : x.subarray(0, rows * forest.features)),
    rows,
    block: PREDICT_BLOCK,
    index: new Uint32Array(new SharedArrayBuffer(rows * 4)),
    proba: options.proba === true ? new Float64Array(new SharedArrayBuffer(rows * k * 8)) : null,
  };
  runOnThreads(job, helpers, 'predicting', forest);
  return {
    index: new Uint32Array(job.index),
    proba: job.proba === null ? new Float64Array(0) : new Float64Array(job.proba),
  };
}
