import { describe, expect, it } from 'vitest';
import { z } from 'zod';

import { families } from './index.ts';
import { describeRule, paramsProblem } from './params.ts';

describe('paramsProblem', () => {
  const schema = z.strictObject({
    n: z.int().min(2).default(2),
    rate: z.number().gt(0).default(1),
    on: z.boolean().default(true),
  });

  it('names the first bad parameter in the order listed, with the value it got', () => {
    expect(paramsProblem(schema, { n: 1, rate: -1, on: 'yes' })).toBe(
      'n must be an integer >= 2, got 1',
    );
    expect(paramsProblem(schema, { n: 2, rate: 0, on: 'yes' })).toBe(
      'rate must be a number > 0, got 0',
    );
    expect(paramsProblem(schema, { n: 2, rate: 0.5 })).toBe(
      'on must be true or false, got nothing',
    );
    expect(paramsProblem(schema, { n: 2, rate: 0.5, on: false })).toBeUndefined();
  });

  it('refuses params that are not an object', () => {
    expect(paramsProblem(schema, [])).toBe('must be an object');
    expect(paramsProblem(schema, null)).toBe('must be an object');
  });

  it('refuses a parameter the schema does not define, listing those it does', () => {
    expect(paramsProblem(schema, { n: 2, rate: 0.5, on: false, steps: 3 })).toBe(
      'steps is not one of its parameters (n, rate, on)',
    );
  });

  it.each(families.map((f) => [f.algorithm, f] as const))(
    'accepts the %s defaults and refuses them without any one field',
    (_algorithm, family) => {
      const defaults: Record<string, unknown> = family.params.parse({});
      expect(paramsProblem(family.params, defaults)).toBeUndefined();
      for (const name of Object.keys(defaults)) {
        const { [name]: _left, ...rest } = defaults;
        expect(paramsProblem(family.params, rest)).toMatch(
          new RegExp(`^${name} must be .+, got nothing$`),
        );
      }
    },
  );
});

describe('describeRule', () => {
  it.each([
    [z.int().min(1).max(2000), 'an integer from 1 to 2000'],
    [z.int().min(2), 'an integer >= 2'],
    [z.number().gt(0), 'a number > 0'],
    [z.number().gt(0).max(1), 'a number in (0, 1]'],
    [z.number().gt(0).max(1e12), 'a number in (0, 1e12]'],
    [z.number().min(0).lt(1), 'a number in [0, 1)'],
    [z.number().max(5), 'a number <= 5'],
    [z.enum(['gini', 'entropy']), '"gini" or "entropy"'],
    [
      z.union([z.enum(['sqrt', 'log2']), z.number().gt(0).max(1)]),
      '"sqrt", "log2" or a number in (0, 1]',
    ],
    [z.boolean(), 'true or false'],
  ])('words a rule as the value it wants (%#)', (rule, words) => {
    expect(describeRule(rule)).toBe(words);
  });
});
