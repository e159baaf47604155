/**
 * `features: all` expanded: a model's features listed from its dataset's header, so every run,
 * training key and card records the list, never the shorthand.
 */
import { didYouMean } from './closest-name.ts';
import type { ModelConfig, PinmlConfig, PinmlConfigInput } from './config.ts';
import { ConfigError, type Problem } from './errors.ts';

/**
 * Lists the features of every model written with `features: all`, from `headerOf` (the
 * dataset's header; undefined when it cannot be read, which the dataset check reports later):
 * every column but the label and `exclude`, in header order. An `exclude` name the header lacks
 * is refused with a did-you-mean.
 */
export async function expandFeatures(
  config: PinmlConfigInput,
  headerOf: (dataset: string) => Promise<string[] | undefined>,
  file = 'pinml.yaml',
): Promise<PinmlConfig> {
  const models: Record<string, ModelConfig> = {};
  const problems: Problem[] = [];
  for (const [name, model] of Object.entries(config.models)) {
    const { exclude, features, ...rest } = model;
    if (features !== 'all') {
      models[name] = { ...rest, features };
      continue;
    }
    const header = (await headerOf(model.dataset)) ?? [];
    for (const [i, column] of (exclude ?? []).entries()) {
      if (header.length > 0 && !header.includes(column)) {
        problems.push({
          file,
          field: `models.${name}.exclude[${i}]`,
          message: `${model.dataset} has no column "${column}"${didYouMean(column, header)}`,
        });
      }
    }
    const listed = header.filter((c) => c !== model.label && !(exclude ?? []).includes(c));
    if (header.length > 0 && listed.length === 0) {
      problems.push({
        file,
        field: `models.${name}.features`,
        message: `\`all\` leaves no feature: ${model.dataset} has only the label and excluded columns`,
      });
    }
    models[name] = { ...rest, features: listed };
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return { version: 1, models };
}
