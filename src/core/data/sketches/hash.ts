/**
 * 32-bit hashing of sketch keys. Numbers hash by their float64 bits (murmur3_32 of 8 bytes), so a
 * number read from CSV text and the same number read from Parquet land in the same register, and no
 * number is ever formatted as text on the hot path; strings and booleans hash by their characters.
 */

/** murmur3's finaliser: spreads FNV's weak low bits over the whole word. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** FNV-1a over UTF-16 code units, finalised with murmur3's fmix32. Unsigned 32-bit. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return fmix32(h);
}

export type SketchKey = number | string | boolean;

/** The canonical text of a key: JS number formatting (1 and 1.0 agree), booleans as true/false. */
export function keyString(key: SketchKey): string {
  return typeof key === "string" ? key : String(key);
}

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

function mixBlock(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** murmur3_32 of the number's 8 little-endian bytes; -0 hashes as 0. */
export function hashNumber(x: number): number {
  f64[0] = x === 0 ? 0 : x;
  return hashNumberWords(u32[0]!, u32[1]!);
}

/** `hashNumber` of a float64 given as its two 32-bit words (a Uint32Array view of a Float64Array). */
export function hashNumberWords(lo: number, hi: number): number {
  if (lo === 0 && hi === 0x80000000) hi = 0; // -0 as 0
  let h = mixBlock(0x3c6ef372, lo);
  h = mixBlock(h, hi);
  return fmix32(h ^ 8);
}

export function hashKey(key: SketchKey): number {
  return typeof key === "number" ? hashNumber(key) : hashString(keyString(key));
}
