/**
 * `pinml verify`: rebuilds a version from the dataset and configuration its card records and
 * compares the artifact hash and the reference profile; exit 1 on a mismatch.
 */
import type { Command } from 'commander';
import { readCodeVersion } from '../code-version.ts';
import { canonicalJson } from '../json.ts';
import { ref } from '../registry/messages.ts';
import { requireModel } from '../registry/registry.ts';
import { verifyVersion, type VerifyResult } from '../registry/verify.ts';
import { modelRef, type CliContext } from './context.ts';

/** The verdict in one line, then the reasons. */
function renderVerdict(target: string, result: VerifyResult): string {
  const { artifact } = result;
  return (
    `${target}: ${result.match ? 'MATCH' : 'MISMATCH'}: ` +
    (artifact.rebuilt === null
      ? 'could not rebuild the artifact'
      : artifact.rebuilt === artifact.recorded
        ? `the rebuilt artifact has the recorded sha256 ${artifact.recorded.slice(0, 16)}…`
        : `the rebuilt artifact has sha256 ${artifact.rebuilt.slice(0, 16)}…, the card records ${artifact.recorded.slice(0, 16)}…`) +
    (result.dataset.found === result.dataset.recorded
      ? ''
      : '; the dataset differs from the one recorded') +
    (result.profile === 'mismatch' ? '; the reference profile differs from the card' : '') +
    '\n' +
    result.reasons.map((r) => `  ${r}\n`).join('')
  );
}

export function verifyCommand(program: Command, cli: CliContext): void {
  program
    .command('verify')
    .description(
      'rebuild a version from the dataset and configuration its card records; compare the artifact hash and the reference profile',
    )
    .argument('<model@version>', 'e.g. iris@3')
    .option('--ref <ref>', 'branch or commit to read the registry at', 'main')
    .option('--json', 'print the result as JSON')
    .action(async (target: string, opts: { ref: string; json?: boolean }) => {
      const { model, version } = modelRef(target, true);
      const repo = cli.repo();
      const at = await repo.resolve(opts.ref);
      await requireModel(repo, at, model, opts.ref);
      const result = await verifyVersion(repo, at, model, version, await readCodeVersion());
      cli.io.stdout.write(
        opts.json ? canonicalJson(result) : renderVerdict(ref(model, version), result),
      );
      if (!result.match) cli.setExit(1);
    });
}
