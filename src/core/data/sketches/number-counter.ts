/**
 * Exact value → count for numbers within one chunk: an open-addressing table over typed arrays.
 * A JS Map boxes every non-small-integer key (timestamps in ms, floats) as a heap object, which on
 * flights-3m's `date` column cost ~100 ms per 272 k-row chunk plus the garbage; this table costs
 * ~15 ns per value and no garbage. number-tally.ts uses it for chunks whose values repeat.
 */
import { hashNumber } from "./hash.js";
import type { NumberTally } from "./number-tally.js";
import { sortNumbers } from "./sort-numbers.js";

export class NumberCounter {
  private keys: Float64Array;
  private counts: Uint32Array;
  private hashes: Uint32Array;
  private used: Uint8Array;
  private mask: number;
  size = 0;

  constructor(initialCapacity = 1024) {
    let cap = 16;
    while (cap < initialCapacity * 2) cap *= 2;
    this.keys = new Float64Array(cap);
    this.counts = new Uint32Array(cap);
    this.hashes = new Uint32Array(cap);
    this.used = new Uint8Array(cap);
    this.mask = cap - 1;
  }

  add(x: number, count = 1): void {
    const key = x === 0 ? 0 : x;
    const h = hashNumber(key);
    let i = h & this.mask;
    while (this.used[i] === 1) {
      if (this.keys[i] === key) {
        this.counts[i]! += count;
        return;
      }
      i = (i + 1) & this.mask;
    }
    this.used[i] = 1;
    this.keys[i] = key;
    this.hashes[i] = h;
    this.counts[i] = count;
    if (++this.size * 2 > this.mask) this.grow();
  }

  /** The distinct values ascending, each with its count. */
  sortedTally(): NumberTally {
    const keys = new Float64Array(this.size);
    let j = 0;
    for (let i = 0; i <= this.mask; i++) if (this.used[i] === 1) keys[j++] = this.keys[i]!;
    const values = sortNumbers(keys, j);
    const counts = new Float64Array(j);
    for (let k = 0; k < j; k++) counts[k] = this.countOf(values[k]!);
    return { values, counts, size: j };
  }

  /** How many times `x` was added (0 if never). */
  countOf(x: number): number {
    const key = x === 0 ? 0 : x;
    let i = hashNumber(key) & this.mask;
    while (this.used[i] === 1) {
      if (this.keys[i] === key) return this.counts[i]!;
      i = (i + 1) & this.mask;
    }
    return 0;
  }

  /** Calls `fn(value, count, hash)` for each distinct value. */
  forEach(fn: (value: number, count: number, hash: number) => void): void {
    for (let i = 0; i <= this.mask; i++) if (this.used[i] === 1) fn(this.keys[i]!, this.counts[i]!, this.hashes[i]!);
  }

  private grow(): void {
    const { keys, counts, hashes, used } = this;
    const cap = (this.mask + 1) * 2;
    this.keys = new Float64Array(cap);
    this.counts = new Uint32Array(cap);
    this.hashes = new Uint32Array(cap);
    this.used = new Uint8Array(cap);
    this.mask = cap - 1;
    for (let j = 0; j < used.length; j++) {
      if (used[j] !== 1) continue;
      let i = hashes[j]! & this.mask;
      while (this.used[i] === 1) i = (i + 1) & this.mask;
      this.used[i] = 1;
      this.keys[i] = keys[j]!;
      this.hashes[i] = hashes[j]!;
      this.counts[i] = counts[j]!;
    }
  }
}
