import { describe, expect, it } from 'vitest';
import { binCounts, binIndex, quantileEdges, toShares } from './bins.ts';

describe('quantile bins', () => {
  it('puts the edges at numpy-style linear quantiles', () => {
    const sorted = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    expect(quantileEdges(sorted, 10)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    // np.quantile([1, 2, 4, 8], [0, .5, 1]) == [1, 3, 8]
    expect(quantileEdges([1, 2, 4, 8], 2)).toEqual([1, 3, 8]);
  });

  it('sends values beyond the edges to the first and last bins, and an edge to the bin it opens', () => {
    const edges = [0, 1, 2, 3];
    expect([-5, 0, 0.5, 1, 1.5, 2, 3, 99].map((x) => binIndex(edges, x))).toEqual([
      0, 0, 0, 1, 1, 2, 2, 2,
    ]);
  });

  it('puts a value equal to repeated edges after the last of them (searchsorted right)', () => {
    const edges = [0, 1, 1, 1, 2];
    expect(binIndex(edges, 1)).toBe(3);
    expect(binIndex(edges, 0.99)).toBe(0);
  });

  it('counts and shares', () => {
    const counts = binCounts(Float64Array.from([0, 0.2, 1.5, 2.5, 7]), [0, 1, 2, 3]);
    expect(counts).toEqual([2, 1, 2]);
    expect(toShares(counts)).toEqual([0.4, 0.2, 0.4]);
    expect(toShares([0, 0])).toEqual([0, 0]);
  });

  it('refuses a bin count below one', () => {
    expect(() => quantileEdges([1, 2], 0)).toThrow(/bins must be ≥ 1/);
  });
});
