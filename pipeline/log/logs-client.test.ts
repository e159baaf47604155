import { describe, expect, it } from 'vitest';
import { readServerPages } from './logs-client.ts';
import { LOG_CURSOR_HEADER, type LoggedRow } from './store.ts';

const row = (seq: number, label: string | null): LoggedRow => ({
  seq,
  id: `r${seq}`,
  time: 0,
  model: 'iris',
  version: 1,
  commit: 'c'.repeat(40),
  pin: 'production',
  inputs: { a: seq },
  class: 'setosa',
  probabilities: { setosa: 1 },
  latencyMs: 1,
  sampleRate: 1,
  label,
});

describe('readServerPages', () => {
  it('asks for the labelled rows of the window and follows the cursor to the last page', async () => {
    const asked: URL[] = [];
    const pages = [[row(1, 'setosa'), row(2, 'setosa')], [row(3, 'versicolor')]];
    const fetchPage = (url: URL): Promise<Response> => {
      const u = new URL(url);
      asked.push(u);
      const page = u.searchParams.has('after') ? 1 : 0;
      const body = (pages[page] ?? []).map((r) => `${JSON.stringify(r)}\n`).join('');
      const headers: Record<string, string> = page === 0 ? { [LOG_CURSOR_HEADER]: '2' } : {};
      return Promise.resolve(new Response(body, { status: 200, headers }));
    };
    const got: string[][] = [];
    const query = { url: 'http://s/p', token: 't', model: 'iris', from: 0, until: 86_400_000 };
    for await (const page of readServerPages(
      { ...query, labelled: true },
      fetchPage as typeof fetch,
    ))
      got.push(page.map((r) => r.id));
    expect(got).toEqual([['r1', 'r2'], ['r3']]);
    expect(asked.map((u) => `${u.pathname}?${u.searchParams.toString()}`)).toEqual([
      '/p/logs?model=iris&from=1970-01-01T00%3A00%3A00.000Z&until=1970-01-02T00%3A00%3A00.000Z&labelled=true&limit=10000',
      '/p/logs?model=iris&from=1970-01-01T00%3A00%3A00.000Z&until=1970-01-02T00%3A00%3A00.000Z&labelled=true&limit=10000&after=2',
    ]);
  });
});
