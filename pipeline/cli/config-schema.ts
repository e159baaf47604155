/** `pinml config-schema`: prints the JSON Schema of pinml.yaml. */
import type { Command } from 'commander';
import { configJsonSchema } from '../config.ts';
import { canonicalJson } from '../json.ts';
import type { CliContext } from './context.ts';

export function configSchemaCommand(program: Command, cli: CliContext): void {
  program
    .command('config-schema')
    .description('print the JSON Schema of pinml.yaml')
    .action(() => {
      cli.io.stdout.write(canonicalJson(configJsonSchema()));
    });
}
