/**
 * The helper threads' side of `threads.ts`. A job names shared memory (binned rows to
 * grow trees from, or rows to predict) and a counter of tasks (tree indices, or blocks of
 * rows); each thread takes the next task from the counter and does it, until none is left.
 * Grown trees are posted back; predictions are written straight into shared memory.
 *
 * No top-level await and no import but pure modules: under tsx a thread loads this file
 * through tsx's CommonJS hook (`threads.ts` says why).
 */
import { parentPort, type MessagePort } from 'node:worker_threads';

import { FlatForest, type FlatForestParts } from './flat-forest.ts';
import { growTree, type GrownTree, type TreeOptions } from './tree.ts';

/** Slots of a job's control counters (an Int32Array over shared memory). */
export const NEXT_TASK = 0;
export const FINISHED = 1;
export const HEARTBEAT = 2;
export const CONTROL_SLOTS = 3;

/** Grow trees 0..tasks-1 of a forest. */
export interface GrowJob {
  type: 'grow';
  id: number;
  tasks: number;
  control: Int32Array;
  rows: number;
  features: number;
  classes: number;
  /** `BinnedRows.bins` and `labels`, over shared memory. */
  bins: Uint8Array;
  labels: Uint16Array;
  binCounts: Uint16Array;
  options: TreeOptions;
  seed: number;
}

/** Predict rows in blocks of `block` rows (task b: rows b * block up to the next block). */
export interface PredictJob {
  type: 'predict';
  id: number;
  tasks: number;
  control: Int32Array;
  /** The forest's parts (over shared memory) and an id a thread keeps its compiled walk by. */
  forest: FlatForestParts;
  forestId: number;
  x: Float64Array;
  rows: number;
  block: number;
  index: Uint32Array;
  proba: Float64Array | null;
}

export type ThreadJob = GrowJob | PredictJob;

/** What a thread posts back: a grown tree, or why a task failed. */
export type TaskMessage =
  { id: number; task: number; grown: GrownTree } | { id: number; task: number; error: string };

/**
 * Does task `task` of `job`: returns a grown tree, or nothing for a prediction (its results
 * are in shared memory). Each thread calls this, the calling one included.
 */
export function runTask(job: ThreadJob, task: number, forest?: FlatForest): GrownTree | undefined {
  if (job.type === 'grow') {
    const control = job.control;
    const data = {
      rows: job.rows,
      features: job.features,
      classes: job.classes,
      bins: job.bins,
      labels: job.labels,
      binCounts: job.binCounts,
    };
    return growTree(data, job.options, job.seed, task, () => {
      Atomics.add(control, HEARTBEAT, 1);
    });
  }
  const from = task * job.block;
  const to = Math.min(job.rows, from + job.block);
  (forest ?? new FlatForest(job.forest)).predictRange(
    job.x,
    from,
    to,
    job.index,
    job.proba ?? undefined,
  );
  return undefined;
}

/**
 * The forests a thread predicted with lately, by id: a batch scored in many chunks compiles its
 * walk (and copies the forest into WebAssembly memory) once per thread, not once per chunk.
 */
const forests = new Map<number, FlatForest>();

function forestOf(job: PredictJob): FlatForest {
  let forest = forests.get(job.forestId);
  if (forest === undefined) {
    if (forests.size >= 2) forests.delete(forests.keys().next().value as number);
    forest = new FlatForest(job.forest);
    forests.set(job.forestId, forest);
  }
  return forest;
}

/** Takes tasks of `job` until the counter runs out, posting results and failures to `port`. */
export function runJob(job: ThreadJob, port: MessagePort): void {
  const control = job.control;
  const forest = job.type === 'predict' ? forestOf(job) : undefined;
  for (;;) {
    const task = Atomics.add(control, NEXT_TASK, 1);
    if (task >= job.tasks) return;
    let message: TaskMessage | undefined;
    let transfer: ArrayBuffer[] = [];
    try {
      const grown = runTask(job, task, forest);
      if (grown !== undefined) {
        message = { id: job.id, task, grown };
        transfer = [
          grown.feature.buffer,
          grown.bin.buffer,
          grown.leafCounts.buffer,
          grown.importance.buffer,
          grown.oobRows.buffer,
          grown.oobLeaves.buffer,
        ] as ArrayBuffer[];
      }
    } catch (error) {
      message = { id: job.id, task, error: String((error as Error)?.stack ?? error) };
    }
    // A message is queued on the port before the count moves, so the main thread finds it.
    if (message !== undefined) port.postMessage(message, transfer);
    Atomics.add(control, FINISHED, 1);
    Atomics.notify(control, FINISHED);
  }
}

/** Runs a helper thread: jobs arrive on `parentPort`, results leave on `port`. */
export function serveForestJobs(port: MessagePort): void {
  parentPort?.on('message', (job: ThreadJob) => {
    if (job?.type === 'grow' || job?.type === 'predict') runJob(job, port);
  });
}
