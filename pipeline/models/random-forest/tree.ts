/**
 * Grows one classification tree of the `random-forest` family on binned, column-major rows.
 *
 * Pure (typed arrays in, typed arrays out): the training threads load this module (and its two
 * helpers, `tree-random.ts` and `split-score.ts`) on their own, and a tree depends only on the
 * data, the options, the forest's seed and the tree's index, so a forest comes out the same
 * whichever thread grew which tree.
 *
 * The split search is histogram based: every feature was cut once into at most 256 quantile
 * bins (`bins.ts`), a node sums the class weights of its rows per bin of a feature, and
 * the best split is found by one scan over the bins. Where a node sees most of the features
 * (`maxFeatures` at least half of them), nodes keep a histogram of every feature and the larger
 * child's is the parent's minus the smaller child's (histogram subtraction), so only the smaller
 * child's rows are read; elsewhere reading the few features a node draws is cheaper, and that is
 * what happens.
 */

import { impurityOf, splitScore } from './split-score.ts';
import { treeRandom } from './tree-random.ts';

/** Rows cut into bins, column by column, with their class indices. */
export interface BinnedRows {
  /** Number of rows, n. */
  rows: number;
  /** Number of features, d. */
  features: number;
  /** Number of classes, k. */
  classes: number;
  /** Bin index of row i in feature j at `bins[j * rows + i]`. */
  bins: Uint8Array;
  /** Bins per feature (1 to 256); a feature with 1 bin is constant and never split. */
  binCounts: Uint16Array;
  /** Class index of each row. */
  labels: Uint16Array;
}

/** How a tree grows; counts are of training rows, with their bootstrap multiplicity. */
export interface TreeOptions {
  /** Depth at which a node becomes a leaf (the root is at depth 0). */
  maxDepth: number;
  /** A node with fewer rows than this becomes a leaf. */
  minSamplesSplit: number;
  /** Each side of a split keeps at least this many rows. */
  minSamplesLeaf: number;
  /** Features a node tries, drawn at random without replacement (at least 1). */
  featuresPerNode: number;
  criterion: 'gini' | 'entropy';
  /** Draw the tree's rows with replacement (otherwise every row once). */
  bootstrap: boolean;
}

/**
 * One tree in preorder: a node's left subtree follows it, then its right subtree. A split node
 * sends a row left when its bin in `feature[node]` is at most `bin[node]`.
 */
export interface GrownTree {
  /** The split feature of each node, -1 for a leaf. */
  feature: Int32Array;
  /** The highest bin that goes left, for a split node (0 for a leaf). */
  bin: Uint8Array;
  /** For each leaf in preorder, the training rows of each class (k numbers, integers). */
  leafCounts: Float64Array;
  /** Impurity decrease per feature, weighted by rows (sums to the tree's total decrease). */
  importance: Float64Array;
  /** Rows left out of the bootstrap sample (out of bag), ascending. */
  oobRows: Uint32Array;
  /** The leaf (index among the leaves in preorder) each out-of-bag row falls in. */
  oobLeaves: Uint32Array;
}

/**
 * Full histograms larger than this (in numbers, 2 MiB) are never kept per node: a tree holds
 * about one per level of depth.
 */
const MAX_FULL_HISTOGRAM = 1 << 18;

/** Nodes with at most this many distinct rows sort them per feature instead of binning them. */
const SMALL_NODE = 64;

/** Growable arrays for the tree's nodes. */
class NodeList {
  feature = new Int32Array(256);
  bin = new Uint8Array(256);
  /** Right child of a split node; the leaf's index among the leaves for a leaf. */
  link = new Int32Array(256);
  size = 0;

  add(): number {
    if (this.size === this.feature.length) {
      const grow = <T extends Int32Array | Uint8Array>(a: T, make: (n: number) => T): T => {
        const b = make(a.length * 2);
        b.set(a);
        return b;
      };
      this.feature = grow(this.feature, (n) => new Int32Array(n));
      this.bin = grow(this.bin, (n) => new Uint8Array(n));
      this.link = grow(this.link, (n) => new Int32Array(n));
    }
    return this.size++;
  }
}

/**
 * Grows tree `index` of a forest seeded `seed`. `tick` is called now and then, so a caller can
 * tell a thread at work from a stuck one.
 */
