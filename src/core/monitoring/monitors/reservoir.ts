/**
 * Uniform sampling of a stream whose length is not known in advance (reservoir sampling, Vitter's
 * Algorithm R): after n items, each of them is in the sample with probability capacity/n. A window
 * of traffic over the row cap is checked on such a sample instead of on its oldest rows, so the
 * newest traffic (where drift shows first) is never the part left out.
 *
 * The random numbers come from a seeded generator (mulberry32), seeded by the window, so checking
 * the same window twice reads the same sample.
 */
import { createHash } from "node:crypto";

/** A 32-bit seed from any text (the window's project, endpoint and bounds). */
export function seedOf(text: string): number {
  return createHash("sha256").update(text).digest().readUInt32LE(0);
}

/** mulberry32: a small, fast, well-distributed 32-bit generator; returns floats in [0, 1). */
function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Reservoir<T> {
  private readonly items: T[] = [];
  private readonly random: () => number;
  /** Items offered so far. */
  seen = 0;

  constructor(
    readonly capacity: number,
    seed: number,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`reservoir capacity must be ≥ 1, got ${capacity}`);
    this.random = generator(seed);
  }

  offer(item: T): void {
    this.seen++;
    if (this.items.length < this.capacity) {
      this.items.push(item);
      return;
    }
    const j = Math.floor(this.random() * this.seen);
    if (j < this.capacity) this.items[j] = item;
  }

  /** The sample (every item, while no more than `capacity` were offered). */
  sample(): T[] {
    return this.items;
  }

  get sampled(): boolean {
    return this.seen > this.capacity;
  }
}
