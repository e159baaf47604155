import { describe, expect, it } from 'vitest';

import { parseThreads } from './workspace.ts';

describe('parseThreads', () => {
  it('reads a PINML_TRAIN_THREADS value as a cap, and anything but a positive integer as none', () => {
    expect(parseThreads('1')).toBe(1);
    expect(parseThreads('1000')).toBe(1000);
    expect(parseThreads(undefined)).toBeUndefined();
    expect(parseThreads('')).toBeUndefined();
    expect(parseThreads('many')).toBeUndefined();
    expect(parseThreads('0')).toBeUndefined();
    expect(parseThreads('-2')).toBeUndefined();
  });
});
