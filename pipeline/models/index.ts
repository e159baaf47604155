/**
 * The model families pinml knows: find one by its `pinml.yaml` algorithm name, or load any
 * artifact by its `kind` tag.
 */
import { ModelFormatError, PinmlError } from '../errors.ts';
import { forestFamily } from './forest.ts';
import { logisticFamily } from './logistic.ts';
import type { Classifier, ModelFamily } from './types.ts';

// Each family checks its params at run time in fit(), so erasing their type here is safe.
const known = [forestFamily, logisticFamily] as unknown as readonly ModelFamily[];

/** Every model family, in the order they are documented. */
export const families: readonly ModelFamily[] = Object.freeze([...known]);

/** Other names accepted for an algorithm (the artifact kind of the forest reads as one too). */
const ALIASES: Readonly<Record<string, string>> = Object.freeze({
  'ml-random-forest': 'random-forest',
});

/**
 * The family for a `pinml.yaml` algorithm name (`random-forest`, alias `ml-random-forest`, or
 * `logistic-regression`). Throws a `PinmlError` (`E_CONFIG`) naming the known ones otherwise.
 */
export function familyFor(algorithm: string): ModelFamily {
  const name = Object.hasOwn(ALIASES, algorithm) ? ALIASES[algorithm] : algorithm;
  const family = families.find((f) => f.algorithm === name);
  if (family === undefined) {
    const names = families.map((f) => f.algorithm);
    const aliases = Object.entries(ALIASES).map(([alias, of]) => `${alias} for ${of}`);
    throw new PinmlError(
      'E_CONFIG',
      `unknown algorithm ${JSON.stringify(algorithm)}: use one of ${names.join(', ')} (aliases: ${aliases.join(', ')})`,
      { algorithm, known: names },
    );
  }
  return family;
}

/**
 * Loads any artifact by its `kind`. Throws `ModelFormatError` for an unknown kind and for
 * anything the family refuses (format version, shape).
 */
export function loadModel(artifact: unknown): Classifier {
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
  return family.load(artifact);
}

function describeKind(kind: unknown): string {
  if (kind === undefined) return 'is missing';
  if (typeof kind !== 'string') return `must be a string, got a ${typeof kind}`;
  return `${JSON.stringify(kind)} is not known`;
}
