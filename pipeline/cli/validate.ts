/** `pinml validate`: applies the gate to a run folder; exit 1 when it fails. */
import type { Command } from 'commander';
import { applyGate } from '../gate.ts';
import { canonicalJson } from '../json.ts';
import { readRunFolder } from '../run-folder.ts';
import { renderGate } from '../run-summary.ts';
import { resolveRunDir, type CliContext } from './context.ts';

export function validateCommand(program: Command, cli: CliContext): void {
  program
    .command('validate')
    .description('apply the gate to a run folder; exit 1 when it fails')
    .argument('[dir]', 'run folder (default: the only one under .pinml/runs)')
    .option('--json', 'print the verdict as JSON')
    .action(async (dir: string | undefined, opts: { json?: boolean }) => {
      const { record } = await readRunFolder(await resolveRunDir(cli, dir));
      const verdict = applyGate(record.chosen.holdout, record.config.gate);
      cli.io.stdout.write(
        opts.json
          ? canonicalJson({ model: record.model, candidate: record.chosen.name, ...verdict })
          : `${record.model} (${record.chosen.name}) ${renderGate(verdict)}\n${verdict.reasons.map((r) => `  ${r}\n`).join('')}`,
      );
      if (!verdict.passed) cli.setExit(1);
    });
}
