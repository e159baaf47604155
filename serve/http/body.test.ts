import { describe, expect, it } from 'vitest';

import { bodyLimitOf, parseJsonBody } from './body.ts';
import { RequestError } from './errors.ts';

const IRIS = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];

describe('bodyLimitOf', () => {
  it('fits a full batch of the widest rows a model can be sent, and not ten times more', () => {
    const limit = bodyLimitOf([IRIS], 1000);
    const widest = JSON.stringify(
      {
        inputs: Array.from({ length: 1000 }, () =>
          Object.fromEntries(IRIS.map((f) => [f, -1.2345678901234567e-308])),
        ),
      },
      null,
      1,
    );
    expect(Buffer.byteLength(widest)).toBeLessThanOrEqual(limit);
    const typical = JSON.stringify({
      inputs: Array.from({ length: 1000 }, () => Object.fromEntries(IRIS.map((f) => [f, 5.1]))),
    });
    expect(limit).toBeLessThan(4 * Buffer.byteLength(typical));
    // The widest of several models decides.
    expect(bodyLimitOf([IRIS, [...IRIS, ...IRIS.map((f) => `${f}_2`)]], 1000)).toBeGreaterThan(
      limit,
    );
  });
});

describe('parseJsonBody', () => {
  it('parses JSON nested as deep as a request needs, and refuses deeper nesting', () => {
    expect(parseJsonBody('{"inputs": [{"shape": [[[[1]]]]}]}')).toEqual({
      inputs: [{ shape: [[[[1]]]] }],
    });
    expect(parseJsonBody(`{"a": "${'['.repeat(100)}"}`)).toEqual({ a: '['.repeat(100) });
    expect(() => parseJsonBody(`${'['.repeat(33)}${']'.repeat(33)}`)).toThrow(RequestError);
    expect(() => parseJsonBody(`${'['.repeat(33)}${']'.repeat(33)}`)).toThrow(/more than 32 deep/);
  });
});
