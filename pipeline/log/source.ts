/**
 * A prediction log as its readers take it (`pinml live`, `pinml compare --live`, the monitor):
 * counts and pages over a window, from a store file (`cli/log-source.ts` opens it) or a running
 * server's `GET /logs` (here: no native module, so the bundled actions use it).
 */
import { readServerCounts, readServerPages } from './logs-client.ts';
import type { LoggedRow, QualityCounts } from './store.ts';

/** What is read, over `[from, until)`. */
export interface LogWindow {
  model: string;
  from: number;
  until: number;
}

/** The log, wherever it is. */
export interface LogSource {
  /** The file or server, as the user reads it. */
  source: string;
  /** Live-quality counts, per version and pin. */
  counts(q: LogWindow & { version?: number | undefined }): Promise<QualityCounts[]>;
  /** The rows, a page at a time, oldest first; `labelled` keeps those with feedback (or without). */
  pages(q: LogWindow & { labelled?: boolean }): AsyncIterable<LoggedRow[]>;
}

/** A running server's `GET /logs` (the admin token is sent, never shown). */
export function serverLogSource(server: { url: string; token: string }): LogSource {
  return {
    source: server.url,
    counts: (q) => readServerCounts({ ...server, ...q }),
    pages: (q) => readServerPages({ ...server, ...q }),
  };
}
