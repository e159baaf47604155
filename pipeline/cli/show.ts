/** `pinml show`: a model's versions and pins, or one version's card. */
import type { Command } from 'commander';
import { canonicalJson } from '../json.ts';
import {
  cardOf,
  listModels,
  productionVersion,
  readModelState,
  requireModel,
} from '../registry/registry.ts';
import { renderCard, renderModel } from '../registry/render.ts';
import { modelRef, type CliContext } from './context.ts';

export function showCommand(program: Command, cli: CliContext): void {
  program
    .command('show')
    .description("a model's versions and pins, or one version's card")
    .argument('[model[@version]]', 'e.g. iris or iris@3 (default: every model)')
    .option('--ref <ref>', 'branch or commit', 'main')
    .option('--json', 'print JSON')
    .action(async (target: string | undefined, opts: { ref: string; json?: boolean }) => {
      const out = cli.io.stdout;
      const repo = cli.repo();
      const commit = await repo.resolve(opts.ref);
      const wanted = target === undefined ? undefined : modelRef(target, false);
      if (wanted !== undefined) await requireModel(repo, commit, wanted.model, opts.ref);
      const names = wanted === undefined ? await listModels(repo, commit) : [wanted.model];
      const version = wanted?.version;
      const found: unknown[] = [];
      for (const name of names) {
        const state = await readModelState(repo, commit, name);
        if (version !== undefined) {
          const card = cardOf(state, version);
          if (opts.json) found.push(card);
          else out.write(renderCard(card, productionVersion(state) === version));
        } else if (opts.json) {
          found.push({
            model: name,
            production: productionVersion(state),
            versions: state.cards.map((c) => c.version),
          });
        } else out.write(renderModel(state));
      }
      if (opts.json) out.write(canonicalJson(version !== undefined ? found[0] : found));
    });
}
