/**
 * The current window's side of drift, filled row by row as rows are read: every value held
 * (exact tests; rows × features × 8 bytes) up to `maxRows`, then fixed-size sketches
 * (`sketch.ts`) the held values are folded into, so memory stays bounded however long the
 * window is.
 */
import { binIndex } from './bins.ts';
import {
  categoryKey,
  type CategoricalPlan,
  type FeaturePlan,
  type NumericalPlan,
} from './reference.ts';
import { CategoryCounts, KsSketch, WassersteinSketch } from './sketch.ts';

/** Rows the columns hold before they first grow. */
const INITIAL_ROWS = 4096;

/** Default `--max-rows`: 5,000,000 rows of exact values, e.g. 400 MB for 10 features. */
export const DEFAULT_MAX_ROWS = 5_000_000;

/** What a numerical feature's window is summarised as beyond `maxRows`. */
export interface NumericalSketch {
  kind: 'numerical';
  ks: KsSketch | null;
  wasserstein: WassersteinSketch | null;
  /** Counts in PSI's bins. */
  psi: number[];
}

export type FeatureSketch = NumericalSketch | { kind: 'categorical'; counts: CategoryCounts };

/** The current window: values or sketches per feature, and the predicted-class counts. */
export class CurrentWindow {
  readonly plans: readonly FeaturePlan[];
  readonly maxRows: number;
  readonly predicted = new Map<string, number>();
  #columns: Float64Array[] | null;
  #sketches: FeatureSketch[] | null = null;
  #rows = 0;

  constructor(plans: readonly FeaturePlan[], maxRows: number) {
    this.plans = plans;
    this.maxRows = maxRows;
    // Columns start small and double as rows come (the sources do not count rows first).
    const capacity = Math.max(1, Math.min(maxRows, INITIAL_ROWS));
    this.#columns = plans.map(() => new Float64Array(capacity));
  }

  get rows(): number {
    return this.#rows;
  }

  get method(): 'exact' | 'sketch' {
    return this.#sketches === null ? 'exact' : 'sketch';
  }

  /** Bytes held for the window's values (the columns' capacity, or the sketches). */
  get memoryBytes(): number {
    if (this.#columns !== null) return this.#columns.reduce((s, c) => s + c.byteLength, 0);
    let bytes = 0;
    for (const s of this.#sketches ?? []) {
      bytes +=
        s.kind === 'categorical'
          ? s.counts.bytes
          : (s.ks?.bytes ?? 0) + (s.wasserstein?.bytes ?? 0) + s.psi.length * 8;
    }
    return bytes;
  }

  /** The exact values of feature `i` (the first `rows`), while no sketch replaced them. */
  column(i: number): Float64Array | null {
    return this.#columns === null
      ? null
      : (this.#columns[i] as Float64Array).subarray(0, this.#rows);
  }

  sketch(i: number): FeatureSketch | null {
    return this.#sketches === null ? null : (this.#sketches[i] as FeatureSketch);
  }

  /** Adds one row: its inputs in the plans' feature order, and its predicted class if known. */
  add(inputs: ArrayLike<number>, predicted: string | null): void {
    if (predicted !== null) this.predicted.set(predicted, (this.predicted.get(predicted) ?? 0) + 1);
    if (this.#columns !== null && this.#rows === this.maxRows) this.#toSketches();
    const columns = this.#columns;
    if (columns !== null) {
      if (this.#rows === (columns[0] as Float64Array).length) this.#grow();
      const cols = this.#columns as Float64Array[];
      for (let j = 0; j < cols.length; j++)
        (cols[j] as Float64Array)[this.#rows] = inputs[j] as number;
    } else {
      const sketches = this.#sketches as FeatureSketch[];
      for (let j = 0; j < sketches.length; j++)
        addTo(sketches[j] as FeatureSketch, this.plans[j] as FeaturePlan, inputs[j] as number);
    }
    this.#rows++;
  }

  #grow(): void {
    const columns = this.#columns as Float64Array[];
    const size = Math.min(this.maxRows, Math.max(1, (columns[0] as Float64Array).length * 2));
    this.#columns = columns.map((c) => {
      const bigger = new Float64Array(size);
      bigger.set(c);
      return bigger;
    });
  }

  #toSketches(): void {
    const columns = this.#columns as Float64Array[];
    this.#sketches = this.plans.map((plan, j) => {
      const sketch = newSketch(plan);
      const values = columns[j] as Float64Array;
      for (let i = 0; i < this.#rows; i++) addTo(sketch, plan, values[i] as number);
      return sketch;
    });
    this.#columns = null;
  }
}

function newSketch(plan: FeaturePlan): FeatureSketch {
  if (plan.kind === 'categorical') return { kind: 'categorical', counts: new CategoryCounts(plan) };
  return {
    kind: 'numerical',
    ks: plan.test === 'ks' ? new KsSketch(plan) : null,
    wasserstein: plan.test === 'wasserstein' ? new WassersteinSketch(plan) : null,
    psi: new Array<number>(plan.edges.length - 1).fill(0),
  };
}

function addTo(sketch: FeatureSketch, plan: FeaturePlan, x: number): void {
  if (sketch.kind === 'categorical') {
    sketch.counts.add(categoryKey(x));
    return;
  }
  sketch.ks?.add(x);
  sketch.wasserstein?.add(x);
  const b = binIndex((plan as NumericalPlan).edges, x);
  sketch.psi[b] = (sketch.psi[b] as number) + 1;
}

/** Counts of `values` per category of `plan`, plus any category the reference lacks. */
export function countCategories(values: ArrayLike<number>, plan: CategoricalPlan): CategoryCounts {
  const counts = new CategoryCounts(plan);
  for (let i = 0; i < values.length; i++) counts.add(categoryKey(values[i] as number));
  return counts;
}
