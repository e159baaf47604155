/** Where things live in the registry. Every path is built from a checked model name and version. */
import { RegistryError } from '../errors.ts';
import { modelName } from './schema.ts';

export const REGISTRY_DIR = 'registry';

/** Refuses a model name that could escape its folder (`../x`, `a/b`) or is not a registry name. */
export function checkModelName(name: string): string {
  const r = modelName.safeParse(name);
  if (!r.success) {
    throw new RegistryError(
      `"${name}" is not a valid model name: ${r.error.issues[0]?.message ?? 'invalid'}`,
      {
        model: name,
      },
    );
  }
  return name;
}

function checkVersion(version: number): number {
  if (!Number.isSafeInteger(version) || version < 1) {
    throw new RegistryError(
      `"${version}" is not a version: versions are positive integers (iris@3)`,
      { version },
    );
  }
  return version;
}

export const paths = {
  model: (model: string) => `${REGISTRY_DIR}/${checkModelName(model)}`,
  pins: (model: string) => `${REGISTRY_DIR}/${checkModelName(model)}/pins.json`,
  versions: (model: string) => `${REGISTRY_DIR}/${checkModelName(model)}/versions`,
  version: (model: string, v: number) =>
    `${REGISTRY_DIR}/${checkModelName(model)}/versions/${checkVersion(v)}`,
  card: (model: string, v: number) => `${paths.version(model, v)}/card.json`,
  artifact: (model: string, v: number) => `${paths.version(model, v)}/model.json`,
};
