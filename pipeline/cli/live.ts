/**
 * `pinml live`: a model's live quality over a window of the prediction log, read from a store
 * file (the server's `<data-dir>/predictions.db`) or from a running server's `GET /logs`.
 */
import type { Command } from 'commander';
import { canonicalJson } from '../json.ts';
import { DEFAULT_QUALITY_OPTIONS, liveQuality } from '../log/quality.ts';
import { renderLiveQuality } from '../log/render.ts';
import { modelRef, type CliContext } from './context.ts';
import {
  logSource,
  sinceInstant,
  withLogSourceOptions,
  type LogSourceOptions,
} from './log-source.ts';

interface LiveOptions extends LogSourceOptions {
  since: string;
  json?: boolean;
}

export function liveCommand(program: Command, cli: CliContext): void {
  withLogSourceOptions(
    program
      .command('live')
      .description(
        "a model's live quality from the prediction log: accuracy and macro-F1 on the rows with feedback, with intervals, and the predicted-class mix, per version and pin",
      )
      .argument('<model>', 'e.g. iris, or iris@3 for one version')
      .option(
        '--since <when>',
        'start of the window: a duration ago (90m, 24h, 7d) or ISO 8601',
        '24h',
      ),
  )
    .option('--json', 'print the figures as JSON')
    .action(async (target: string, opts: LiveOptions) => {
      const { model, version } = modelRef(target, false);
      const now = Date.now();
      const from = sinceInstant(opts.since, now);
      const window = { from, until: now };
      const read = logSource(cli, opts);
      let counts = await read.counts({ model, version, ...window });
      if (version !== undefined) counts = counts.filter((c) => c.version === version);
      const figures = counts.map((c) => liveQuality(c));
      const out = cli.io.stdout;
      if (opts.json) out.write(canonicalJson(figures));
      else if (figures.length > 0) {
        out.write(
          renderLiveQuality(
            {
              model: target,
              from: read.source,
              window,
              confidence: DEFAULT_QUALITY_OPTIONS.confidence,
            },
            figures,
          ),
        );
      }
      if (figures.length === 0) {
        cli.io.stderr.write(
          `pinml: no rows for ${target} since ${new Date(from).toISOString()} in ${read.source}\n`,
        );
        cli.setExit(1);
      }
    });
}
