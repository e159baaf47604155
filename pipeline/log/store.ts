/**
 * The prediction log: what the server records of every row it answers, the ground truth that
 * comes back later (feedback), and what is read from them (pages of rows, live-quality counts,
 * retention). The server writes it, and the CLI, drift and the registry pages read it, all
 * through this interface; `sqlite.ts` is the embedded store behind it (PostgreSQL, for several
 * replicas, is another).
 */

/** The server's data folder when `--data-dir` (`PINML_DATA_DIR`) is not given, under its working folder. */
export const DEFAULT_DATA_DIR = '.pinml/serve';

/** The embedded store's file in a server's data folder. */
export const LOG_FILE_NAME = 'predictions.db';

/** The pin a row was answered from. */
export type Pin = 'production' | 'canary' | 'shadow';

/** One answered row. */
export interface PredictionRecord {
  /** The row id: the request id for a single row, `<request id>:<index>` for a batch row. */
  id: string;
  /** When it was answered, in milliseconds since the epoch. */
  time: number;
  model: string;
  version: number;
  /** The registry commit that answered. */
  commit: string;
  pin: Pin;
  /** The inputs in the version's signature order; null when inputs are not logged. */
  inputs: ArrayLike<number> | null;
  /** The predicted class, as a JSON key (`String(label)`). */
  class: string;
  /** Every class's probability, in the signature's class order. */
  probabilities: ArrayLike<number>;
  /** Time from the request's arrival to its answer. */
  latencyMs: number;
  /** The share of rows recorded when this one was (1: every row). */
  sampleRate: number;
}

/** A version's signature, so rows read back name their inputs and classes. */
export interface LoggedSignature {
  model: string;
  version: number;
  features: readonly string[];
  classes: readonly string[];
}

/** Ground truth for a row id. */
export interface FeedbackRecord {
  id: string;
  model: string;
  /** The true class, as a JSON key. */
  label: string;
  time: number;
}

/** What storing one feedback item did. */
export type FeedbackOutcome = 'created' | 'unchanged' | 'replaced';

/** Which rows to read: every filter is optional; pages follow the cursor `after`. */
export interface LogQuery {
  model?: string | undefined;
  version?: number | undefined;
  pin?: Pin | undefined;
  /** Inclusive, milliseconds since the epoch. */
  from?: number | undefined;
  /** Exclusive. */
  until?: number | undefined;
  /** Only rows with feedback (true) or without (false). */
  labelled?: boolean | undefined;
  /** The cursor of the previous page. */
  after?: number | undefined;
  limit: number;
}

/** A row as read back, with its feedback joined. */
export interface LoggedRow {
  /** Its place in the log: the cursor. */
  seq: number;
  id: string;
  time: number;
  model: string;
  version: number;
  commit: string;
  pin: Pin;
  /** Inputs keyed by feature; null when inputs were not logged. */
  inputs: Record<string, number> | null;
  class: string;
  probabilities: Record<string, number>;
  latencyMs: number;
  sampleRate: number;
  /** The feedback label, if any has arrived. */
  label: string | null;
}

/** The response header of `GET /logs` that carries the next page's cursor (absent after the last). */
export const LOG_CURSOR_HEADER = 'X-Pinml-Next-Cursor';

/** One page of rows; `next` is the cursor of the following page, null after the last. */
export interface LogPage {
  rows: LoggedRow[];
  next: number | null;
}

/** What live quality is computed from, per model, version and pin, over a window. */
export interface QualityCounts {
  model: string;
  version: number;
  pin: Pin;
  /** Rows recorded in the window. */
  rows: number;
  /** The smallest sampling rate among them (1: every row was recorded). */
  sampleRate: number;
  /** The version's classes, in its signature's order (empty when the store does not know it). */
  classes: string[];
  /** Recorded rows per predicted class. */
  predicted: Record<string, number>;
  /** Labelled rows per (true label, predicted class), sorted by label, then predicted class. */
  confusion: { label: string; predicted: string; rows: number }[];
}

/** How long rows are kept: by age, by count, or both. */
export interface RetentionPolicy {
  maxAgeMs?: number | undefined;
  /** The newest rows kept (0: none). */
  maxRows?: number | undefined;
}

/** What one retention pass deleted, and the feedback that never met its row. */
export interface RetentionResult {
  deletedRows: number;
  deletedFeedback: number;
  /** Feedback older than the retention window whose row was never recorded. */
  unmatchedFeedback: number;
}

/** A prediction log. Every method may reject when the store cannot be reached or written. */
export interface LogStore {
  /** Where it is (a file, a database URL without credentials), for logs and `/health`. */
  readonly location: string;
  /** Records rows (and the signatures of their versions), in one transaction. */
  append(rows: readonly PredictionRecord[], signatures: readonly LoggedSignature[]): Promise<void>;
  /** Stores feedback; a different label for an id replaces the old one. */
  appendFeedback(items: readonly FeedbackRecord[]): Promise<FeedbackOutcome[]>;
  /** A page of rows, oldest first. */
  read(query: LogQuery): Promise<LogPage>;
  /** Live-quality counts over `[from, until)`. */
  quality(window: { from: number; until: number; model?: string }): Promise<QualityCounts[]>;
  /**
   * Deletes rows past the policy, at most `batchRows` per transaction, and feedback older than
   * the age limit; `now` decides what is old.
   */
  retain(policy: RetentionPolicy, now: number, batchRows?: number): Promise<RetentionResult>;
  close(): Promise<void>;
}
