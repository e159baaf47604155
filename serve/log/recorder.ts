/**
 * The server's side of the prediction log: answers enqueue what they predicted (a few field
 * copies, nothing else), and a writer off the request path turns the queue into rows and writes
 * them to the store in batches every flush interval. Recording never blocks or fails an answer:
 * the queue is bounded, and when the store cannot be written rows wait in it, then are dropped
 * and counted, with one warning per interval; writing resumes by itself when the store returns.
 */
import type { Logger } from 'pino';

import type {
  LogStore,
  LoggedSignature,
  Pin,
  PredictionRecord,
  RetentionPolicy,
} from '../../pipeline/log/store.ts';
import { rowId, type Predictions } from '../answer/answer.ts';
import type { ServedModel } from '../follow/load-registry.ts';

/**
 * What one answer enqueues, in plain number lists (row-major), expanded into rows later. Not the
 * answer's typed arrays: V8 spends ~200 bytes on each typed array's header, so 100,000 one-row
 * entries holding theirs took 152 MB of heap, where these take 77 MB (`node --expose-gc`, a
 * queue of entries shaped as the server's; `npm run bench:serve`'s sustained run had 70,000 rows
 * queued and peaked at 702 MB with typed arrays).
 */
interface Entry {
  model: ServedModel;
  pin: Pin;
  id: string;
  /** Its rows. */
  n: number;
  /** The inputs, `n × features`; null when inputs are not logged. */
  inputs: number[] | null;
  /** The predicted class index of each row. */
  classes: number[];
  /** Every class's probability, `n × classes`. */
  probabilities: number[];
  time: number;
  latencyMs: number;
}

/** A typed array's values as a plain list. */
function plain(values: ArrayLike<number>): number[] {
  const out = new Array<number>(values.length);
  for (let i = 0; i < values.length; i++) out[i] = values[i] as number;
  return out;
}

/** How the recorder behaves. */
export interface RecorderOptions {
  store: LogStore;
  log: Logger;
  /** Record the inputs (false: everything but them). */
  logInputs: boolean;
  /** The share of requests recorded, in (0, 1]. */
  sampleRate: number;
  /** Most rows waiting in memory; past it, new rows are dropped and counted. */
  queueRows: number;
  /** How often queued rows are written (a crash loses at most this much). */
  flushMs: number;
  /** Most rows in one transaction (the writer yields between them). */
  batchRows: number;
  /** What the log keeps, applied every `retentionEveryMs`. */
  retention: RetentionPolicy;
  retentionEveryMs: number;
  now?: () => number;
  random?: () => number;
}

/** What `/health` and `/metrics` say of the log. */
export interface RecorderStatus {
  state: 'ok' | 'degraded';
  location: string;
  /** Why it is degraded: the last write's error. */
  reason?: string;
  queued: number;
  peakQueued: number;
  written: number;
  dropped: number;
  failures: number;
  unmatchedFeedback: number;
}

/** How long between two warnings about the same trouble. */
const WARN_EVERY_MS = 30_000;
/** The longest wait between two attempts to write to a failing store. */
const MAX_RETRY_MS = 4000;

/**
 * The wait before the next write: the flush interval, doubled for each write that failed in a
 * row, at most {@link MAX_RETRY_MS} (and never less than the interval).
 */
export function flushDelay(flushMs: number, failingInARow: number): number {
  return Math.max(flushMs, Math.min(flushMs * 2 ** failingInARow, MAX_RETRY_MS));
}

/** Enqueues answered rows and writes them off the request path. */
export class Recorder {
  readonly #o: RecorderOptions;
  readonly #now: () => number;
  readonly #random: () => number;
  #queue: Entry[] = [];
  #queued = 0;
  #peak = 0;
  #written = 0;
  #dropped = 0;
  #failures = 0;
  #failingInARow = 0;
  #unmatched = 0;
  #reason: string | undefined;
  #lastWarning = -Infinity;
  #timer: NodeJS.Timeout | undefined;
  #retentionTimer: NodeJS.Timeout | undefined;
  #writing: Promise<void> | undefined;

  constructor(options: RecorderOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
  }

  get store(): LogStore {
    return this.#o.store;
  }

  /** Records an answer's rows (sampled per request). Never throws, never waits. */
  record(
    model: ServedModel,
    pin: Pin,
    id: string,
    rows: readonly Float64Array[],
    predictions: Predictions,
    latencyMs: number,
  ): void {
    if (this.#o.sampleRate < 1 && this.#random() >= this.#o.sampleRate) return;
    if (this.#queued + rows.length > this.#o.queueRows) {
      this.#dropped += rows.length;
      this.#warn('the prediction log queue is full: rows are dropped');
      return;
    }
    let inputs: number[] | null = null;
    if (this.#o.logInputs) {
      const d = rows[0]?.length ?? 0;
      inputs = new Array<number>(rows.length * d);
      for (let i = 0; i < rows.length; i++) {
        const row = rows[i] as Float64Array;
        for (let j = 0; j < d; j++) inputs[i * d + j] = row[j] as number;
      }
    }
    this.#queue.push({
      model,
      pin,
      id,
      n: rows.length,
      inputs,
      classes: plain(predictions.classes),
      probabilities: plain(predictions.probabilities),
      time: this.#now(),
      latencyMs,
    });
    this.#queued += rows.length;
    if (this.#queued > this.#peak) this.#peak = this.#queued;
  }

