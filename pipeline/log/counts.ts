/**
 * Live-quality counts (what `liveQuality` computes from), tallied per model, version and pin. A
 * store tallies its grouped query results here, and `pinml live --server` tallies the rows of a
 * server's `/logs` pages, so both give the same counts in the same order. Pure: values in,
 * values out.
 */
import { PinmlError } from '../errors.ts';
import type { LoggedRow, Pin, QualityCounts } from './store.ts';

/** The group a count belongs to. */
export interface GroupKey {
  model: string;
  version: number;
  pin: Pin;
}

interface Group {
  counts: QualityCounts;
  cells: Map<string, { label: string; predicted: string; rows: number }>;
}

const PINS: readonly string[] = ['production', 'canary', 'shadow'];
const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Adds up counts; `counts()` returns them sorted by model, version and pin. */
export class QualityTally {
  readonly #groups = new Map<string, Group>();
  readonly #classes = new Map<string, string[]>();

  #group(key: GroupKey): Group {
    const id = `${key.model}\u0000${key.version}\u0000${key.pin}`;
    let g = this.#groups.get(id);
    if (g === undefined) {
      g = {
        counts: {
          model: key.model,
          version: key.version,
          pin: key.pin,
          rows: 0,
          sampleRate: 1,
          classes: [],
          predicted: {},
          confusion: [],
        },
        cells: new Map(),
      };
      this.#groups.set(id, g);
    }
    return g;
  }

  /** `rows` recorded rows predicted as `predicted`, the smallest sampling rate among them `sampleRate`. */
  addPredicted(key: GroupKey, predicted: string, rows: number, sampleRate: number): void {
    const c = this.#group(key).counts;
    c.rows += rows;
    c.sampleRate = Math.min(c.sampleRate, sampleRate);
    c.predicted[predicted] = (c.predicted[predicted] ?? 0) + rows;
  }

  /** `rows` labelled rows of true class `label` predicted as `predicted`. */
  addLabelled(key: GroupKey, label: string, predicted: string, rows: number): void {
    const cells = this.#group(key).cells;
    const id = `${label}\u0000${predicted}`;
    const cell = cells.get(id);
    if (cell === undefined) cells.set(id, { label, predicted, rows });
    else cell.rows += rows;
  }

  /** A version's classes (later calls add the classes not yet named, in their order). */
  addClasses(model: string, version: number, classes: readonly string[]): void {
    const id = `${model}\u0000${version}`;
    const known = this.#classes.get(id) ?? [];
    for (const name of classes) if (!known.includes(name)) known.push(name);
    this.#classes.set(id, known);
  }

  /** One row as read back: predicted, labelled when it has feedback; its probabilities name the classes. */
  add(row: LoggedRow): void {
    this.addPredicted(row, row.class, 1, row.sampleRate);
    if (row.label !== null) this.addLabelled(row, row.label, row.class, 1);
    this.addClasses(row.model, row.version, Object.keys(row.probabilities));
  }

  counts(): QualityCounts[] {
    return [...this.#groups.values()]
      .map(({ counts, cells }) => ({
        ...counts,
        predicted: { ...counts.predicted },
        classes: [...(this.#classes.get(`${counts.model}\u0000${counts.version}`) ?? [])],
        confusion: [...cells.values()]
          .map((cell) => ({ ...cell }))
          .sort((a, b) => byText(a.label, b.label) || byText(a.predicted, b.predicted)),
      }))
      .sort(
        (a, b) =>
          byText(a.model, b.model) ||
          a.version - b.version ||
          PINS.indexOf(a.pin) - PINS.indexOf(b.pin),
      );
  }
}

/** The counts of rows read back (a window of `/logs` pages), grouped as a store's `quality()`. */
export function countsOf(rows: Iterable<LoggedRow>): QualityCounts[] {
  const tally = new QualityTally();
  for (const row of rows) tally.add(row);
  return tally.counts();
}

/**
 * The rows of an NDJSON page of `/logs` (one `LoggedRow` a line); `source` names the page in a
 * message about a line that is not a row.
 */
export function rowsOfNdjson(text: string, source: string): LoggedRow[] {
  const rows: LoggedRow[] = [];
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch {
      row = undefined;
    }
    const r = row as Partial<LoggedRow> | undefined;
    if (
      r === undefined ||
      r === null ||
      typeof r.model !== 'string' ||
      typeof r.version !== 'number' ||
      typeof r.pin !== 'string' ||
      !PINS.includes(r.pin) ||
      typeof r.class !== 'string' ||
      typeof r.sampleRate !== 'number' ||
      typeof r.probabilities !== 'object' ||
      r.probabilities === null ||
      !(r.label === null || typeof r.label === 'string')
    ) {
      throw new PinmlError(
        'E_LOG_STORE',
        `${source}: line ${i + 1} is not a prediction log row (model, version, pin, class, probabilities, sampleRate, label): ${line.slice(0, 120)}`,
        { source, line: i + 1 },
      );
    }
    rows.push(r as LoggedRow);
  });
  return rows;
}
