/**
 * The unit project stays unit: no file it lists starts a process, opens a socket, starts a
 * thread, writes temp files or waits on a timer (vitest.config.ts), so `npm run test:unit` stays
 * the quick loop.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { UNIT } from '../vitest.config.ts';
import { repoRoot } from './testing/runtimes.ts';

const FORBIDDEN: [RegExp, string][] = [
  [/node:child_process|execFile|spawn\(/, 'a child process'],
  [/node:net|node:http|createServer|listen\(|startServe|startServer/, 'a socket'],
  [/worker_threads|threads\.ts/, 'a thread'],
  [/mkdtemp|tempDirs|createWorkspace|createSandbox/, 'temporary files'],
  [/setTimeout\(|setInterval\(/, 'a timer'],
  [/libsql|openSqliteLog/, 'a database'],
];

describe('the unit project', () => {
  it.each(UNIT.filter((f) => f !== 'pipeline/test-projects.test.ts'))(
    '%s is a unit test',
    async (file) => {
      const text = await readFile(path.join(repoRoot, file), 'utf8');
      for (const [pattern, what] of FORBIDDEN) {
        expect(
          pattern.test(text),
          `${file} uses ${what}: move it out of UNIT in vitest.config.ts`,
        ).toBe(false);
      }
    },
  );
});
