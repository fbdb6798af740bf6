/**
 * Doubles gathered from a stream of DuckDB chunks (2048 rows each) into one Float64Array. Copying
 * every chunk's doubles into a chunk-sized array and joining them at the end allocated each column
 * twice and ~10 000 small arrays per 1 M-row file (bench/drift: ~1 s of the main thread's CPU in
 * copies and GC, load 12). Here each chunk is copied once, straight into a buffer sized from the
 * caller's estimate of the row count, which grows by doubling when the estimate is short. Pages the
 * estimate over-reserves are never touched, so they cost no memory.
 */
/** The most rows an estimate reserves up front (64 MiB of doubles per column); past it, doubling. */
const MAX_RESERVED_ROWS = 1 << 23;

type Values = Float64Array | Int32Array;

/** Values of one typed-array type (doubles, or csv-scan.ts's INTEGER label codes) gathered from chunks. */
class ChunkBuffer<T extends Values> {
  private values: T;
  private length = 0;

  constructor(
    private readonly make: (length: number) => T,
    expectedRows: number,
  ) {
    this.values = make(Math.min(MAX_RESERVED_ROWS, Math.max(2048, Math.ceil(expectedRows))));
  }

  /** Append `source`'s first `n` values. */
  push(source: T, n: number): void {
    if (this.length + n > this.values.length) {
      const grown = this.make(Math.max(this.values.length * 2, this.length + n));
      grown.set(this.values.subarray(0, this.length));
      this.values = grown;
    }
    this.values.set(n === source.length ? source : source.subarray(0, n), this.length);
    this.length += n;
  }

  /** The values pushed, as a view (no copy) of the buffer. */
  finish(): T {
    return this.values.subarray(0, this.length) as T;
  }
}

export class NumberBuffer extends ChunkBuffer<Float64Array> {
  constructor(expectedRows: number) {
    super((length) => new Float64Array(length), expectedRows);
  }
}

export class CodeBuffer extends ChunkBuffer<Int32Array> {
  constructor(expectedRows: number) {
    super((length) => new Int32Array(length), expectedRows);
  }
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * Whether a DuckDB validity mask (64-bit words, bit set = valid; null when every value is valid)
 * marks any of the first `n` values NULL. Read as 32-bit words: comparing BigInt words cost more
 * than the test itself.
 */
export function anyInvalid(words: BigUint64Array | null, n: number): boolean {
  if (!words) return false;
  if (!LITTLE_ENDIAN) {
    for (let i = 0; i < n; i++) if (((words[i >>> 6]! >> BigInt(i & 63)) & 1n) === 0n) return true;
    return false;
  }
  const halves = new Uint32Array(words.buffer, words.byteOffset, words.length * 2);
  const full = n >>> 5;
  for (let w = 0; w < full; w++) if (halves[w] !== 0xffff_ffff) return true;
  const rest = n & 31;
  if (rest === 0) return false;
  const tail = 0xffff_ffff >>> (32 - rest);
  return (halves[full]! & tail) >>> 0 !== tail;
}
