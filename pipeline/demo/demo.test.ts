/**
 * The demo as a user runs it: a real process (the same command as `npm run demo`) against this
 * repository's committed HEAD, with the real git and the sandbox's own pinml. It runs once;
 * each test reads what it narrated. Its wall time is printed by the demo, not asserted here
 * (benchmarks are scripts that print figures, not timed tests).
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..', '..');
const execFileAsync = promisify(execFile);

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runDemo(args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'pipeline/demo/demo.ts', ...args], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out = { stdout: '', stderr: '' };
    child.stdout.setEncoding('utf8').on('data', (s: string) => (out.stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (out.stderr += s));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, ...out }));
  });
}

const pinmlBranches = async (): Promise<string> =>
  (await execFileAsync('git', ['for-each-ref', 'refs/heads/pinml/'], { cwd: root })).stdout;

/** The narration of step `n` (from its heading to the next one). */
function step(stdout: string, n: number): string {
  const sections = stdout.split(/^── Step /m);
  const section = sections.find((s) => s.startsWith(`${n}/`));
  if (section === undefined) throw new Error(`step ${n} is not in the output:\n${stdout}`);
  return section;
}

/** The output lines of the shown command `shown` in `text`, up to the next command or notice. */
function outputOf(text: string, shown: string): string[] {
  const lines = text.split('\n');
  const at = lines.indexOf(`  $ ${shown}`);
  if (at < 0) throw new Error(`\`${shown}\` is not in:\n${text}`);
  const rest = lines.slice(at + 1);
  const end = rest.findIndex((l) => !l.startsWith('    ') && l !== '');
  return (end < 0 ? rest : rest.slice(0, end)).filter(Boolean).map((l) => l.slice(4));
}

describe('npm run demo', () => {
  let run: Run;
  let branchesBefore: string;
  let first: number;
  let second: number;

  beforeAll(async () => {
    branchesBefore = await pinmlBranches();
    run = await runDemo([]);
    // The summary line names the versions: `none → v1 (PR #1) → v2 (PR #2) → v1 (git revert)`.
    const trail = /^ {2}production of iris: (.*)$/m.exec(run.stdout)?.[1]?.split(' → ') ?? [];
    first = Number(/^v(\d+) \(git revert\)$/.exec(trail.at(-1) ?? '')?.[1]);
    second = Number(/^v(\d+) \(PR #\d+\)$/.exec(trail.at(-2) ?? '')?.[1]);
  }, 300_000);

  it('runs the whole story and exits 0', () => {
    expect(run.stderr).not.toMatch(/failed/);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^── Step 8\/8: Done ──$/m);
  });

  it('registers the first version (or finds it registered) and then a newer one', () => {
    expect(first).toBeGreaterThanOrEqual(1);
    expect(second).toBeGreaterThan(first);
    expect(step(run.stdout, 2)).toMatch(
      new RegExp(`^ {4}(registered|unchanged:) iris@${first} `, 'm'),
    );
    expect(step(run.stdout, 4)).toMatch(new RegExp(`^ {4}registered iris@${second} `, 'm'));
  });

  it('promotes both through one standing branch', () => {
    const four = step(run.stdout, 4);
    expect(four).toMatch(
      new RegExp(
        `^ {4}(created|updated): pinml/promote-iris \\(\\w+\\): Promote iris@${second}`,
        'm',
      ),
    );
    expect(outputOf(four, "git branch --list 'pinml/*'").map((l) => l.trim())).toEqual([
      'pinml/promote-iris',
    ]);
  });

  it('has the newer version in production after the merge', () => {
    const five = step(run.stdout, 5);
    expect(five).toContain('$ git merge --no-ff pinml/promote-iris -m "Merge pull request #');
    expect(outputOf(five, 'pinml show iris')[0]).toMatch(
      new RegExp(`^iris: production v${second},`),
    );
  });

  it('has the first version in production again after git revert', () => {
    const six = step(run.stdout, 6);
    expect(six).toMatch(/^ {2}\$ git revert --no-edit -m 1 [0-9a-f]{12}$/m);
    expect(outputOf(six, 'pinml show iris')[0]).toMatch(new RegExp(`^iris: production v${first},`));
  });

  it('shows the history with the rollback and rebuilds the newer version identically', () => {
    const seven = step(run.stdout, 7);
    expect(outputOf(seven, 'pinml history iris').join('\n')).toMatch(
      new RegExp(`rollback +v${second} → v${first}`),
    );
    expect(outputOf(seven, `pinml verify iris@${second}`)[0]).toMatch(
      new RegExp(`^iris@${second}: MATCH: `),
    );
  });

  it('deletes its sandbox and leaves the repository it cloned without pinml branches', async () => {
    const sandbox = /^ {2}sandbox: (\S+) \(deleted/m.exec(run.stdout)?.[1];
    expect(sandbox).toBeDefined();
    expect(existsSync(path.dirname(sandbox as string))).toBe(false);
    expect(await pinmlBranches()).toBe(branchesBefore);
  });

  it('writes no colour codes when its output is not a terminal', () => {
    expect(run.stdout).not.toContain('\x1b[');
  });

  it('exits 2 with its usage on an unknown option', async () => {
    const bad = await runDemo(['--fast']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('usage: npm run demo');
  });
});
