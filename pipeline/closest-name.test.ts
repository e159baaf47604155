import { describe, expect, it } from 'vitest';
import { closestName } from './closest-name.ts';

describe('closestName', () => {
  it('finds the name one typo away, ignoring case', () => {
    expect(closestName('iriss', ['wine', 'iris'])).toBe('iris');
    expect(closestName('IRIS', ['iris'])).toBe('iris');
  });

  it('finds nothing when every name is more than two edits away', () => {
    expect(closestName('nosuch', ['iris', 'wine'])).toBeUndefined();
    expect(closestName('iris', [])).toBeUndefined();
  });

  it('takes the nearest, and the first of equally near names', () => {
    expect(closestName('wines', ['wine-x', 'wine'])).toBe('wine');
    expect(closestName('ab', ['ax', 'ay'])).toBe('ax');
  });

  it('honours a tighter limit', () => {
    expect(closestName('irs', ['iris'], 0)).toBeUndefined();
    expect(closestName('irs', ['iris'], 1)).toBe('iris');
  });
});
