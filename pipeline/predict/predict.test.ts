/**
 * `pinml predict` on a throw-away project with a registered version: the predictions are the
 * version's (the registry's predictor, row by row), every bad row is refused with its line and
 * column, `--on-error fail` leaves no output file, `skip` lists refused rows, labels give the
 * metrics training computes, and a tampered artifact at the ref is refused.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GitRepo } from '../git/repo.ts';
import { scoreClassification } from '../metrics.ts';
import { predictProba } from '../models/predictor.ts';
import { runningForestThreads } from '../models/random-forest/threads.ts';
import { loadVersion } from '../registry/load.ts';
import { createWorkspace, trainRunFolder, type Workspace } from '../registry/testing/project.ts';
import { IRIS_CSV } from '../testing/iris.ts';
import { pinml, pinmlOk } from '../testing/run-cli.ts';

let ws: Workspace;
let dir: string;
let iris: { header: string[]; rows: string[][] };

beforeAll(async () => {
  ws = await createWorkspace('predict');
  dir = await ws.project();
  const run = path.join(ws.root, 'run');
  await trainRunFolder(dir, run, { candidate: 'forest-a' });
  await pinmlOk(dir, 'register', run);
  const [header, ...rows] = (await readFile(IRIS_CSV, 'utf8')).trimEnd().split('\n');
  iris = { header: (header ?? '').split(','), rows: rows.map((r) => r.split(',')) };
});

afterAll(async () => {
  await ws.remove();
});

const FEATURES = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];

/** Writes a file in the project and returns its name. */
async function file(name: string, text: string): Promise<string> {
  await writeFile(path.join(dir, name), text);
  return name;
}

