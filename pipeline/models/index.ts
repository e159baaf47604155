/**
 * The model families pinml knows: find one by its `pinml.yaml` algorithm name, or load any
 * artifact by its `kind` tag.
 */
import { ModelFormatError, PinmlError } from '../errors.ts';
import { mlRandomForestFamily } from './ml-random-forest.ts';
import { mlLogisticRegressionFamily } from './ml-logistic-regression.ts';
import { randomForestFamily } from './random-forest/index.ts';
import { logisticRegressionFamily } from './logistic-regression.ts';
import type { Classifier, ModelFamily, RunOptions } from './types.ts';

/**
 * Every model family, in the order they are documented; `pinml.yaml`'s candidate schema is
 * built from this list (`config.ts`).
 */
export const families = Object.freeze([
  randomForestFamily,
  logisticRegressionFamily,
  mlRandomForestFamily,
  mlLogisticRegressionFamily,
] as const);

/**
 * The family for a `pinml.yaml` algorithm name (`random-forest`, `logistic-regression`,
 * `ml-random-forest` or `ml-logistic-regression`). Throws a `PinmlError` (`E_CONFIG`) naming
 * the known ones otherwise.
 */
export function familyFor(algorithm: string): ModelFamily {
  const family = families.find((f) => f.algorithm === algorithm);
  if (family === undefined) {
    const names = families.map((f) => f.algorithm);
    throw new PinmlError(
      'E_CONFIG',
      `unknown algorithm ${JSON.stringify(algorithm)}: use one of ${names.join(', ')}`,
      { algorithm, known: names },
    );
  }
  return family;
}

/**
 * The family that wrote an artifact of `kind`, or undefined for a kind no family writes. A
 * recorded candidate is rebuilt with this family: cards written before pinml had its own forest
 * and logistic regression name their library-backed families `random-forest` and
 * `logistic-regression`, the names those algorithms have now.
 */
export function familyForArtifact(kind: string): ModelFamily | undefined {
  return families.find((f) => f.kind === kind);
}

/**
 * The family that reads `artifact`, by its `kind`. Throws `ModelFormatError` for what is not an
 * artifact and for a kind no family writes, naming the kinds this pinml loads.
 */
export function familyOf(artifact: unknown): ModelFamily {
  if (typeof artifact !== 'object' || artifact === null || Array.isArray(artifact)) {
    throw new ModelFormatError('model artifact: must be a JSON object with a "kind" field');
  }
  const kind = (artifact as { kind?: unknown }).kind;
  const family = families.find((f) => f.kind === kind);
  if (family === undefined) {
    const kinds = families.map((f) => f.kind);
    throw new ModelFormatError(
      `model artifact: kind ${describeKind(kind)}; this pinml loads ${kinds.join(', ')}`,
      { field: 'kind', kind, known: kinds },
    );
  }
  return family;
}

/**
 * Loads any artifact by its `kind` (see {@link familyOf}). Throws `ModelFormatError` for
 * an unknown kind and for anything the family refuses (format version, shape).
 */
export function loadModel(artifact: unknown, run?: RunOptions): Classifier {
  return familyOf(artifact).load(artifact, run);
}

function describeKind(kind: unknown): string {
  if (kind === undefined) return 'is missing';
  if (typeof kind !== 'string') return `must be a string, got a ${typeof kind}`;
  return `${JSON.stringify(kind)} is not known`;
}
