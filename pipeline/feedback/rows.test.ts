import { describe, expect, it } from 'vitest';
import { DataError, PinmlError } from '../errors.ts';
import type { LoggedRow } from '../log/store.ts';
import { feedbackIdsPath, feedbackRows, parseFeedbackIds, type FeedbackRowsInput } from './rows.ts';

const FEATURES = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];
const MODEL = {
  name: 'iris',
  dataset: 'data/iris.csv',
  features: FEATURES,
  label: 'species',
  classes: ['setosa', 'versicolor', 'virginica'],
};
// The dataset's columns in another order than the model's features, with a column that is neither.
const CSV =
  'species,petal_width,sepal_length,note,sepal_width,petal_length\n' +
  'setosa,0.2,5.1,first,3.5,1.4\n' +
  'versicolor,1.3,5.7,,2.8,4.1\n' +
  'virginica,2.5,6.3,,3.3,6.0\n' +
  'setosa,0.2,4.9,,3.0,1.4\nsetosa,0.2,4.7,,3.2,1.3\n';

const INPUTS = { sepal_length: 5.9, sepal_width: 3, petal_length: 5.1, petal_width: 1.8 };
const SERVED = { commit: 'c'.repeat(40), pin: 'production', latencyMs: 1, sampleRate: 1 } as const;

let seq = 0;
/** A row of iris@2 with feedback `label`, one second after the one before. */
function row(id: string, label: string | null, over: Partial<LoggedRow> = {}): LoggedRow {
  seq += 1;
  const time = Date.UTC(2026, 11, 3, 10) + seq * 1000;
  const probabilities = { setosa: 0.0625, versicolor: 0.25, virginica: 0.6875 };
  return {
    ...SERVED,
    seq,
    id,
    time,
    model: 'iris',
    version: 2,
    class: 'virginica',
    probabilities,
    inputs: INPUTS,
    label,
    ...over,
  };
}

const input = (over: Partial<FeedbackRowsInput> = {}): FeedbackRowsInput => ({
  model: MODEL,
  dataset: CSV,
  ids: undefined,
  rows: [],
  source: 'predictions.db',
  ...over,
});

describe('feedbackRows', () => {
  it("appends each row in the dataset's column order, the feedback as the label and other columns empty", () => {
    const result = feedbackRows(input({ rows: [row('r1', 'virginica'), row('r2', 'versicolor')] }));
    expect(result.dataset).toBe(`${CSV}virginica,1.8,5.9,,3,5.1\nversicolor,1.8,5.9,,3,5.1\n`);
    expect(result.ids).toBe('{\n  "ids": [\n    "r1",\n    "r2"\n  ]\n}\n');
    expect(result.labels).toEqual({ versicolor: 1, virginica: 1 });
    expect(result.added.map((a) => [a.id, a.label, a.version])).toEqual([
      ['r1', 'virginica', 2],
      ['r2', 'versicolor', 2],
    ]);
  });

  it('takes rows with the same values as different examples, and a row id only once', () => {
    const result = feedbackRows(
      input({
        ids: '{"ids": ["old"]}\n',
        rows: [
          row('old', 'setosa'),
          row('b', 'virginica'),
          row('a', 'virginica'),
          row('b', 'virginica'),
        ],
      }),
    );
    expect(result.added.map((a) => a.id)).toEqual(['b', 'a']);
    expect(result.alreadyTaken).toBe(2);
    expect(JSON.parse(result.ids)).toEqual({ ids: ['a', 'b', 'old'] });
    expect(result.idsTotal).toBe(3);
    expect(result.dataset.split('\n').filter((l) => l === 'virginica,1.8,5.9,,3,5.1')).toHaveLength(
      2,
    );
  });

  it('changes nothing when every row is taken already', () => {
    const ids = '{\n  "ids": [\n    "r1"\n  ]\n}\n';
    const result = feedbackRows(input({ ids, rows: [row('r1', 'setosa')] }));
    expect(result).toMatchObject({ added: [], alreadyTaken: 1, dataset: CSV, ids });
  });

  it('keeps CRLF line endings and adds the line break a file without a final one lacks', () => {
    const crlf = 'a,b,y\r\n1,2,p\r\n1,3,q\r\n';
    const model = { name: 'm', dataset: 'd.csv', features: ['a', 'b'], label: 'y' };
    const inputs = { a: 0.5, b: 1e-7 };
    expect(
      feedbackRows(input({ model, dataset: crlf, rows: [row('x', 'q', { inputs })] })).dataset,
    ).toBe(`${crlf}0.5,1e-7,q\r\n`);
    expect(
      feedbackRows(input({ model, dataset: 'a,b,y\n1,2,p', rows: [row('x', 'p,2', { inputs })] }))
        .dataset,
    ).toBe('a,b,y\n1,2,p\n0.5,1e-7,"p,2"\n');
  });

  it('leaves out the rows of a version whose inputs are not the features, counted per version', () => {
    const old = { sepal_length: 5, sepal_width: 3 };
    const result = feedbackRows(
      input({
        rows: [
          row('v1a', 'setosa', { version: 1, inputs: old }),
          row('v1b', 'setosa', { version: 1, inputs: old }),
          row('ok', 'setosa'),
        ],
      }),
    );
    expect(result.added.map((a) => a.id)).toEqual(['ok']);
    expect(result.skipped).toEqual([
      { version: 1, rows: 2, inputs: ['sepal_length', 'sepal_width'] },
    ]);
  });

  it('refuses rows logged without inputs, naming them and --log-inputs', () => {
    const error = (() => {
      try {
        feedbackRows(
          input({ rows: [row('blind', 'setosa', { inputs: null }), row('ok', 'setosa')] }),
        );
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(PinmlError);
    expect((error as PinmlError).code).toBe('E_DATA');
    expect((error as PinmlError).message).toMatch(
      /^1 row with feedback in predictions\.db has no inputs \(blind\): the server ran with --log-inputs off/,
    );
  });

  it('refuses a label that is not a class of the model', () => {
    expect(() => feedbackRows(input({ rows: [row('r9', 'daisy')] }))).toThrow(
      /r9 \("daisy"\); add the class to `classes` in pinml\.yaml/,
    );
  });

  it('refuses a dataset whose header lacks a feature', () => {
    expect(() => feedbackRows(input({ dataset: 'species,petal_width\n', rows: [] }))).toThrow(
      DataError,
    );
  });
});

describe('the ids file', () => {
  it('sits beside the dataset', () => {
    expect(feedbackIdsPath('data/iris.csv')).toBe('data/iris.feedback.json');
    expect(feedbackIdsPath('data/wine.CSV')).toBe('data/wine.feedback.json');
    expect(feedbackIdsPath('data/rows.tsv')).toBe('data/rows.tsv.feedback.json');
  });

  it('is refused when it is not a list of ids, saying where', () => {
    expect(() => parseFeedbackIds('{"ids": [1]}', 'data/iris.feedback.json')).toThrow(
      /data\/iris\.feedback\.json.*restore the file from git/s,
    );
    expect([...parseFeedbackIds(undefined, 'x')]).toEqual([]);
  });
});
