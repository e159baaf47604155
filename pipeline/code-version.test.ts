import { access, cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  NOT_TRAINING_SOURCES,
  TRAINING_SOURCES,
  codeVersionAt,
  codeVersionOf,
  modelSourceFiles,
  readCodeVersion,
} from './code-version.ts';

const pipelineDir = path.dirname(fileURLToPath(import.meta.url));

describe('code version', () => {
  it('covers every model source at any depth, and no test, fixture or prediction-only file', async () => {
    const files = await modelSourceFiles();
    expect(files).toContain('models/ml-random-forest.ts');
    expect(files).toContain('models/random-forest/index.ts');
    expect(files).toContain('models/random-forest/worker.ts');
    expect(files).toContain('models/random-forest/wasm/forest-walk.wasm.ts');
    expect(files).toContain('models/random-forest/wasm/forest-walk.ts');
    expect(files.filter((f) => f.endsWith('.test.ts'))).toEqual([]);
    expect(files.filter((f) => f.split('/').includes('fixtures'))).toEqual([]);
    expect(files.filter((f) => NOT_TRAINING_SOURCES.includes(f))).toEqual([]);
    expect(files).toEqual([...files].sort());
    // An exclusion left behind by a move would name nothing: every one names a file.
    for (const name of NOT_TRAINING_SOURCES) await access(path.join(pipelineDir, name));
  });

  it('is the version this process reads of its own files', async () => {
    expect(await readCodeVersion()).toEqual(await codeVersionAt(pipelineDir));
  });

  it('changes when one source byte changes, and not with line endings', () => {
    const libs = new Map([['ml-matrix', '6.15.1']]);
    const base = codeVersionOf('0.1.0', new Map([['models/a.ts', 'x\n']]), libs);
    expect(base.id).toMatch(/^0\.1\.0\+[0-9a-f]{16}$/);
    expect(codeVersionOf('0.1.0', new Map([['models/a.ts', 'y\n']]), libs).id).not.toBe(base.id);
    expect(codeVersionOf('0.1.0', new Map([['models/a.ts', 'x\r\n']]), libs).id).toBe(base.id);
  });

  describe('of a copy of the source tree', () => {
    let root: string;
    let dir: string;
    let base: string;

    beforeAll(async () => {
      root = await mkdtemp(path.join(tmpdir(), 'pinml-code-version-'));
      dir = path.join(root, 'pipeline');
      await cp(path.join(pipelineDir, '..', 'package.json'), path.join(root, 'package.json'));
      for (const name of TRAINING_SOURCES) {
        await cp(path.join(pipelineDir, name), path.join(dir, name));
      }
      await cp(path.join(pipelineDir, 'models'), path.join(dir, 'models'), { recursive: true });
      base = (await codeVersionAt(dir)).id;
    });

    afterAll(async () => {
      await rm(root, { recursive: true, force: true });
    });

    /** The code version with one byte of `name` changed (the file is restored after). */
    async function withOneByteChanged(name: string): Promise<string> {
      const file = path.join(dir, name);
      const bytes = await readFile(file);
      const changed = Buffer.from(bytes);
      changed[0] = (changed[0] as number) ^ 1;
      await writeFile(file, changed);
      try {
        return (await codeVersionAt(dir)).id;
      } finally {
        await writeFile(file, bytes);
      }
    }

    it('is the version of the tree it was copied from', async () => {
      expect(base).toBe((await codeVersionAt(pipelineDir)).id);
      expect(await modelSourceFiles(dir)).toEqual(await modelSourceFiles());
    });

    it('changes when one byte of any covered file changes', async () => {
      const covered = [...TRAINING_SOURCES, ...(await modelSourceFiles(dir))];
      expect(covered.length).toBeGreaterThan(20);
      for (const name of covered) {
        expect({ name, id: await withOneByteChanged(name) }).not.toEqual({ name, id: base });
      }
    });

    it('changes when a source file appears anywhere under models/, however deep', async () => {
      const file = path.join(dir, 'models', 'new-family', 'parts', 'split.ts');
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, 'export const x = 1;\n');
      try {
        expect((await codeVersionAt(dir)).id).not.toBe(base);
      } finally {
        await rm(path.join(dir, 'models', 'new-family'), { recursive: true });
      }
      expect((await codeVersionAt(dir)).id).toBe(base);
    });

    it('stays the same when a test, a fixture or a file training never runs changes', async () => {
      const untouched = [
        ...NOT_TRAINING_SOURCES,
        'models/predictor.test.ts',
        'models/random-forest/threads.test.ts',
        'models/fixtures/gaussian-blobs.ts',
        'models/random-forest/fixtures/thread-bundle-entry.ts',
      ];
      for (const name of untouched) {
        expect({ name, id: await withOneByteChanged(name) }).toEqual({ name, id: base });
      }
    });
  });
});
