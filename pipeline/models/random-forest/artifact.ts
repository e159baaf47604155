/**
 * The trees of a `random-forest` artifact as flat arrays: written from the grown trees
 * ({@link encodeTrees}), checked field by field ({@link checkTrees}) and compiled into the flat
 * forest that predicts ({@link compileForest}), which checks the trees' structure as it goes.
 */
import { artifactFailure, isInt } from '../checks.ts';
import type { ModelArtifact } from '../types.ts';
import { decodeArray, encodeArray, unsignedTypeFor, type EncodedArray } from './encoded-array.ts';
import { FlatForest } from './flat-forest.ts';
import type { GrownTree } from './tree.ts';

/** The artifact kind of the `random-forest` family. */
export const RANDOM_FOREST_KIND = 'random-forest';

/**
 * The trees of a `random-forest` artifact.
 *
 * `thresholds` holds every feature's bin thresholds, feature 0's first; `thresholdCounts[j]`
 * says how many belong to feature j. The trees follow one another in `nodes`, `treeSizes[t]`
 * nodes each, every tree in preorder (a split node, its left subtree, its right subtree). A node
 * is `0` for a leaf, or `i + 1` for a split sending a row left when its value of the feature
 * owning threshold i is `<= thresholds[i]`. Each leaf, in order, has one count per class in
 * `leafCounts` (training rows with their bootstrap repeats); its class probabilities are the
 * counts over their sum, and the forest's are the mean over trees.
 */
export interface ForestTrees {
  thresholds: EncodedArray;
  thresholdCounts: number[];
  treeSizes: EncodedArray;
  nodes: EncodedArray;
  leafCounts: EncodedArray;
}

/** The trees as the artifact keeps them, from the grown trees and each feature's thresholds. */
export function encodeTrees(
  grown: readonly GrownTree[],
  thresholds: readonly Float64Array[],
): ForestTrees {
  const offsets: number[] = [];
  let all = 0;
  for (const t of thresholds) {
    offsets.push(all);
    all += t.length;
  }
  const flat = new Float64Array(all);
  thresholds.forEach((t, j) => flat.set(t, offsets[j]));
  let nodeCount = 0;
  let leafValues = 0;
  for (const g of grown) {
    nodeCount += g.feature.length;
    leafValues += g.leafCounts.length;
  }
  const nodes = new Uint32Array(nodeCount);
  const leafCounts = new Float64Array(leafValues);
  let at = 0;
  let leafAt = 0;
  for (const g of grown) {
    for (let n = 0; n < g.feature.length; n++) {
      const j = g.feature[n] as number;
      nodes[at++] = j < 0 ? 0 : (offsets[j] as number) + (g.bin[n] as number) + 1;
    }
    leafCounts.set(g.leafCounts, leafAt);
    leafAt += g.leafCounts.length;
  }
  const sizes = grown.map((g) => g.feature.length);
  return {
    thresholds: encodeArray('float64', flat),
    thresholdCounts: thresholds.map((t) => t.length),
    treeSizes: encodeArray(unsignedTypeFor(sizes), sizes),
    nodes: encodeArray(unsignedTypeFor(nodes), nodes),
    leafCounts: encodeArray(unsignedTypeFor(leafCounts), leafCounts),
  };
}

/**
 * Checks the tree fields of an artifact of `trees` trees whose header is checked already (the
 * error names the first bad field); the trees' structure is checked by {@link compileForest}.
 */
export function checkTrees(
  a: ModelArtifact,
  trees: number,
): asserts a is ModelArtifact & ForestTrees {
  const fail = artifactFailure(RANDOM_FOREST_KIND);
  const d = a.features.length;
  const k = a.classes.length;

  const decoded = (field: string, types: readonly string[]): ArrayLike<number> => {
    const typed = decodeArray(a[field]);
    if (typeof typed === 'string') return fail(field, typed);
    const type = (a[field] as { type: string }).type;
    if (!types.includes(type)) fail(field, `must be of type ${types.join(' or ')}, got ${type}`);
    return typed;
  };
  const thresholds = decoded('thresholds', ['float64']);
  for (let i = 0; i < thresholds.length; i++) {
    if (!Number.isFinite(thresholds[i])) fail('thresholds', `value ${i} is not a finite number`);
  }
  const counts = a.thresholdCounts;
  if (
    !Array.isArray(counts) ||
    counts.length !== d ||
    !counts.every((c) => isInt(c, 0) && c < 256)
  ) {
    fail('thresholdCounts', `must list ${d} integers from 0 to 255, one per feature`);
  }
  const listed = (counts as number[]).reduce((s, c) => s + c, 0);
  if (listed !== thresholds.length) {
    fail('thresholdCounts', `add up to ${listed}, but thresholds holds ${thresholds.length}`);
  }
  const unsigned = ['uint8', 'uint16', 'uint32'];
  const sizes = decoded('treeSizes', unsigned);
  if (sizes.length !== trees) {
    fail(
      'treeSizes',
      `must have one size per tree (params.trees is ${trees}), got ${sizes.length}`,
    );
  }
  decoded('nodes', unsigned);
  const leafCounts = decoded('leafCounts', unsigned);
  if (leafCounts.length % k !== 0) fail('leafCounts', `must hold ${k} counts per leaf`);
}

