/**
 * The `pinml` package as another team gets it: `npm pack` of this repository installed into an
 * empty project (from npm's cache, as `npm ci` left it), then `pinml init` and `pinml train`
 * run from its `node_modules/.bin`, as separate processes.
 */
import { execFile } from 'node:child_process';
import { cp, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from './testing/runtimes.ts';
import { installPacked, IRIS_INIT_ARGS, type Installed } from './testing/packed.ts';
import { tempDirs } from './testing/run-cli.ts';

const run = promisify(execFile);
const dirs = tempDirs();
let bin: string;
let packed: Installed['packed'];

beforeAll(async () => {
  ({ bin, packed } = await installPacked(await dirs.make()));
}, 180_000);

afterAll(() => dirs.remove());

describe('the pinml package', () => {
  it('holds the sources and the templates pinml init copies, not the tests', () => {
    const files = packed.files.map((f) => f.path);
    expect(files).toEqual(
      expect.arrayContaining([
        'pipeline/bin/pinml.js',
        'pipeline/cli/main.ts',
        'serve/bin/pinml-serve.js',
        '.github/workflows/train.yml',
        '.github/workflows/rollback.yml',
        '.github/workflows/report.yml',
        '.github/workflows/report-comment.yml',
        'registry/card.schema.json',
      ]),
    );
    expect(files.filter((f) => f.endsWith('.test.ts') || f.includes('/testing/'))).toEqual([]);
  });

  it('scaffolds a repository with pinml init and trains in it with pinml train', async () => {
    const project = await dirs.make();
    await run('git', ['init', '--quiet', '--initial-branch=main', project]);
    await mkdir(path.join(project, 'data'));
    await cp(path.join(repoRoot, 'data', 'iris.csv'), path.join(project, 'data', 'iris.csv'));
    const sha = 'a'.repeat(40);
    const init = await run(
      bin,
      ['init', '--actions', `acme/pinml@${sha}`, '--actions-version', 'v1.2.0', ...IRIS_INIT_ARGS],
      { cwd: project },
    );
    expect(init.stdout).toMatch(/^created {5}\.github\/workflows\/train\.yml$/m);
    const train = await readFile(path.join(project, '.github/workflows/train.yml'), 'utf8');
    expect(train).toContain(`uses: acme/pinml/actions/prepare@${sha} # v1.2.0`);
    const trained = await run(bin, ['train'], { cwd: project });
    expect(trained.stdout).toMatch(/gate: PASSED/);
    expect(trained.stdout).toMatch(/run folder: \.pinml\/runs\/iris/);
  }, 60_000);
});
