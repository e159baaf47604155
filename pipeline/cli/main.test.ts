import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { irisProject, pinml, tempDirs } from '../testing/run-cli.ts';
import { repoRoot } from '../testing/runtimes.ts';

const temps = tempDirs();
const tempDir = temps.make;

afterAll(async () => {
  await temps.remove();
});

describe('usage and configuration errors', () => {
  it('exits 2 on an unknown command or option', async () => {
    expect((await pinml(repoRoot, 'trian')).code).toBe(2);
    expect((await pinml(repoRoot, 'train', '--nope')).code).toBe(2);
  });

  it('exits 2 when pinml.yaml defines several models and none is chosen', async () => {
    const dir = await irisProject(await tempDir());
    const text = await readFile(path.join(dir, 'pinml.yaml'), 'utf8');
    const second = text.slice(text.indexOf('  iris:')).replace('  iris:', '  iris2:');
    await writeFile(path.join(dir, 'pinml.yaml'), text + second);
    const r = await pinml(dir, 'train');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--model');
  });

  it('exits 1 with the line and path of a configuration mistake', async () => {
    const dir = await irisProject(await tempDir());
    const text = await readFile(path.join(dir, 'pinml.yaml'), 'utf8');
    await writeFile(path.join(dir, 'pinml.yaml'), text.replace('folds: 5', 'folds: five'));
    const r = await pinml(dir, 'train');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/pinml\.yaml:\d+:\d+: models\.iris\.split\.folds: expected/);
  });

  it('runs as a real process with the exit code of the command', async () => {
    const run = promisify(execFile);
    const bin = path.join(repoRoot, 'pipeline', 'bin', 'pinml.js');
    const help = await run(process.execPath, [bin, '--help']);
    expect(help.stdout).toContain('train');
    const dir = await tempDir();
    await expect(run(process.execPath, [bin, 'validate'], { cwd: dir })).rejects.toMatchObject({
      code: 2,
    });
  });
});
