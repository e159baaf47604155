/**
 * pin → artifact → predictor: compiles a model artifact, once, when a version is loaded, into a
 * predictor over flat typed arrays, so a request walks integers and floats, never a library's
 * object graph.
 *
 * Each family compiles its own artifacts (its `compile`) with the arithmetic its classifier
 * predicts with, after the checks its `load` makes (kind, format version, shape): the server
 * accepts exactly what the pipeline accepts and answers exactly what it computes, bit for bit
 * (`predictor.test.ts`).
 */
import { familyOf } from './index.ts';
import type { Predictor } from './types.ts';

export type { Predictor } from './types.ts';

/**
 * Checks an artifact (parsed JSON) and compiles it with the family of its `kind`. Throws
 * `ModelFormatError` naming the first bad field.
 */
export function compilePredictor(artifact: unknown): Predictor {
  return familyOf(artifact).compile(artifact);
}

/** Probabilities of many rows, each a fresh array (for tests and tools, not the hot path). */
export function predictProba(
  predictor: Predictor,
  rows: readonly (readonly number[])[],
): number[][] {
  const out = new Float64Array(predictor.classes.length);
  return rows.map((row) => {
    predictor.predictRow(row, out);
    return Array.from(out);
  });
}
