import { cp, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { irisProject, pinml, tempDirs, type CliResult } from '../testing/run-cli.ts';
import { repoRoot } from '../testing/runtimes.ts';

const temps = tempDirs();
const tempDir = temps.make;

async function readFolder(dir: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const name of (await readdir(dir)).sort())
    files[name] = await readFile(path.join(dir, name), 'utf8');
  return files;
}

afterAll(async () => {
  await temps.remove();
});

describe('pinml train on the bundled Iris data', () => {
  let project: string;
  let first: CliResult;

  beforeAll(async () => {
    project = await irisProject(await tempDir());
    first = await pinml(project, 'train', '--out', 'run-a');
  });

  it('trains every candidate, chooses one and reaches hold-out accuracy >= 0.9', async () => {
    expect(first.stderr).not.toContain('pinml:');
    expect(first.code).toBe(0);
    const run = JSON.parse(await readFile(path.join(project, 'run-a', 'run.json'), 'utf8')) as {
      candidates: unknown[];
      chosen: { holdout: { accuracy: number; macroF1: number } };
      gate: { passed: boolean };
    };
    expect(run.candidates).toHaveLength(6);
    expect(run.chosen.holdout.accuracy).toBeGreaterThanOrEqual(0.9);
    expect(run.gate.passed).toBe(true);
    // Every column of the candidates' table is named, the chosen one marked in its own.
    const lines = first.stdout.split('\n');
    const header = lines.find((l) => l.startsWith('candidate '));
    expect(header?.trim().split(/\s{2,}/)).toEqual([
      'candidate',
      'algorithm',
      'cv macro-F1',
      '± sd',
      'cv accuracy',
      'chosen',
    ]);
    const marked = lines.filter((l) => / yes$/.test(l));
    expect(marked).toHaveLength(1);
    expect(marked[0]).toMatch(/^\S+ +\S+ +[\d.]+ +[\d.]+ +[\d.]+ +yes$/);
    expect(first.stdout).toMatch(/gate: PASSED/);
  });

  it('writes byte-identical run folders on a second run', async () => {
    const second = await pinml(project, 'train', '--out', 'run-b');
    expect(second.code).toBe(0);
    expect(await readFolder(path.join(project, 'run-b'))).toEqual(
      await readFolder(path.join(project, 'run-a')),
    );
  });

  it('merges single-candidate runs into exactly the run of all candidates', async () => {
    const names = [
      'forest-deep',
      'forest-shallow-wide',
      'forest-conservative',
      'logistic-default',
      'logistic-fast',
      'logistic-careful',
    ];
    const dirs: string[] = [];
    for (const name of names) {
      const r = await pinml(project, 'train', '--candidate', name, '--out', `single/${name}`);
      expect(r.code).toBe(0);
      dirs.push(`single/${name}`);
    }
    const merged = await pinml(project, 'merge', ...dirs.reverse(), '--out', 'merged');
    expect(merged.code).toBe(0);
    expect(await readFolder(path.join(project, 'merged'))).toEqual(
      await readFolder(path.join(project, 'run-a')),
    );
  });

  it('validates the run folder: exit 0 when the gate passes, 1 when it fails', async () => {
    const ok = await pinml(project, 'validate', 'run-a');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('gate: PASSED');
    const runFile = path.join(project, 'run-a', 'run.json');
    const run = JSON.parse(await readFile(runFile, 'utf8')) as {
      config: { gate: { minAccuracy: number } };
    };
    run.config.gate.minAccuracy = 1;
    await writeFile(runFile, JSON.stringify(run));
    const bad = await pinml(project, 'validate', 'run-a', '--json');
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)).toMatchObject({ passed: false });
  });

  it('refuses a run folder whose artifact was changed', async () => {
    const dir = path.join(project, 'run-b');
    await writeFile(path.join(dir, 'model.json'), '{}\n');
    const r = await pinml(project, 'validate', 'run-b');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/model\.json has sha256 .* but run\.json records/);
  });
});

describe('a second dataset configured by pinml.yaml alone', () => {
  it('trains on other columns with two string classes', async () => {
    const dir = await tempDir();
    await cp(path.join(repoRoot, 'pipeline', 'fixtures', 'fruit.csv'), path.join(dir, 'fruit.csv'));
    await writeFile(
      path.join(dir, 'pinml.yaml'),
      `version: 1
models:
  fruit:
    dataset: fruit.csv
    features: [weight_g, diameter_cm, skin_roughness]
    label: fruit
    split: { holdout: 0.25, folds: 4, seed: 3 }
    candidates:
      - { name: forest, algorithm: random-forest, params: { trees: 30, maxDepth: 5 } }
      - { name: logistic, algorithm: logistic-regression }
    gate: { minAccuracy: 0.8, minMacroF1: 0.8 }
`,
    );
    const r = await pinml(dir, 'train', '--json');
    expect(r.stderr).not.toContain('pinml:');
    expect(r.code).toBe(0);
    const run = JSON.parse(r.stdout) as {
      signature: { features: { name: string }[]; label: { classes: unknown[] } };
      chosen: { holdout: { accuracy: number; confusion: number[][] } };
    };
    expect(run.signature.features.map((f) => f.name)).toEqual([
      'weight_g',
      'diameter_cm',
      'skin_roughness',
    ]);
    expect(run.signature.label.classes).toEqual(['apple', 'orange']);
    expect(run.chosen.holdout.confusion).toHaveLength(2);
    expect(run.chosen.holdout.accuracy).toBeGreaterThanOrEqual(0.8);
    const model = JSON.parse(
      await readFile(path.join(dir, '.pinml', 'runs', 'fruit', 'model.json'), 'utf8'),
    ) as {
      classes: unknown[];
    };
    expect(model.classes).toEqual(['apple', 'orange']);
  });
});

