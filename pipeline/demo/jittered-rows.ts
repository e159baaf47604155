/**
 * New rows for the demo's "data arrives" step: jittered copies of rows already in a CSV
 * dataset, drawn deterministically from a seed, so every run of the demo adds the same bytes.
 */
import { hashUnit } from '../split.ts';

export interface JitterOptions {
  /** How many rows to make; they cycle through the classes so the counts stay balanced. */
  count: number;
  /** The label column; every other column is numeric. */
  label: string;
  seed: number;
  /** Largest change added to or taken from a measurement (default 0.2). */
  jitter?: number;
  /** Decimals of the numbers written (default 1, as the Iris file). */
  decimals?: number;
}

/**
 * Makes `count` CSV data lines (no header, no final newline) from the rows of `csv`: each
 * copies a row of its class picked by a seeded hash, with every number moved by up to
 * ±`jitter`, rounded, and kept above zero (a length is never negative).
 */
export function jitteredRows(csv: string, options: JitterOptions): string[] {
  const jitter = options.jitter ?? 0.2;
  const decimals = options.decimals ?? 1;
  const [header, ...lines] = csv.split(/\r?\n/).filter((l) => l.trim() !== '');
  const columns = (header ?? '').split(',');
  const labelAt = columns.indexOf(options.label);
  if (labelAt < 0) throw new Error(`the dataset has no column "${options.label}"`);
  const byClass = new Map<string, string[][]>();
  for (const line of lines) {
    const cells = line.split(',');
    const label = cells[labelAt] as string;
    byClass.set(label, [...(byClass.get(label) ?? []), cells]);
  }
  const classes = [...byClass.keys()].sort();
  const floor = 10 ** -decimals;
  const out: string[] = [];
  for (let i = 0; i < options.count; i++) {
    const rows = byClass.get(classes[i % classes.length] as string) as string[][];
    const source = rows[Math.floor(hashUnit('pinml-demo-row', options.seed, i) * rows.length)];
    const cells = (source as string[]).map((cell, c) => {
      if (c === labelAt) return cell;
      const moved =
        Number(cell) + (hashUnit('pinml-demo-cell', options.seed, i, c) * 2 - 1) * jitter;
      return Math.max(floor, moved).toFixed(decimals);
    });
    out.push(cells.join(','));
  }
  return out;
}
