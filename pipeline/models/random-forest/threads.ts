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
import { FlatForest, type FlatForestParts } from './flat-forest.ts';
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
  /** Asynchronous jobs in flight, each holding the thread referenced (`predictForestAsync`). */
  busy: number;
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
  const thread: Thread = { worker, port: port1, broken: false, busy: 0 };
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

function shared<T extends Uint8Array | Uint16Array | Int32Array | Float64Array>(values: T): T {
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

/** Each forest's parts over shared memory, and its id, made on its first threaded batch. */
const sharedForests = new WeakMap<FlatForest, { id: number; parts: FlatForestParts }>();
let forestIds = 0;

/** A forest as the threads receive it: its parts shared (not copied per job), and an id. */
function sharedForest(forest: FlatForest): { id: number; parts: FlatForestParts } {
  let entry = sharedForests.get(forest);
  if (entry === undefined) {
    const p = forest.parts;
    entry = {
      id: ++forestIds,
      parts: {
        ...p,
        thresholds: shared(p.thresholds),
        thresholdStart: shared(p.thresholdStart),
        node: shared(p.node),
        roots: shared(p.roots),
        proba: shared(p.proba),
      },
    };
    sharedForests.set(forest, entry);
  }
  return entry;
}

/** A prediction job over shared memory: `x` in, `index` and `proba` out, in blocks. */
function predictJob(
  forest: FlatForest,
  tasks: number,
  rows: number,
  x: Float64Array,
  index: Uint32Array,
  proba: Float64Array | null,
): PredictJob {
  const { id: forestId, parts } = sharedForest(forest);
  return {
    type: 'predict',
    id: ++jobs,
    tasks,
    control: new Int32Array(new SharedArrayBuffer(CONTROL_SLOTS * 4)),
    forest: parts,
    forestId,
    x,
    rows,
    block: PREDICT_BLOCK,
    index,
    proba,
  };
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
  const job = predictJob(
    forest,
    tasks,
    rows,
    shared(x.length === rows * forest.features ? x : x.subarray(0, rows * forest.features)),
    new Uint32Array(new SharedArrayBuffer(rows * 4)),
    options.proba === true ? new Float64Array(new SharedArrayBuffer(rows * k * 8)) : null,
  );
  runOnThreads(job, helpers, 'predicting', forest);
  return {
    index: new Uint32Array(job.index),
    proba: job.proba === null ? new Float64Array(0) : new Float64Array(job.proba),
  };
}

/** `Atomics.waitAsync` (ES2024; in Node since 16), which the ES2023 lib does not declare. */
const waitAsync = (
  Atomics as unknown as {
    waitAsync: (
      array: Int32Array,
      index: number,
      value: number,
      timeout: number,
    ) => { async: false; value: string } | { async: true; value: Promise<string> };
  }
).waitAsync;

/** Resolves when every task of `job` is finished; throws when its threads all stopped. */
async function finishedAsync(job: PredictJob, helpers: readonly Thread[]): Promise<void> {
  const control = job.control;
  for (;;) {
    const finished = Atomics.load(control, FINISHED);
    if (finished >= job.tasks) return;
    if (helpers.every((t) => t.broken)) {
      throw new PinmlError(
        'E_MODEL_FORMAT',
        'random-forest: the prediction threads stopped; score with one thread (--threads 1)',
      );
    }
    const waited = waitAsync(control, FINISHED, finished, 1000);
    if (waited.async) await waited.value;
  }
}

/**
 * Predicts like {@link predictForest}, on `threads` helper threads only, without blocking the
 * calling thread: it goes on (reading the next rows of a file) and the promise settles when
 * the helpers are done. Where no helper can start, the batch is predicted here, synchronously.
 * The numbers are {@link predictForest}'s.
 */
export async function predictForestAsync(
  forest: FlatForest,
  x: Float64Array,
  rows: number,
  options: { proba?: boolean; threads: number },
): Promise<{ index: Uint32Array; proba: Float64Array }> {
  const k = forest.classes;
  const tasks = Math.ceil(rows / PREDICT_BLOCK);
  const helpers = tasks > 0 ? threadPool(Math.max(1, Math.min(options.threads, tasks))) : [];
  if (helpers.length === 0) return predictForest(forest, x, rows, { ...options, threads: 1 });
  const buffers = takeBuffers(rows * forest.features, rows, rows * k);
  buffers.x.set(x.subarray(0, rows * forest.features));
  const job = predictJob(
    forest,
    tasks,
    rows,
    buffers.x.subarray(0, rows * forest.features),
    buffers.index.subarray(0, rows),
    options.proba === true ? buffers.proba.subarray(0, rows * k) : null,
  );
  // A waitAsync keeps nothing alive: the working threads keep the process up meanwhile.
  for (const thread of helpers) {
    if (thread.busy++ === 0) thread.worker.ref();
    thread.worker.postMessage(job);
  }
  try {
    await finishedAsync(job, helpers);
  } finally {
    for (const thread of helpers) if (--thread.busy === 0) thread.worker.unref();
  }
  const failures: string[] = [];
  for (const thread of helpers) {
    for (;;) {
      const received = receiveMessageOnPort(thread.port);
      if (received === undefined) break;
      const message = received.message as TaskMessage;
      if (message.id === job.id && 'error' in message) failures.push(message.error);
    }
  }
  const result = {
    index: new Uint32Array(job.index),
    proba: job.proba === null ? new Float64Array(0) : new Float64Array(job.proba),
  };
  freeBuffers.push(buffers);
  if (failures.length > 0) {
    throw new PinmlError('E_MODEL_FORMAT', `random-forest: predicting failed: ${failures[0]}`);
  }
  return result;
}

/** Shared buffers of an asynchronous prediction: rows in, classes and probabilities out. */
interface JobBuffers {
  x: Float64Array;
  index: Uint32Array;
  proba: Float64Array;
}

/**
 * Buffers given back by finished jobs, reused by the next ones. A helper thread keeps the last
 * job it saw (and so its shared memory) until its own garbage collector runs, which a thread
 * that allocates almost nothing rarely does: fresh buffers per chunk made a 5,000,000-row file
 * take 60 % more memory than a 1,000,000-row one.
 */
const freeBuffers: JobBuffers[] = [];

function takeBuffers(x: number, rows: number, proba: number): JobBuffers {
  const i = freeBuffers.findIndex(
    (b) => b.x.length >= x && b.index.length >= rows && b.proba.length >= proba,
  );
  if (i >= 0) return freeBuffers.splice(i, 1)[0] as JobBuffers;
  if (freeBuffers.length >= 4) freeBuffers.shift();
  return {
    x: new Float64Array(new SharedArrayBuffer(x * 8)),
    index: new Uint32Array(new SharedArrayBuffer(rows * 4)),
    proba: new Float64Array(new SharedArrayBuffer(Math.max(1, proba) * 8)),
  };
}