  /**
   * Starts writing every flush interval and applying retention. While the store fails, the
   * interval doubles up to {@link MAX_RETRY_MS}, so a store that stays down is not retried (and
   * warned about) four times a second.
   */
  start(): void {
    const tick = (): void => {
      this.#timer = setTimeout(
        () => {
          void this.flush().finally(tick);
        },
        flushDelay(this.#o.flushMs, this.#failingInARow),
      );
      this.#timer.unref();
    };
    tick();
    this.#retentionTimer = setInterval(() => void this.retain(), this.#o.retentionEveryMs);
    this.#retentionTimer.unref();
  }

  /** Writes what is queued; one write at a time. Failures leave the rows queued. */
  flush(): Promise<void> {
    if (this.#writing !== undefined) return this.#writing;
    this.#writing = this.#write().finally(() => {
      this.#writing = undefined;
    });
    return this.#writing;
  }

  async #write(): Promise<void> {
    while (this.#queue.length > 0) {
      // Take whole entries up to a batch (a batch request's rows stay together).
      let n = 0;
      let take = 0;
      while (
        take < this.#queue.length &&
        (take === 0 || n + (this.#queue[take] as Entry).n <= this.#o.batchRows)
      ) {
        n += (this.#queue[take] as Entry).n;
        take++;
      }
      const entries = this.#queue.slice(0, take);
      // Each batch carries the signatures of its versions (a store recreated since the last
      // batch must learn them again; writing one already stored costs an ignored insert).
      const signatures: LoggedSignature[] = [];
      const signed = new Set<string>();
      const records: PredictionRecord[] = [];
      for (const e of entries) {
        const key = `${e.model.name}\u0000${e.model.version}`;
        if (!signed.has(key)) {
          signed.add(key);
          signatures.push({
            model: e.model.name,
            version: e.model.version,
            features: e.model.predictor.features,
            classes: e.model.classKeys,
          });
        }
        this.#expand(e, records);
      }
      try {
        await this.#o.store.append(records, signatures);
      } catch (err) {
        this.#failures++;
        this.#failingInARow++;
        this.#reason = `writing to ${this.#o.store.location} failed: ${(err as Error).message}`;
        this.#warn(
          `${this.#reason}; ${this.#queued} rows wait in memory (at most ${this.#o.queueRows})`,
        );
        return;
      }
      this.#failingInARow = 0;
      this.#queue.splice(0, take);
      this.#queued -= n;
      this.#written += n;
      if (this.#reason !== undefined) {
        this.#o.log.info({ store: this.#o.store.location }, 'the prediction log is written again');
        this.#reason = undefined;
      }
      // Let answers run between batches.
      if (this.#queue.length > 0) await new Promise((resolve) => setImmediate(resolve));
    }
  }

  #expand(e: Entry, out: PredictionRecord[]): void {
    const k = e.model.classKeys.length;
    const d = e.n === 0 || e.inputs === null ? 0 : e.inputs.length / e.n;
    const one = e.n === 1;
    for (let i = 0; i < e.n; i++) {
      out.push({
        id: rowId(e.id, i, e.n),
        time: e.time,
        model: e.model.name,
        version: e.model.version,
        commit: e.model.commit,
        pin: e.pin,
        inputs: e.inputs === null ? null : one ? e.inputs : e.inputs.slice(i * d, i * d + d),
        class: e.model.classKeys[e.classes[i] as number] as string,
        probabilities: one ? e.probabilities : e.probabilities.slice(i * k, i * k + k),
        latencyMs: e.latencyMs,
        sampleRate: this.#o.sampleRate,
      });
    }
  }

  /** Applies the retention policy once (deleting in batches). */
  async retain(): Promise<void> {
    try {
      const r = await this.#o.store.retain(this.#o.retention, this.#now());
      this.#unmatched += r.unmatchedFeedback;
      if (r.deletedRows > 0 || r.deletedFeedback > 0) {
        this.#o.log.info(r, 'prediction log retention: deleted old rows');
      }
    } catch (err) {
      this.#warn(`prediction log retention failed: ${(err as Error).message}`);
    }
  }

  #warn(message: string): void {
    const now = this.#now();
    if (now - this.#lastWarning < WARN_EVERY_MS) return;
    this.#lastWarning = now;
    this.#o.log.warn(
      { store: this.#o.store.location, queued: this.#queued, dropped: this.#dropped },
      message,
    );
  }

  status(): RecorderStatus {
    return {
      state: this.#reason === undefined ? 'ok' : 'degraded',
      location: this.#o.store.location,
      ...(this.#reason !== undefined ? { reason: this.#reason } : {}),
      queued: this.#queued,
      peakQueued: this.#peak,
      written: this.#written,
      dropped: this.#dropped,
      failures: this.#failures,
      unmatchedFeedback: this.#unmatched,
    };
  }

  /** Stops the timers, writes what is queued (retrying a failing store until `timeoutMs`), closes the store. */
  async stop(timeoutMs = 5000): Promise<void> {
    clearTimeout(this.#timer);
    clearInterval(this.#retentionTimer);
    const deadline = this.#now() + timeoutMs;
    await this.flush();
    while (this.#queue.length > 0 && this.#now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      await this.flush();
    }
    if (this.#queue.length > 0) {
      this.#o.log.error(
        { queued: this.#queued },
        'stopped with rows the prediction log could not take',
      );
    }
    await this.#o.store.close().catch(() => undefined);
  }
}