describe('bad data is refused with exit code 1 and a located message', () => {
  const columns = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width', 'species'];
  /** 30 valid rows (10 per class); `edit` changes cells before they are written. */
  function csv(edit: (rows: string[][], head: string[]) => void = () => {}): string {
    const head = [...columns];
    const rows: string[][] = [];
    for (let i = 0; i < 10; i++) {
      for (const [k, species] of ['setosa', 'versicolor', 'virginica'].entries()) {
        rows.push([`${5 + k}.${i}`, `3.${i}`, `${1 + 2 * k}.${i}`, `0.${i}`, species]);
      }
    }
    edit(rows, head);
    return [head, ...rows].map((r) => r.join(',')).join('\n') + '\n';
  }
  const set = (row: number, col: number, value: string) => (rows: string[][]) => {
    (rows[row] as string[])[col] = value;
  };

  async function trainOn(text: string): Promise<CliResult> {
    const dir = await irisProject(await tempDir());
    await writeFile(path.join(dir, 'data', 'iris.csv'), text);
    return pinml(dir, 'train');
  }

  const cases: [string, () => string, RegExp][] = [
    ['an empty file', () => '', /data\/iris\.csv.*empty/i],
    [
      'a header only',
      () => columns.join(',') + '\n',
      /data\/iris\.csv.*(no data rows|header only)/i,
    ],
    [
      'a missing column',
      () => csv((rows, head) => [head, ...rows].forEach((r) => r.splice(3, 1))),
      /data\/iris\.csv.*petal_width/,
    ],
    [
      'a duplicated column',
      () => csv((rows, head) => [head, ...rows].forEach((r) => r.push(r[4] as string))),
      /data\/iris\.csv:1\b.*species/,
    ],
    ['a non-numeric cell', () => csv(set(0, 0, 'abc')), /data\/iris\.csv:2\b.*sepal_length.*abc/],
    ['an empty feature cell', () => csv(set(1, 1, '')), /data\/iris\.csv:3\b.*sepal_width/],
    ['NaN', () => csv(set(2, 2, 'NaN')), /data\/iris\.csv:4\b.*petal_length/],
    ['Infinity', () => csv(set(3, 3, 'Infinity')), /data\/iris\.csv:5\b.*petal_width/],
    [
      'a label outside the classes',
      () => csv(set(4, 4, 'rose')),
      /data\/iris\.csv:6\b.*species.*rose/,
    ],
    [
      'a class with fewer rows than folds',
      () =>
        csv((rows) =>
          rows.splice(0, rows.length, ...rows.filter((r, i) => r[4] !== 'virginica' || i === 2)),
        ),
      /data\/iris\.csv.*virginica.*\b1 row/,
    ],
    ['a ragged row', () => csv((rows) => rows[5]?.push('9')), /data\/iris\.csv:7\b/],
  ];

  for (const [what, text, pattern] of cases) {
    it(`refuses ${what}`, async () => {
      const r = await trainOn(text());
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(pattern);
      expect(r.stderr).not.toMatch(/unexpected error|at .*\.ts:\d+/);
    });
  }

  it('points at the pinml.yaml line that names a column the header lacks, with a did-you-mean', async () => {
    const dir = await irisProject(await tempDir());
    const file = path.join(dir, 'pinml.yaml');
    const yaml = (await readFile(file, 'utf8')).replace(
      /(features: \[[^\]]*)petal_width/,
      '$1petal_widht',
    );
    await writeFile(file, yaml);
    const before = yaml.slice(0, yaml.indexOf('petal_widht')).split('\n');
    const at = `pinml.yaml:${before.length}:${(before.at(-1)?.length ?? 0) + 1}`;
    const r = await pinml(dir, 'train');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('data/iris.csv:1: column "petal_widht"');
    expect(r.stderr).toContain('(did you mean "petal_width"?)');
    expect(r.stderr).toContain(`fix the header or the name at ${at}`);
  });

  it('lists several problems at once', async () => {
    const r = await trainOn(
      csv((rows) => {
        set(0, 0, 'abc')(rows);
        set(4, 4, 'rose')(rows);
      }),
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/2 problems/);
    expect(r.stderr).toMatch(/:2\b/);
    expect(r.stderr).toMatch(/:6\b/);
  });
});
