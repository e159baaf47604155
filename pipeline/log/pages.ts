/**
 * A store's rows over a window, page by page after the cursor, oldest first: what a reader
 * that needs the rows themselves (not counts) walks, as `readServerPages` walks a server's.
 */
import type { LogQuery, LogStore, LoggedRow } from './store.ts';

/** The rows `query` selects, one page (`pageRows`, 10000) at a time. */
export async function* readStorePages(
  store: LogStore,
  query: Omit<LogQuery, 'after' | 'limit'>,
  pageRows = 10_000,
): AsyncGenerator<LoggedRow[]> {
  let after: number | undefined;
  for (;;) {
    const page = await store.read({ ...query, limit: pageRows, after });
    yield page.rows;
    if (page.next === null) return;
    after = page.next;
  }
}
