import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

import { describe, expect, it } from 'vitest';

import { node24, repoRoot } from '../actions/testing/run-action.ts';

const execFileAsync = promisify(execFile);

interface VitestReport {
  numTotalTests: number;
  numPassedTests: number;
  testResults: { assertionResults: { fullName: string; status: string }[] }[];
}

describe('the connection front on Node 24', () => {
  // The front drives node's own HTTP parser binding (node:_http_common), whose calling
  // convention is node's, not a public API: its test files run again on Node 24.
  it(
    'passes every test of serve/front.test.ts and serve/front-differential.test.ts',
    { timeout: 180_000 },
    async () => {
      const { stdout } = await execFileAsync(
        node24.binary(),
        [
          'node_modules/vitest/vitest.mjs',
          'run',
          'serve/front.test.ts',
          'serve/front-differential.test.ts',
          '--reporter=json',
        ],
        { cwd: repoRoot, timeout: 170_000, maxBuffer: 64 * 1024 * 1024 },
      ).catch((err: Error & { stdout?: string; stderr?: string }) => {
        // A failing test exits 1; its report is still on stdout.
        if (err.stdout) return { stdout: err.stdout };
        throw new Error(`vitest on Node 24 failed to run: ${err.stderr ?? err.message}`);
      });
      const report = JSON.parse(stdout) as VitestReport;
      const failed = report.testResults
        .flatMap((f) => f.assertionResults)
        .filter((a) => a.status !== 'passed')
        .map((a) => a.fullName);
      expect(failed).toEqual([]);
      expect(report.numTotalTests).toBeGreaterThanOrEqual(16);
      expect(report.numPassedTests).toBe(report.numTotalTests);
    },
  );
});