/**
 * The flat-array predictor of an artifact whose fields have the right types; checks the trees'
 * structure as it goes. Its arrays live in shared memory, so prediction threads read them as
 * they are.
 */
export function compileForest(a: ModelArtifact & ForestTrees): FlatForest {
  const fail = artifactFailure(RANDOM_FOREST_KIND);
  const d = a.features.length;
  const k = a.classes.length;
  const decodedThresholds = decodeArray(a.thresholds) as Float64Array;
  const sizes = decodeArray(a.treeSizes) as Uint32Array;
  const codes = decodeArray(a.nodes) as Uint32Array;
  const counts = decodeArray(a.leafCounts) as Uint32Array;

  const thresholds = sharedArray(Float64Array, decodedThresholds.length);
  thresholds.set(decodedThresholds);
  const thresholdStart = sharedArray(Int32Array, d + 1);
  const owner = new Int32Array(thresholds.length);
  a.thresholdCounts.forEach((count, j) => {
    const at = thresholdStart[j] as number;
    thresholdStart[j + 1] = at + count;
    owner.fill(j, at, at + count);
  });

  const n = codes.length;
  const node = sharedArray(Int32Array, 2 * n);
  const roots = sharedArray(Int32Array, sizes.length);
  const leaves = counts.length / k;
  const proba = sharedArray(Float64Array, counts.length);
  let at = 0;
  let leaf = 0;
  const open: number[] = [];
  for (let t = 0; t < sizes.length; t++) {
    const size = sizes[t] as number;
    roots[t] = at;
    if (size < 1) fail(`treeSizes[${t}]`, 'must be at least 1');
    const end = at + size;
    if (end > n) fail('treeSizes', `add up to more than the ${n} nodes`);
    open.length = 0;
    for (; at < end; at++) {
      const code = codes[at] as number;
      if (code > 0) {
        if (code > thresholds.length) {
          fail(`nodes[${at}]`, `is ${code}, but there are ${thresholds.length} thresholds`);
        }
        const j = owner[code - 1] as number;
        node[2 * at] = (j << 8) | (code - 1 - (thresholdStart[j] as number));
        open.push(at);
        continue;
      }
      if (leaf >= leaves) fail('leafCounts', `has fewer than the ${leaf + 1} leaves of the trees`);
      let total = 0;
      for (let c = 0; c < k; c++) total += counts[leaf * k + c] as number;
      if (!(total > 0)) fail('leafCounts', `leaf ${leaf} has no training row`);
      for (let c = 0; c < k; c++) proba[leaf * k + c] = (counts[leaf * k + c] as number) / total;
      node[2 * at] = -1;
      node[2 * at + 1] = leaf * k;
      leaf++;
      if (at + 1 < end) {
        const parent = open.pop();
        if (parent === undefined)
          fail(`treeSizes[${t}]`, 'counts nodes after the tree is complete');
        node[2 * (parent as number) + 1] = at + 1;
      }
    }
    if (open.length > 0) {
      fail(`treeSizes[${t}]`, 'ends the tree before every split has two subtrees');
    }
  }
  if (at !== n) fail('treeSizes', `add up to ${at} nodes, but nodes has ${n}`);
  if (leaf !== leaves) fail('leafCounts', `holds ${leaves} leaves, but the trees have ${leaf}`);
  return new FlatForest({
    features: d,
    classes: k,
    thresholds,
    thresholdStart,
    node,
    roots,
    proba,
  });
}

type ArrayMaker<T> = new (buffer: SharedArrayBuffer) => T;

function sharedArray<T extends Int32Array | Float64Array>(
  Type: ArrayMaker<T> & { BYTES_PER_ELEMENT: number },
  length: number,
): T {
  return new Type(new SharedArrayBuffer(length * Type.BYTES_PER_ELEMENT));
}
