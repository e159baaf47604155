/**
 * The random numbers of one tree of a `random-forest`: a stream that depends only on the
 * forest's seed and the tree's index, so a tree comes out the same on whichever thread grows it.
 */

/**
 * A generator of floats in [0, 1) for tree `tree` of a forest seeded `seed`: sfc32 started from
 * a splitmix32 hash of both, so neighbouring seeds and trees get unrelated streams.
 */
export function treeRandom(seed: number, tree: number): () => number {
  let h = (Math.imul(seed | 0, 0x9e3779b1) ^ Math.imul((tree | 0) + 0x632be5ab, 0x85ebca77)) >>> 0;
  const next = (): number => {
    h = (h + 0x9e3779b9) >>> 0;
    let z = h;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = next();
  let b = next();
  let c = next();
  let d = next() | 1;
  const random = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  // Discard the first outputs: sfc32 mixes its state over its first few steps.
  for (let i = 0; i < 12; i++) random();
  return random;
}
