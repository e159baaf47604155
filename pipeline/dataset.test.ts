import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDataset, readDataset, type DatasetSpec } from './dataset.ts';
import { DataError, MAX_PROBLEMS, type Problem } from './errors.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const FILE = 'data/flowers.csv';
const SPEC: DatasetSpec = { path: FILE, features: ['a', 'b'], label: 'kind' };
const IRIS: DatasetSpec = {
  path: 'data/iris.csv',
  features: ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'],
  label: 'species',
};

/** CSV text from lines, LF-terminated. */
function csv(...lines: string[]): string {
  return lines.map((l) => `${l}\n`).join('');
}

/** Parses input that must be refused and returns the DataError. */
function refuse(input: string | Uint8Array, spec: Partial<DatasetSpec> = {}): DataError {
  try {
    parseDataset(input, { ...SPEC, ...spec });
  } catch (err) {
    expect(err).toBeInstanceOf(DataError);
    const error = err as DataError;
    expect(error.code).toBe('E_DATA');
    for (const p of error.problems) expect(p.file).toBe(FILE);
    return error;
  }
  return expect.unreachable('the dataset was accepted');
}

/** A problem at `file` with exactly these location fields and a message containing each part. */
function problem(where: Omit<Problem, 'file' | 'message'>, ...parts: string[]): Problem {
  return {
    file: FILE,
    ...where,
    message: expect.stringMatching(new RegExp(parts.map(escape).join('.*'), 's')) as string,
  };
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe('parseDataset refuses', () => {
  it('refuses an empty file', () => {
    const err = refuse('');
    expect(err.problems).toEqual([problem({}, 'empty', 'a,b,kind')]);
    expect(err.data).toMatchObject({ total: 1 });
  });

  it('refuses a file of only whitespace', () => {
    expect(refuse(' \n\n\t\r\n').problems).toEqual([problem({}, 'empty')]);
  });

  it('refuses a file with a header and no data rows', () => {
    expect(refuse(csv('a,b,kind', '', '')).problems).toEqual([problem({}, 'no data rows')]);
  });

  it('refuses a header missing a configured feature column and lists the columns it has', () => {
    const err = refuse(csv('a,c,kind', '1,2,x', '3,4,y'));
    expect(err.problems).toEqual([
      problem({ line: 1, column: 'b' }, 'no column "b"', '"a", "c", "kind"', 'pinml.yaml'),
    ]);
  });

  it('refuses a header missing the label column', () => {
    const err = refuse(csv('a,b,species', '1,2,x', '3,4,y'));
    expect(err.problems).toEqual([
      problem({ line: 1, column: 'kind' }, 'no column "kind"', '"a", "b", "species"'),
    ]);
  });

  it('refuses a header that names a column twice', () => {
    const err = refuse(csv('a,b,a,kind', '1,2,3,x', '3,4,5,y'));
    expect(err.problems).toEqual([
      problem({ line: 1, column: 'a' }, '"a" more than once', 'columns 1 and 3', 'rename'),
    ]);
  });

  it('refuses a row with fewer cells than the header', () => {
    const err = refuse(csv('a,b,kind', '1,2,x', '3,y', '5,6,y'));
    expect(err.problems).toEqual([problem({ line: 3 }, 'expected 3 cells', 'found 2')]);
  });

  it('refuses a row with more cells than the header', () => {
    const err = refuse(csv('a,b,kind', '1,2,x', '3,4,y', '5,6,y,7'));
    expect(err.problems).toEqual([problem({ line: 4 }, 'expected 3 cells', 'found 4')]);
  });

  it('refuses an empty feature cell, and one holding only whitespace', () => {
    const err = refuse(csv('a,b,kind', '1,,x', '3,4,y', '"  ",6,y'));
    expect(err.problems).toEqual([
      problem({ line: 2, column: 'b' }, 'empty', 'number'),
      problem({ line: 4, column: 'a' }, 'empty', 'number'),
    ]);
  });

  it('refuses a non-numeric feature cell and quotes its value', () => {
    const err = refuse(csv('a,b,kind', '1,2,x', '3,four,y'));
    expect(err.problems).toEqual([
      problem({ line: 3, column: 'b' }, '"four" is not a number', '5.1'),
    ]);
  });

  it('cuts a long bad value to 40 characters in the message', () => {
    const long = 'x'.repeat(100);
    const [p] = refuse(csv('a,b,kind', `${long},2,x`, '3,4,y')).problems;
    expect(p).toEqual(problem({ line: 2, column: 'a' }, `"${'x'.repeat(39)}…"`));
    expect(p?.message).not.toContain('x'.repeat(40));
  });

  it('refuses hex and other notations Number() accepts but a CSV should not', () => {
    const err = refuse(csv('a,b,kind', '0x1A,2,x', '0b1,2,x', '1_000,1,y', '1e,1,y'));
    expect(err.problems).toEqual([
      problem({ line: 2, column: 'a' }, '"0x1A" is not a number'),
      problem({ line: 3, column: 'a' }, '"0b1" is not a number'),
      problem({ line: 4, column: 'a' }, '"1_000" is not a number'),
      problem({ line: 5, column: 'a' }, '"1e" is not a number'),
    ]);
  });

  it('refuses NaN, Infinity, -Infinity and overflowing numbers as non-finite', () => {
    const err = refuse(csv('a,b,kind', 'NaN,2,x', '1,Infinity,x', '-Infinity,4,y', '1e999,4,y'));
    expect(err.problems).toEqual([
      problem({ line: 2, column: 'a' }, '"NaN"', 'non-finite values', 'not allowed'),
      problem({ line: 3, column: 'b' }, '"Infinity"', 'non-finite values'),
      problem({ line: 4, column: 'a' }, '"-Infinity"', 'non-finite values'),
      problem({ line: 5, column: 'a' }, '"1e999"', 'non-finite values'),
    ]);
  });

  it('refuses an empty label cell', () => {
    const err = refuse(csv('a,b,kind', '1,2,x', '3,4,', '5,6,y'));
    expect(err.problems).toEqual([problem({ line: 3, column: 'kind' }, 'label is empty')]);
  });

  it('refuses a label outside the configured classes and lists the allowed ones', () => {
    const err = refuse(csv('a,b,kind', '1,2,x', '3,4,z', '5,6,y'), { classes: ['x', 'y'] });
    expect(err.problems).toEqual([
      problem({ line: 3, column: 'kind' }, '"z" is not one of the classes (x, y)', '`classes`'),
    ]);
  });

  it('refuses a class with fewer rows than the fold count', () => {
    const err = refuse(csv('a,b,kind', '1,2,x', '3,4,x', '5,6,x', '7,8,y', '9,1,y'), {
      minRowsPerClass: 3,
    });
    expect(err.problems).toEqual([
      problem(
        { column: 'kind' },
        'class "y" has 2 rows',
        'at least 3',
        'add rows',
        '`split.folds`',
      ),
    ]);
  });

  it('refuses a configured class that no row has', () => {
    const err = refuse(csv('a,b,kind', '1,2,x', '3,4,y'), { classes: ['x', 'y', 'z'] });
    expect(err.problems).toEqual([
      problem({ column: 'kind' }, 'class "z"', 'no row has it', 'add rows', '`classes`'),
    ]);
  });

  it('refuses a configured class that no row has, saying how many rows the folds need', () => {
    const err = refuse(csv('a,b,kind', '1,2,x', '3,4,y'), {
      classes: ['x', 'y', 'z'],
      minRowsPerClass: 1,
    });
    expect(err.problems).toEqual([problem({ column: 'kind' }, 'class "z"', 'no row has it')]);
    const withFolds = refuse(csv('a,b,kind', '1,2,x', '3,4,x', '5,6,y', '7,8,y'), {
      classes: ['x', 'y', 'z'],
      minRowsPerClass: 2,
    });
    expect(withFolds.problems).toEqual([
      problem({ column: 'kind' }, 'class "z"', 'no row has it', 'at least 2'),
    ]);
  });

  it('refuses data with a single class', () => {
    const err = refuse(csv('a,b,kind', '1,2,x', '3,4,x'));
    expect(err.problems).toEqual([
      problem({ column: 'kind' }, 'only class "x"', 'at least 2 classes'),
    ]);
  });

  it('refuses a quoted cell that is never closed, at the line of its row', () => {
    const err = refuse(csv('a,b,kind', '1,2,x', '"3,4,y', '5,6,y'));
    expect(err.problems).toEqual([problem({ line: 3 }, 'never closed', 'closing quote')]);
  });

  it('refuses a quote inside an unquoted cell', () => {
    const err = refuse(csv('a,b,kind', '1,2,x', '', '3,4"5,y'));
    expect(err.problems).toEqual([problem({ line: 4 }, 'quote inside an unquoted cell', '""')]);
  });

  it('refuses text after a closing quote', () => {
    const err = refuse(csv('a,b,kind', '1,2,x', '3,"4"5,y'));
    expect(err.problems).toEqual([problem({ line: 3 }, 'text after a closing quote')]);
  });

  it('refuses bytes that are not UTF-8', () => {
    const err = refuse(new Uint8Array([0x61, 0x2c, 0x62, 0x0a, 0xff, 0xfe, 0x0a]));
    expect(err.problems).toEqual([problem({}, 'not UTF-8')]);
  });

  it(`reports the first ${MAX_PROBLEMS} of 25 bad cells and counts them all`, () => {
    const rows = Array.from(
      { length: 25 },
      (_, i) => `${i % 2 ? 'x' : '1'},${i % 2 ? '2' : ''},k${i % 2}`,
    );
    const err = refuse(csv('a,b,kind', ...rows));
    expect(err.problems).toHaveLength(20);
    expect(err.data).toMatchObject({ total: 25 });
    expect(err.problems[0]).toEqual(problem({ line: 2, column: 'b' }, 'empty'));
    expect(err.problems[1]).toEqual(problem({ line: 3, column: 'a' }, '"x" is not a number'));
    expect(err.problems[19]).toEqual(problem({ line: 21, column: 'a' }, '"x"'));
    expect(err.message).toContain('(25 problems)');
    expect(err.message).toContain('… and 5 more');
  });

  it('reports problems of different kinds together, in file order', () => {
    const err = refuse(csv('a,b,kind', '1,2', 'x,2,y', '3,4,', '5,NaN,y', '7,8,x'), {
      classes: ['x', 'y'],
    });
    expect(err.problems.map((p) => [p.line, p.column])).toEqual([
      [2, undefined],
      [3, 'a'],
      [4, 'kind'],
      [5, 'b'],
    ]);
  });
});

describe('readDataset', () => {
  it('reads data/iris.csv: 150 rows, 50 of each of 3 species', async () => {
    const bytes = await readFile(path.join(ROOT, 'data/iris.csv'));
    const iris = await readDataset(ROOT, IRIS);
    expect(iris.path).toBe('data/iris.csv');
    expect(iris.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(iris.bytes).toBe(bytes.byteLength);
    expect(iris.rows).toBe(150);
    expect(iris.X).toHaveLength(150);
    expect(iris.classes).toEqual(['setosa', 'versicolor', 'virginica']);
    expect(iris.classCounts).toEqual({ setosa: 50, versicolor: 50, virginica: 50 });
    expect(iris.X[0]).toEqual([5.1, 3.5, 1.4, 0.2]);
    expect(iris.X[149]).toEqual([5.9, 3.0, 5.1, 1.8]);
    expect([iris.y[0], iris.y[50], iris.y[149]]).toEqual([0, 1, 2]);
    expect([iris.lines[0], iris.lines[149]]).toEqual([2, 151]);
    expect(iris.rowKeys[0]).toBe('[5.1,3.5,1.4,0.2,"setosa"]');
    expect(iris.signature.label).toEqual({
      name: 'species',
      classes: ['setosa', 'versicolor', 'virginica'],
    });
    expect(iris.signature.features.map((f) => f.name)).toEqual(IRIS.features);
    expect(iris.signature.features[2]).toEqual({
      name: 'petal_length',
      type: 'number',
      min: 1.0,
      max: 6.9,
    });
  });

  it('holds scikit-learn’s corrected values for iris rows 35 and 38', async () => {
    const iris = await readDataset(ROOT, IRIS);
    expect(iris.X[34]).toEqual([4.9, 3.1, 1.5, 0.2]);
    expect(iris.X[37]).toEqual([4.9, 3.6, 1.4, 0.1]);
  });

  it('reads data/iris.csv with configured classes and five folds', async () => {
    const iris = await readDataset(ROOT, {
      ...IRIS,
      classes: ['virginica', 'setosa', 'versicolor'],
      minRowsPerClass: 5,
    });
    expect(iris.classes).toEqual(['virginica', 'setosa', 'versicolor']);
    expect([iris.y[0], iris.y[50], iris.y[149]]).toEqual([1, 2, 0]);
  });

  it('refuses a missing file, naming it and pointing at `dataset:` in pinml.yaml', async () => {
    const spec = { ...IRIS, path: 'data/missing.csv' };
    const err: unknown = await readDataset(ROOT, spec).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataError);
    expect((err as DataError).code).toBe('E_DATA');
    expect((err as DataError).problems).toEqual([
      {
        file: 'data/missing.csv',
        message: expect.stringMatching(
          /no file at .*data\/missing\.csv.*`dataset:` in pinml\.yaml/,
        ) as string,
      },
    ]);
  });

  it('refuses a folder in place of a file', async () => {
    const err: unknown = await readDataset(ROOT, { ...IRIS, path: 'data' }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DataError);
    expect((err as DataError).problems[0]?.message).toContain('a folder');
  });
});

describe('parseDataset reads', () => {
  it('reads two string classes under other column names, sorting the classes', () => {
    const data = parseDataset(
      csv('hours,score,outcome', '1.5,40,pass', '0.5,12,fail', '2,55,pass', '0,3,fail'),
      { path: 'exam.csv', features: ['score', 'hours'], label: 'outcome' },
    );
    expect(data.classes).toEqual(['fail', 'pass']);
    expect(data.X).toEqual([
      [40, 1.5],
      [12, 0.5],
      [55, 2],
      [3, 0],
    ]);
    expect(data.y).toEqual([1, 0, 1, 0]);
    expect(data.classCounts).toEqual({ fail: 2, pass: 2 });
    expect(data.rowKeys[0]).toBe('[40,1.5,"pass"]');
    expect(data.signature.features).toEqual([
      { name: 'score', type: 'number', min: 3, max: 55 },
      { name: 'hours', type: 'number', min: 0, max: 2 },
    ]);
  });

  it('ignores columns that are not configured', () => {
    const data = parseDataset(csv('id,a,note,b,kind', '7,1,hello,2,x', '8,3,,4,y'), SPEC);
    expect(data.X).toEqual([
      [1, 2],
      [3, 4],
    ]);
  });

  it('sorts string classes by code unit, not by locale', () => {
    const data = parseDataset(csv('a,b,kind', '1,2,b', '3,4,B', '5,6,a', '7,8,Ä'), SPEC);
    expect(data.classes).toEqual(['B', 'a', 'b', 'Ä']);
  });

  it('infers numeric labels as numbers sorted by value', () => {
    const data = parseDataset(csv('a,b,kind', '1,2,10', '3,4,2', '5,6,0', '7,8,2.0'), SPEC);
    expect(data.classes).toEqual([0, 2, 10]);
    expect(data.y).toEqual([2, 1, 0, 1]);
    expect(data.classCounts).toEqual({ '0': 1, '2': 2, '10': 1 });
    expect(data.rowKeys[0]).toBe('[1,2,10]');
    expect(data.signature.label.classes).toEqual([0, 2, 10]);
  });

  it('treats labels as strings when any label is not a number', () => {
    const data = parseDataset(csv('a,b,kind', '1,2,1', '3,4,x', '5,6,10', '7,8,2'), SPEC);
    expect(data.classes).toEqual(['1', '10', '2', 'x']);
    expect(data.rowKeys[0]).toBe('[1,2,"1"]');
  });

  it('matches configured numeric classes 0/1 to cells "0"/"1", in the configured order', () => {
    const data = parseDataset(csv('a,b,kind', '1,2,0', '3,4,1', '5,6, 1 '), {
      ...SPEC,
      classes: [1, 0],
    });
    expect(data.classes).toEqual([1, 0]);
    expect(data.y).toEqual([1, 0, 0]);
    expect(data.classCounts).toEqual({ '1': 2, '0': 1 });
    expect(data.rowKeys[1]).toBe('[3,4,1]');
  });

  it('matches configured numeric classes by exact text, so "1.0" is not class 1', () => {
    const err = refuse(csv('a,b,kind', '1,2,0', '3,4,1.0', '5,6,1'), { classes: [0, 1] });
    expect(err.problems).toEqual([problem({ line: 3, column: 'kind' }, '"1.0"', '(0, 1)')]);
  });

  it('accepts decimal and exponent notation and trims cells', () => {
    const data = parseDataset(
      csv('a,b,kind', '1.,.5,x', '+2, -3e2 ,y', '1E-3,-0.25,x', '" 7 ",0,y'),
      SPEC,
    );
    expect(data.X).toEqual([
      [1, 0.5],
      [2, -300],
      [0.001, -0.25],
      [7, 0],
    ]);
  });

  it('reads CRLF line endings and a byte-order mark, hashing the exact bytes', () => {
    const text = '\uFEFFa,b,kind\r\n1,2,x\r\n\r\n3,4,y\r\n';
    const bytes = new TextEncoder().encode(text);
    const data = parseDataset(bytes, SPEC);
    expect(data.X).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(data.lines).toEqual([2, 4]);
    expect(data.bytes).toBe(bytes.byteLength);
    expect(data.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(parseDataset(text, SPEC).sha256).toBe(data.sha256);
  });

  it('reports exact lines after a quoted cell that spans CRLF lines', () => {
    const text = 'a,b,kind\r\n1,2,"x\r\nwide"\r\n3,4,y\r\n5,z,y\r\n';
    const err = refuse(text);
    expect(err.problems).toEqual([problem({ line: 5, column: 'b' }, '"z"')]);
  });

  it('reads quoted cells, including commas, doubled quotes and line breaks', () => {
    const data = parseDataset(
      csv(
        '"a","b","kind"',
        '"1.5","2","big, round"',
        '3,4,"the ""odd"" one"',
        '5,6,"two',
        'lines"',
        '7,8,x',
      ),
      SPEC,
    );
    expect(data.classes).toEqual(['big, round', 'the "odd" one', 'two\nlines', 'x']);
    expect(data.X[0]).toEqual([1.5, 2]);
    expect(data.lines).toEqual([2, 3, 4, 6]);
  });

  it('skips blank lines, in the middle and trailing, and counts them in line numbers', () => {
    const data = parseDataset('a,b,kind\n1,2,x\n\n   \n3,4,y\n\n\n \n', SPEC);
    expect(data.rows).toBe(2);
    expect(data.lines).toEqual([2, 5]);
  });

  it('reads a file without a final newline', () => {
    expect(parseDataset('a,b,kind\n1,2,x\n3,4,y', SPEC).lines).toEqual([2, 3]);
  });
});