export function growTree(
  data: BinnedRows,
  options: TreeOptions,
  seed: number,
  index: number,
  tick?: () => void,
): GrownTree {
  const { rows: n, features: d, classes: k, bins, binCounts, labels } = data;
  const random = treeRandom(seed, index);
  const entropy = options.criterion === 'entropy';
  const minLeaf = Math.max(1, options.minSamplesLeaf);
  const minSplit = Math.max(2, options.minSamplesSplit, 2 * minLeaf);
  const maxDepth = options.maxDepth;

  // Bootstrap: how many times each row was drawn.
  const weight = new Float64Array(n);
  if (options.bootstrap) {
    for (let i = 0; i < n; i++) {
      const r = Math.min(n - 1, Math.floor(random() * n));
      weight[r] = (weight[r] as number) + 1;
    }
  } else {
    weight.fill(1);
  }
  let inBag = 0;
  for (let i = 0; i < n; i++) if ((weight[i] as number) > 0) inBag++;
  // The in-bag rows, with their class and weight beside them: a node is a range of these, and
  // partitioning moves all three, so a node reads its classes and weights in order.
  const rows = new Uint32Array(inBag);
  const rowClass = new Uint16Array(inBag);
  const rowWeight = new Float64Array(inBag);
  const oobRows = new Uint32Array(n - inBag);
  for (let i = 0, p = 0, q = 0; i < n; i++) {
    if ((weight[i] as number) > 0) {
      rows[p] = i;
      rowClass[p] = labels[i] as number;
      rowWeight[p++] = weight[i] as number;
    } else {
      oobRows[q++] = i;
    }
  }

  // Features that are not constant over all rows: the only ones worth drawing.
  const candidates: number[] = [];
  for (let j = 0; j < d; j++) if ((binCounts[j] as number) > 1) candidates.push(j);
  const order = Int32Array.from(candidates);
  const usable = order.length;
  const perNode = Math.min(Math.max(1, options.featuresPerNode), Math.max(1, usable));

  // One feature's histogram: weight per (bin, class); all zeros between uses.
  const hist = new Float64Array(256 * k);
  // The full histogram layout: feature j's bins start at base[j] (in numbers).
  const base = new Int32Array(d + 1);
  for (let j = 0; j < d; j++) base[j + 1] = (base[j] as number) + (binCounts[j] as number) * k;
  const fullSize = base[d] as number;
  const keepFull = 2 * perNode >= usable && usable > 1 && fullSize <= MAX_FULL_HISTOGRAM;
  const spare: Float64Array[] = [];
  const takeFull = (): Float64Array => spare.pop() ?? new Float64Array(fullSize);
  const giveFull = (h: Float64Array | null): void => {
    if (h !== null) spare.push(h);
  };
  const fillFull = (h: Float64Array, start: number, end: number): void => {
    h.fill(0);
    for (let j = 0; j < d; j++) {
      if ((binCounts[j] as number) < 2) continue;
      const column = j * n;
      const b0 = base[j] as number;
      for (let p = start; p < end; p++) {
        const at =
          b0 + (bins[column + (rows[p] as number)] as number) * k + (rowClass[p] as number);
        h[at] = (h[at] as number) + (rowWeight[p] as number);
      }
    }
  };

  const nodes = new NodeList();
  const leafCounts: number[] = [];
  const importance = new Float64Array(d);

  // Pending nodes (depth first): row range, depth, the parent whose right child it is (-1 for a
  // left child), its class weights and, where kept, its full histogram.
  const stackStart: number[] = [];
  const stackEnd: number[] = [];
  const stackDepth: number[] = [];
  const stackParent: number[] = [];
  const stackCounts: Float64Array[] = [];
  const stackFull: (Float64Array | null)[] = [];

  const rootCounts = new Float64Array(k);
  for (let p = 0; p < inBag; p++) {
    const c = rowClass[p] as number;
    rootCounts[c] = (rootCounts[c] as number) + (rowWeight[p] as number);
  }
  let rootFull: Float64Array | null = null;
  if (keepFull && inBag >= minSplit) {
    rootFull = takeFull();
    fillFull(rootFull, 0, inBag);
  }
  stackStart.push(0);
  stackEnd.push(inBag);
  stackDepth.push(0);
  stackParent.push(-1);
  stackCounts.push(rootCounts);
  stackFull.push(rootFull);

  const left = new Float64Array(k);
  const bestLeft = new Float64Array(k);
  const occupied = new Int32Array(256);
  const seen = new Int32Array(8);
  const sortedBin = new Int32Array(SMALL_NODE);
  const sortedRow = new Int32Array(SMALL_NODE);
  let processed = 0;

  while (stackStart.length > 0) {
    const start = stackStart.pop() as number;
    const end = stackEnd.pop() as number;
    const depth = stackDepth.pop() as number;
    const parent = stackParent.pop() as number;
    const counts = stackCounts.pop() as Float64Array;
    const full = stackFull.pop() as Float64Array | null;
    if ((++processed & 1023) === 0 && tick !== undefined) tick();

    const node = nodes.add();
    if (parent >= 0) nodes.link[parent] = node;

    let total = 0;
    let present = 0;
    for (let c = 0; c < k; c++) {
      const w = counts[c] as number;
      total += w;
      if (w > 0) present++;
    }

    let bestFeature = -1;
    let bestBin = 0;
    let bestScore = -Infinity;
    if (depth < maxDepth && total >= minSplit && present > 1 && usable > 0) {
      const parentImpurity = impurityOf(counts, total, k, entropy);
      let visited = 0;
      let valid = 0;
      while (valid < perNode && visited < usable) {
        // Partial Fisher-Yates: a uniform draw among the features not tried at this node.
        const pick =
          visited + Math.min(usable - visited - 1, Math.floor(random() * (usable - visited)));
        const j = order[pick] as number;
        order[pick] = order[visited] as number;
        order[visited] = j;
        visited++;

        if (full === null && end - start <= SMALL_NODE) {
          // A small node: sort its rows by bin instead of scanning up to 256 mostly empty bins.
          // The same candidates in the same order, with exact (integer) sums: the same split.
          const m = end - start;
          const column = j * n;
          for (let p = 0; p < m; p++) {
            const b = bins[column + (rows[start + p] as number)] as number;
            let q = p - 1;
            while (q >= 0 && (sortedBin[q] as number) > b) {
              sortedBin[q + 1] = sortedBin[q] as number;
              sortedRow[q + 1] = sortedRow[q] as number;
              q--;
            }
            sortedBin[q + 1] = b;
            sortedRow[q + 1] = start + p;
          }
          if (sortedBin[0] === sortedBin[m - 1]) continue;
          valid++;
          left.fill(0);
          let leftTotal = 0;
          let previous = -1;
          for (let p = 0; p < m;) {
            const b = sortedBin[p] as number;
            if (previous >= 0 && leftTotal >= minLeaf) {
              const rightTotal = total - leftTotal;
              if (rightTotal < minLeaf) break;
              const score = splitScore(left, counts, leftTotal, rightTotal, k, entropy);
              if (score > bestScore) {
                bestScore = score;
                bestFeature = j;
                bestBin = (previous + b - 1) >>> 1;
                bestLeft.set(left);
              }
            }
            for (; p < m && sortedBin[p] === b; p++) {
              const at = sortedRow[p] as number;
              const c = rowClass[at] as number;
              const w = rowWeight[at] as number;
              left[c] = (left[c] as number) + w;
              leftTotal += w;
            }
            previous = b;
          }
          continue;
        }

        // The feature's histogram (a slice of the node's full one, or summed from its rows) and
        // its occupied bins in ascending order.
        let h: Float64Array;
        let offset: number;
        let occupiedCount = 0;
        if (full !== null) {
          h = full;
          offset = base[j] as number;
          const nb = binCounts[j] as number;
          for (let b = 0; b < nb; b++) {
            let w = 0;
            for (let c = 0; c < k; c++) w += h[offset + b * k + c] as number;
            if (w > 0) occupied[occupiedCount++] = b;
          }
        } else {
          h = hist;
          offset = 0;
          const column = j * n;
          seen.fill(0);
          for (let p = start; p < end; p++) {
            const b = bins[column + (rows[p] as number)] as number;
            seen[b >>> 5] = (seen[b >>> 5] as number) | (1 << (b & 31));
            const at = b * k + (rowClass[p] as number);
            h[at] = (h[at] as number) + (rowWeight[p] as number);
          }
          for (let word = 0; word < 8; word++) {
            let bits = seen[word] as number;
            while (bits !== 0) {
              const lowest = bits & -bits;
              occupied[occupiedCount++] = (word << 5) + 31 - Math.clz32(lowest);
              bits ^= lowest;
            }
          }
        }
        if (occupiedCount < 2) {
          // Constant over this node's rows: no split, and it does not count as tried.
          if (full === null) clearBins(h, occupied, occupiedCount, k);
          continue;
        }
        valid++;

        // Scan the bins: a split goes between two occupied bins, at the bin halfway between.
        left.fill(0);
        let leftTotal = 0;
        let previous = -1;
        for (let o = 0; o < occupiedCount; o++) {
          const b = occupied[o] as number;
          const at = offset + b * k;
          if (previous >= 0 && leftTotal >= minLeaf) {
            const rightTotal = total - leftTotal;
            if (rightTotal < minLeaf) break;
            const score = splitScore(left, counts, leftTotal, rightTotal, k, entropy);
            if (score > bestScore) {
              bestScore = score;
              bestFeature = j;
              bestBin = (previous + b - 1) >>> 1;
              bestLeft.set(left);
            }
          }
          for (let c = 0; c < k; c++) {
            const w = h[at + c] as number;
            left[c] = (left[c] as number) + w;
            leftTotal += w;
          }
          previous = b;
        }
        if (full === null) clearBins(h, occupied, occupiedCount, k);
      }
      if (bestFeature >= 0) {
        // Decrease of impurity, weighted by rows, as scikit-learn's feature_importances_.
        const leftTotal = sum(bestLeft, k);
        const rightCounts = new Float64Array(k);
        for (let c = 0; c < k; c++)
          rightCounts[c] = (counts[c] as number) - (bestLeft[c] as number);
        const rightTotal = total - leftTotal;
        const decrease =
          total * parentImpurity -
          leftTotal * impurityOf(bestLeft, leftTotal, k, entropy) -
          rightTotal * impurityOf(rightCounts, rightTotal, k, entropy);
        importance[bestFeature] = (importance[bestFeature] as number) + Math.max(0, decrease);

        // Partition the node's rows: those going left first.
        const column = bestFeature * n;
        let i = start;
        let e = end - 1;
        while (i <= e) {
          const r = rows[i] as number;
          if ((bins[column + r] as number) <= bestBin) {
            i++;
          } else {
            const c = rowClass[i] as number;
            const w = rowWeight[i] as number;
            rows[i] = rows[e] as number;
            rowClass[i] = rowClass[e] as number;
            rowWeight[i] = rowWeight[e] as number;
            rows[e] = r;
            rowClass[e] = c;
            rowWeight[e] = w;
            e--;
          }
        }
        const middle = i;
        nodes.feature[node] = bestFeature;
        nodes.bin[node] = bestBin;

        // Histograms of the children: the smaller one's summed, the larger one's subtracted,
        // when that reads fewer numbers than drawing features in each child would.
        let leftFull: Float64Array | null = null;
        let rightFull: Float64Array | null = null;
        const leftRows = middle - start;
        const rightRows = end - middle;
        const small = Math.min(leftRows, rightRows);
        if (
          full !== null &&
          depth + 1 < maxDepth &&
          small * usable + 2 * fullSize < (leftRows + rightRows) * perNode
        ) {
          const smallFull = takeFull();
          if (leftRows <= rightRows) fillFull(smallFull, start, middle);
          else fillFull(smallFull, middle, end);
          for (let x = 0; x < fullSize; x++)
            full[x] = (full[x] as number) - (smallFull[x] as number);
          if (leftRows <= rightRows) {
            leftFull = smallFull;
            rightFull = full;
          } else {
            leftFull = full;
            rightFull = smallFull;
          }
        } else {
          giveFull(full);
        }
        // Right child first on the stack, so the left subtree is written first (preorder).
        stackStart.push(middle, start);
        stackEnd.push(end, middle);
        stackDepth.push(depth + 1, depth + 1);
        stackParent.push(node, -1);
        stackCounts.push(rightCounts, Float64Array.from(bestLeft));
        stackFull.push(rightFull, leftFull);
        continue;
      }
    }
    giveFull(full);
    nodes.feature[node] = -1;
    nodes.link[node] = leafCounts.length / k;
    for (let c = 0; c < k; c++) leafCounts.push(counts[c] as number);
  }

  const size = nodes.size;
  const feature = nodes.feature.slice(0, size);
  const bin = nodes.bin.slice(0, size);
  const link = nodes.link;

  // The leaf each out-of-bag row falls in.
  const oobLeaves = new Uint32Array(oobRows.length);
  for (let q = 0; q < oobRows.length; q++) {
    const r = oobRows[q] as number;
    let at = 0;
    let j = feature[0] as number;
    while (j >= 0) {
      at = (bins[j * n + r] as number) <= (bin[at] as number) ? at + 1 : (link[at] as number);
      j = feature[at] as number;
    }
    oobLeaves[q] = link[at] as number;
  }

  return {
    feature,
    bin,
    leafCounts: Float64Array.from(leafCounts),
    importance,
    oobRows,
    oobLeaves,
  };
}

/** Zeroes the listed bins of a one-feature histogram. */
function clearBins(h: Float64Array, bins: Int32Array, count: number, k: number): void {
  for (let o = 0; o < count; o++) {
    const at = (bins[o] as number) * k;
    for (let c = 0; c < k; c++) h[at + c] = 0;
  }
}

function sum(values: Float64Array, k: number): number {
  let s = 0;
  for (let c = 0; c < k; c++) s += values[c] as number;
  return s;
}
