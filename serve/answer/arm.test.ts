import { describe, expect, it } from 'vitest';

import { chooseArm, keyPoint } from './arm.ts';

describe('chooseArm', () => {
  it('sends 20 % ± 2 % of 10,000 distinct keys to a canary of weight 0.2', () => {
    let canary = 0;
    for (let i = 0; i < 10_000; i++) if (chooseArm('iris', `key-${i}`, 0.2) === 'canary') canary++;
    expect(Math.abs(canary / 10_000 - 0.2)).toBeLessThanOrEqual(0.02);
  });

  it.each([0.05, 0.5, 0.9])('splits UUID-shaped keys by a weight of %s within ± 2 %', (weight) => {
    let canary = 0;
    let seed = 42;
    const hex = (n: number): string => {
      let out = '';
      for (let j = 0; j < n; j++) {
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
        out += (seed >>> 28).toString(16);
      }
      return out;
    };
    for (let i = 0; i < 10_000; i++) {
      const key = `${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(12)}`;
      if (chooseArm('iris', key, weight) === 'canary') canary++;
    }
    expect(Math.abs(canary / 10_000 - weight)).toBeLessThanOrEqual(0.02);
  });

  it('always lands a repeated key on the same arm', () => {
    for (let i = 0; i < 200; i++) {
      const key = `user-${i * 7919}`;
      const first = chooseArm('iris', key, 0.3);
      for (let j = 0; j < 5; j++) expect(chooseArm('iris', key, 0.3)).toBe(first);
    }
  });

  it('keeps a key on the canary as its weight grows', () => {
    for (let i = 0; i < 1000; i++) {
      if (chooseArm('iris', `k${i}`, 0.1) === 'canary') {
        expect(chooseArm('iris', `k${i}`, 0.4)).toBe('canary');
      }
    }
  });

  it('places keys independently per model', () => {
    let same = 0;
    for (let i = 0; i < 10_000; i++) {
      const key = `key-${i}`;
      if (chooseArm('iris', key, 0.5) === chooseArm('roses', key, 0.5)) same++;
    }
    // Independent halves agree half of the time (± 2 %).
    expect(Math.abs(same / 10_000 - 0.5)).toBeLessThanOrEqual(0.02);
  });

  it('places every key in [0, 1), spread evenly over ten bins (each 10 % ± 1.5 %)', () => {
    const bins = new Array<number>(10).fill(0);
    let outside = 0;
    for (let i = 0; i < 20_000; i++) {
      const p = keyPoint('iris', String(i));
      if (p < 0 || p >= 1) outside++;
      else bins[Math.floor(p * 10)]!++;
    }
    expect(outside).toBe(0);
    for (const b of bins) expect(Math.abs(b / 20_000 - 0.1)).toBeLessThanOrEqual(0.015);
  });
});