describe('pinml predict', () => {
  it('writes each row the version predicts, with its probabilities, id and version, in file order', async () => {
    const input = await file(
      'rows.csv',
      [
        'id,' + FEATURES.join(','),
        ...iris.rows.map((r, i) => `r${i},${r.slice(0, 4).join(',')}`),
      ].join('\n') + '\n',
    );
    const r = await pinmlOk(dir, 'predict', 'iris@1', '-i', input, '--id-column', 'id', '--proba');
    const version = await loadVersion(
      GitRepo.open(dir),
      await ws.git(dir, 'rev-parse', 'main'),
      'iris',
      1,
    );
    const expected = predictProba(
      version.predictor,
      iris.rows.map((row) => row.slice(0, 4).map(Number)),
    );
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(
      'id,class,probability_setosa,probability_versicolor,probability_virginica,version',
    );
    expect(lines).toHaveLength(iris.rows.length + 1);
    lines.slice(1).forEach((line, i) => {
      const p = expected[i] as number[];
      const best = p.indexOf(Math.max(...p));
      expect(line).toBe(
        `r${i},${String(version.predictor.classes[best])},${p.map(String).join(',')},iris@1`,
      );
    });
    expect(r.stderr).toMatch(/^scored 150 rows with iris@1 \(commit [0-9a-f]{12}\) into stdout\n/);
  });

  it('scores NDJSON into NDJSON, and against labels gives the metrics training computes', async () => {
    const input = await file(
      'rows.ndjson',
      iris.rows
        .map((r) =>
          JSON.stringify({
            ...Object.fromEntries(FEATURES.map((f, j) => [f, Number(r[j])])),
            species: r[4],
          }),
        )
        .join('\n') + '\n',
    );
    const r = await pinmlOk(
      dir,
      'predict',
      'iris@1',
      '-i',
      input,
      '-o',
      'out.ndjson',
      '--label-column',
      'species',
      '--json',
    );
    const out = (await readFile(path.join(dir, 'out.ndjson'), 'utf8')).trimEnd().split('\n');
    const predicted = out.map((l) => (JSON.parse(l) as { class: string; version: string }).class);
    expect(out.every((l) => (JSON.parse(l) as { version: string }).version === 'iris@1')).toBe(
      true,
    );
    const classes = ['setosa', 'versicolor', 'virginica'];
    const metrics = scoreClassification(
      iris.rows.map((row) => classes.indexOf(row[4] as string)),
      predicted.map((c) => classes.indexOf(c)),
      classes,
    );
    const summary = JSON.parse(r.stdout) as {
      rows: number;
      rejected: number;
      metrics: { accuracy: number; macroF1: number; confusion: number[][] };
    };
    expect(summary).toMatchObject({ rows: 150, rejected: 0, model: 'iris', version: 1 });
    expect(summary.metrics).toMatchObject({
      accuracy: metrics.accuracy,
      macroF1: metrics.macroF1,
      confusion: metrics.confusion,
    });
  });

  it.each([
    [
      'a word',
      'sepal_length,sepal_width,petal_length,petal_width\n5.1,3.5,1.4,0.2\n5.1,wide,1.4,0.2\n',
      3,
      'sepal_width',
      /the value "wide" is not a number/,
    ],
    [
      'an infinity',
      'sepal_length,sepal_width,petal_length,petal_width\n5.1,3.5,1.4,0.2\n5.1,3.5,inf,0.2\n',
      3,
      'petal_length',
      /"inf" is not a finite number/,
    ],
    [
      'an empty cell',
      'sepal_length,sepal_width,petal_length,petal_width\n5.1,3.5,1.4,0.2\n\n6,,1,1\n',
      4,
      'sepal_width',
      /the value is empty/,
    ],
    [
      'a short row',
      'sepal_length,sepal_width,petal_length,petal_width\n5.1,3.5,1.4\n',
      2,
      undefined,
      /the row has 3 cells but the header has 4/,
    ],
  ])(
    'refuses %s with its line and column, and leaves no output file',
    async (_, text, line, column, message) => {
      const input = await file('bad.csv', text);
      const r = await pinml(dir, 'predict', 'iris@1', '-i', input, '-o', 'bad-out.csv');
      expect(r.code).toBe(1);
      const where = `bad.csv:${line}:${column === undefined ? '' : ` column "${column}":`}`;
      expect(r.stderr.split('\n').at(-2)).toContain(`pinml: ${where}`);
      expect(r.stderr).toMatch(message);
      expect(existsSync(path.join(dir, 'bad-out.csv'))).toBe(false);
      expect((await readdir(dir)).filter((f) => f.includes('pinml-'))).toEqual([]);
    },
  );

  it('counts lines as the file has them: a quoted field over two lines, an empty line', async () => {
    const input = await file(
      'lines.csv',
      `id,${FEATURES.join(',')}\n"a\nb",5.1,3.5,1.4,0.2\n\nc,5.1,bad,1.4,0.2\n`,
    );
    const r = await pinml(
      dir,
      'predict',
      'iris@1',
      '-i',
      input,
      '--id-column',
      'id',
      '--on-error',
      'skip',
      '--rejects',
      'lines-rejects.csv',
    );
    expect(r.code).toBe(0);
    expect(await readFile(path.join(dir, 'lines-rejects.csv'), 'utf8')).toMatch(
      /^line,column,reason\n5,sepal_width,/,
    );
    expect(r.stdout).toBe('id,class,version\n"a\nb",setosa,iris@1\n');
  });

  it.each([
    [
      'a missing column',
      'sepal_length,sepal_width,petal_length\n1,2,3\n',
      /bad\.csv:1: the header has no column petal_width; the model takes sepal_length, sepal_width, petal_length, petal_width/,
    ],
    [
      'an extra column',
      'sepal_length,sepal_width,petal_length,petal_width,colour\n1,2,3,4,red\n',
      /bad\.csv:1: column "colour": the column is not a feature of the model/,
    ],
    [
      'a column twice',
      'sepal_length,sepal_width,petal_length,petal_width,sepal_width\n1,2,3,4,2\n',
      /bad\.csv:1: column "sepal_width": the column is named twice/,
    ],
  ])('refuses a header with %s', async (_, text, message) => {
    const input = await file('bad.csv', text);
    const r = await pinml(dir, 'predict', 'iris@1', '-i', input, '--on-error', 'skip');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(message);
  });

  it('with --on-error skip scores the good rows and lists each refused one with its reason', async () => {
    const input = await file(
      'mixed.ndjson',
      [
        '{"sepal_length":5.1,"sepal_width":3.5,"petal_length":1.4,"petal_width":0.2,"species":"setosa"}',
        'not json',
        '{"sepal_length":5.1,"sepal_width":"3.5","petal_length":1.4,"petal_width":0.2}',
        '{"sepal_length":5.1,"petal_length":1.4,"petal_width":0.2}',
        '{"sepal_length":5.1,"sepal_width":3.5,"petal_length":1.4,"petal_width":0.2,"colour":1}',
        '{"sepal_length":6.7,"sepal_width":3,"petal_length":5.2,"petal_width":2.3,"species":"dog"}',
        '{"sepal_length":6.7,"sepal_width":3,"petal_length":5.2,"petal_width":2.3,"species":"virginica"}',
      ].join('\n') + '\n',
    );
    const r = await pinmlOk(
      dir,
      'predict',
      'iris@1',
      '-i',
      input,
      '-o',
      'kept.csv',
      '--label-column',
      'species',
      '--on-error',
      'skip',
      '--rejects',
      'rejects.csv',
    );
    expect(r.stderr).toMatch(/^scored 2 rows with iris@1 .* into kept\.csv; 5 rejected\n/);
    const rejects = (await readFile(path.join(dir, 'rejects.csv'), 'utf8')).split('\n');
    expect(rejects[0]).toBe('line,column,reason');
    // JSON.parse's own words differ between Node releases.
    expect(rejects[1]).toMatch(/^2,,"the line is not JSON \(.*\): write one object per line"$/);
    expect(rejects.slice(2)).toEqual([
      '3,sepal_width,"the value ""3.5"" is not a finite number"',
      '4,sepal_width,the field is missing; every feature needs a number',
      '5,colour,"the field is not a feature of the model (sepal_length, sepal_width, petal_length, petal_width): drop it, or name it with --id-column or --label-column"',
      '6,species,"the label ""dog"" is not a class of iris@1 (setosa, versicolor, virginica)"',
      '',
    ]);
    expect((await readFile(path.join(dir, 'kept.csv'), 'utf8')).trimEnd().split('\n')).toHaveLength(
      3,
    );
  });

  it('on stdout keeps the rows written before a bad row, and its last line says it failed', async () => {
    const good = iris.rows.map((r) => r.slice(0, 4).join(','));
    const rows = Array.from({ length: 120 }, () => good).flat();
    const input = await file(
      'late.csv',
      [FEATURES.join(','), ...rows, '1,2,3,x'].join('\n') + '\n',
    );
    const r = await pinml(dir, 'predict', 'iris@1', '-i', input, '--threads', '1');
    expect(r.code).toBe(1);
    // The first chunk (16,384 rows) was written before the bad row was read.
    expect(r.stdout.split('\n').length).toBeGreaterThan(16_384);
    expect(r.stderr.trimEnd().split('\n').at(-1)).toMatch(
      new RegExp(
        `^pinml: late\\.csv:${rows.length + 2}: column "petal_width": the value "x" is not a number`,
      ),
    );
  });

  it('reads the production version at --ref by default, and refuses when there is none', async () => {
    const input = await file('one.csv', `${FEATURES.join(',')}\n5.1,3.5,1.4,0.2\n`);
    const none = await pinml(dir, 'predict', 'iris', '-i', input);
    expect(none.code).toBe(2);
    expect(none.stderr).toBe(
      'pinml: iris has no production version at main: name the version, as iris@1\n',
    );
    const project = await ws.project();
    const run = path.join(ws.root, 'run');
    await pinmlOk(project, 'register', run);
    await pinmlOk(project, 'promote', 'iris@1', '--merge');
    await writeFile(path.join(project, 'one.csv'), `${FEATURES.join(',')}\n5.1,3.5,1.4,0.2\n`);
    const r = await pinmlOk(project, 'predict', 'iris', '-i', 'one.csv');
    expect(r.stdout).toBe('class,version\nsetosa,iris@1\n');
  });

  it('refuses an artifact at the ref that is not the one its card names', async () => {
    const project = await ws.project();
    await pinmlOk(project, 'register', path.join(ws.root, 'run'));
    const artifact = path.join(project, 'registry/iris/versions/1/model.json');
    const text = await readFile(artifact, 'utf8');
    // One digit of one number changed: still a valid model, no longer the registered one.
    await writeFile(
      artifact,
      text.replace(/\d(?=[,\]}])/, (d) => String((Number(d) + 1) % 10)),
    );
    await ws.git(project, 'commit', '--quiet', '--all', '-m', 'Tamper with the model');
    await writeFile(path.join(project, 'one.csv'), `${FEATURES.join(',')}\n5.1,3.5,1.4,0.2\n`);
    const r = await pinml(project, 'predict', 'iris@1', '-i', 'one.csv', '-o', 'out.csv');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/sha256/);
    expect(existsSync(path.join(project, 'out.csv'))).toBe(false);
  });

  it('writes the same bytes on 1, 2 and 4 threads, and does use the helper threads', async () => {
    // 60,000 rows: several chunks, each split over the threads.
    const rows = Array.from({ length: 60_000 }, (_, i) => {
      const r = iris.rows[i % iris.rows.length] as string[];
      return r
        .slice(0, 4)
        .map((v, j) => (Number(v) + ((i * (j + 1)) % 7) / 10).toFixed(2))
        .join(',');
    });
    const input = await file('many.csv', [FEATURES.join(','), ...rows].join('\n') + '\n');
    const outputs: string[] = [];
    for (const threads of ['1', '2', '4']) {
      await pinmlOk(
        dir,
        'predict',
        'iris@1',
        '-i',
        input,
        '-o',
        `many-${threads}.csv`,
        '--proba',
        '--threads',
        threads,
      );
      outputs.push(await readFile(path.join(dir, `many-${threads}.csv`), 'utf8'));
    }
    expect(outputs[0]?.split('\n')).toHaveLength(60_002);
    expect(outputs[1]).toBe(outputs[0]);
    expect(outputs[2]).toBe(outputs[0]);
    expect(runningForestThreads()).toBeGreaterThan(0);
  });
});
