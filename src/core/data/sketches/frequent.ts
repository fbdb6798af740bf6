/**
 * Frequent values: a weighted Misra-Gries summary (mergeable as in Agarwal et al., "Mergeable
 * Summaries", 2012). It keeps at most `k` counters at rest (2k while streaming, so a purge runs at
 * most once per k new keys: amortised O(1) per update).
 *
 * Guarantee: for every value, `count ≤ true count ≤ count + maxError` (a dropped value counts 0), and
 * `maxError ≤ (n − Σ counters) / (k + 1)`.
 * While a column has at most `k` distinct values nothing is ever purged: counts are exact
 * (`maxError = 0`) and the number of counters is the exact distinct count.
 */
import type { SketchKey } from "./hash.js";

/** Counters kept (default). 1024 keeps every US airport, state or product code exact. */
export const FREQUENT_K = 1024;

export interface FrequentState {
  k: number;
  /** Total weight seen (rows with a value). */
  n: number;
  /** Largest amount by which any count may under-state the truth (0: counts are exact). */
  maxError: number;
  /** [value, count] pairs, largest count first. */
  items: Array<[SketchKey, number]>;
}

export class FrequentItems {
  readonly counts = new Map<SketchKey, number>();
  n = 0;
  maxError = 0;

  constructor(readonly k: number = FREQUENT_K) {}

  /** True while no counter was ever dropped: counts and the distinct count are exact. */
  get exact(): boolean {
    return this.maxError === 0;
  }

  add(key: SketchKey, weight = 1): void {
    this.n += weight;
    this.counts.set(key, (this.counts.get(key) ?? 0) + weight);
    if (this.counts.size > 2 * this.k) this.purge(this.k);
  }

  merge(other: FrequentItems): void {
    this.n += other.n;
    this.maxError += other.maxError;
    for (const [key, count] of other.counts) this.counts.set(key, (this.counts.get(key) ?? 0) + count);
    if (this.counts.size > 2 * this.k) this.purge(this.k);
  }

  /**
   * Adds a batch of exact counts (one chunk's), first reduced to its own k-counter summary: the
   * (k+1)-th largest count is subtracted from all and added to maxError — Misra-Gries' merge rule,
   * so the bound holds. A chunk of all-distinct values (counts of 1) then costs no map operation.
   */
  addBatch(keys: ArrayLike<SketchKey>, counts: ArrayLike<number>, size: number): void {
    const threshold = size > this.k ? kthLargestCount(counts, size, this.k + 1) : 0;
    let total = 0;
    for (let i = 0; i < size; i++) {
      const c = counts[i]!;
      total += c;
      if (c > threshold) this.counts.set(keys[i]!, (this.counts.get(keys[i]!) ?? 0) + c - threshold);
    }
    this.n += total;
    this.maxError += threshold;
    if (this.counts.size > 2 * this.k) this.purge(this.k);
  }

  /** Reduces to at most `keep` counters by subtracting the (keep+1)-th largest count from all. */
  purge(keep: number): void {
    if (this.counts.size <= keep) return;
    const values = Float64Array.from(this.counts.values());
    const threshold = kthLargest(values, keep + 1);
    for (const [key, count] of this.counts) {
      const left = count - threshold;
      if (left <= 0) this.counts.delete(key);
      else this.counts.set(key, left);
    }
    this.maxError += threshold;
  }

  /** The `limit` largest counters, largest first (ties by value, so output is deterministic). */
  top(limit = this.k): Array<[SketchKey, number]> {
    const items = [...this.counts.entries()];
    items.sort((a, b) => b[1] - a[1] || compareKeys(a[0], b[0]));
    return items.slice(0, limit);
  }

  toJSON(): FrequentState {
    this.purge(this.k);
    return { k: this.k, n: this.n, maxError: this.maxError, items: this.top() };
  }

  static fromJSON(state: FrequentState): FrequentItems {
    const f = new FrequentItems(state.k);
    f.n = state.n;
    f.maxError = state.maxError;
    for (const [key, count] of state.items) f.counts.set(key, count);
    return f;
  }
}

export function compareKeys(a: SketchKey, b: SketchKey): number {
  if (typeof a === typeof b) return a < b ? -1 : a > b ? 1 : 0;
  return typeof a < typeof b ? -1 : 1;
}

/**
 * The r-th largest of `counts[0..size)`. Counts of 1 dominate high-cardinality chunks (a float column:
 * every value once), so when at least r counts are ≥ 1 and fewer than r exceed 1 the answer is 1
 * without copying or selecting.
 */
function kthLargestCount(counts: ArrayLike<number>, size: number, r: number): number {
  let above = 0;
  let atLeastOne = 0;
  for (let i = 0; i < size; i++) {
    const c = counts[i]!;
    if (c > 1) above++;
    if (c >= 1) atLeastOne++;
  }
  if (above < r && atLeastOne >= r) return 1;
  const copy = new Float64Array(size);
  for (let i = 0; i < size; i++) copy[i] = counts[i]!;
  return kthLargest(copy, r);
}

/** Quickselect: the r-th largest (1-based) of `values`, which it reorders. */
function kthLargest(values: Float64Array, r: number): number {
  let lo = 0;
  let hi = values.length - 1;
  const target = r - 1;
  while (lo < hi) {
    const pivot = values[(lo + hi) >>> 1]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (values[i]! > pivot) i++;
      while (values[j]! < pivot) j--;
      if (i <= j) {
        const t = values[i]!;
        values[i] = values[j]!;
        values[j] = t;
        i++;
        j--;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else return values[target]!;
  }
  return values[target]!;
}
