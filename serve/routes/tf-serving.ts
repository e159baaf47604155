/**
 * TensorFlow Serving's REST input formats, which MLflow's `instances`/`inputs` and KServe v1's
 * `:predict` both take: the row format (a list of rows, each an object of features or an array in
 * signature order) and the columnar format (an object mapping every feature to its list of
 * values).
 */
import type { RowReader } from '../answer/rows.ts';
import { describeValue, invalidInput } from '../http/errors.ts';

/** The rows of an `instances` or `inputs` value (`field` names it in errors). */
export function tfServingRows(
  value: unknown,
  field: string,
  reader: RowReader,
  batchLimit: number,
): Float64Array[] {
  if (Array.isArray(value)) return reader.list(value, field, batchLimit, true);
  if (typeof value === 'object' && value !== null) {
    const columns = value as Record<string, unknown>;
    const names = Object.keys(columns);
    const lists = names.map((name) => {
      const list = columns[name];
      if (!Array.isArray(list)) {
        throw invalidInput(
          `${field}.${name}`,
          `must be a list of values (the columnar format maps every feature to a list), got ${describeValue(list)}`,
        );
      }
      return list as readonly unknown[];
    });
    return reader.columns(
      names,
      (j) => lists[j] as readonly unknown[],
      (j, i) => (j < 0 ? field : `${field}.${names[j] ?? ''}${i < 0 ? '' : `[${i}]`}`),
      batchLimit,
    );
  }
  throw invalidInput(
    field,
    `must be a list of rows ([[5.1, 3.5, ...]] or [{"feature": 5.1, ...}]) or an object of columns, got ${describeValue(value)}`,
  );
}
