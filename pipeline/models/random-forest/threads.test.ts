import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';

import { canonicalJson } from '../../json.ts';
import { runningForestThreads, stopForestThreads, threadCount } from './threads.ts';
import { gaussianBlobs } from '../fixtures/gaussian-blobs.ts';
import { DEFAULT_RANDOM_FOREST_PARAMS, fitRandomForest, randomForestFamily } from './index.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const run = promisify(execFile);

afterAll(async () => {
  await stopForestThreads();
});

describe('training threads', () => {
  it('takes the cap it is given (PINML_TRAIN_THREADS at the edge) on the cores', () => {
    expect(threadCount(1)).toBe(1);
    expect(threadCount(1000)).toBe(threadCount());
    expect(threadCount(Number.NaN)).toBe(threadCount());
    expect(threadCount(0)).toBe(threadCount());
    expect(threadCount()).toBeGreaterThanOrEqual(1);
  });

  it('grow a large fit on every core, and on one thread only when capped at one', async () => {
    await stopForestThreads();
    const blobs = gaussianBlobs(
      [
        [0, 0],
        [2, 2],
      ],
      1000,
      1,
      4,
    );
    // 2,000 rows x 100 trees: past the 200,000 row-trees below which a fit stays on one thread.
    const spec = {
      features: blobs.features,
      classes: ['a', 'b'],
      params: { ...DEFAULT_RANDOM_FOREST_PARAMS, trees: 100, maxDepth: 4 },
      seed: 2,
    };
    const capped = randomForestFamily.fit(blobs.rows, blobs.y, spec, { threads: 1 });
    expect(runningForestThreads()).toBe(0);
    const free = randomForestFamily.fit(blobs.rows, blobs.y, spec);
    expect(runningForestThreads()).toBe(threadCount() - 1);
    expect(canonicalJson(free.toJSON())).toBe(canonicalJson(capped.toJSON()));
  });

  it('start from TypeScript source (tsx) and give the forest one thread gives', async () => {
    await stopForestThreads();
    const blobs = gaussianBlobs(
      [
        [0, 0],
        [2, 2],
      ],
      100,
      1,
      3,
    );
    const spec = {
      features: blobs.features,
      classes: ['a', 'b'],
      params: { ...DEFAULT_RANDOM_FOREST_PARAMS, trees: 16 },
      seed: 1,
    };
    const one = canonicalJson(fitRandomForest(blobs.rows, blobs.y, spec, { threads: 1 }).toJSON());
    expect(runningForestThreads()).toBe(0);
    const two = canonicalJson(fitRandomForest(blobs.rows, blobs.y, spec, { threads: 2 }).toJSON());
    expect(runningForestThreads()).toBe(1);
    expect(two).toBe(one);
  });

  it('start from an ESM bundle as the actions ship it, which runs its entry point once', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'pinml-thread-bundle-'));
    try {
      const outfile = path.join(dir, 'index.js');
      // The options of actions/scripts/build.ts that shape the output.
      await build({
        entryPoints: [path.join(here, 'fixtures', 'thread-bundle-entry.ts')],
        bundle: true,
        platform: 'node',
        format: 'esm',
        target: 'node20',
        banner: {
          js: "import { createRequire as __pinmlCreateRequire } from 'node:module';\nconst require = __pinmlCreateRequire(import.meta.url);",
        },
        minifyWhitespace: true,
        minifySyntax: true,
        outfile,
        logLevel: 'silent',
      });
      const { stdout } = await run(process.execPath, [outfile], { cwd: dir });
      const lines = stdout.trim().split('\n');
      expect(lines).toHaveLength(1);
      const result = JSON.parse(lines[0] as string) as {
        main: boolean;
        one: string;
        two: string;
        helpers: number;
      };
      expect(result.main).toBe(true);
      expect(result.helpers).toBe(1);
      expect(result.two).toBe(result.one);
      expect(result.one).toMatch(/^[0-9a-f]{64}$/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
