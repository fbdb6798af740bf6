/**
 * The one pass over a chunk's values: numbers (and Dates, as ms) are copied densely into a buffer,
 * strings and other keys are counted per distinct value, and each kind is tallied. A typed numeric
 * array (what Parquet readers and benchmarks hand over) takes its own loop: every element is a
 * number, so no type test per value, and each loop's element access stays monomorphic.
 */
import type { SketchKey } from "../sketches/hash.js";

export interface ChunkScan {
  /** Numbers and bigints copied into the buffer (followed there by the `dates`). */
  numbers: number;
  /** Of `numbers`, those holding an integer. */
  ints: number;
  dates: number;
  bools: number;
  /** Nested values (JSON objects, lists, binary), counted as their text. */
  others: number;
  /** null/undefined, NaN, ±Infinity and invalid Dates. */
  missing: number;
}

type NumberArray =
  | Float64Array
  | Float32Array
  | Int32Array
  | Uint32Array
  | Int16Array
  | Uint16Array
  | Int8Array
  | Uint8Array
  | Uint8ClampedArray;

/** A typed array whose elements are numbers (not bigints). */
export function isNumberArray(values: ArrayLike<unknown>): values is NumberArray {
  return (
    ArrayBuffer.isView(values) &&
    !(values instanceof DataView) &&
    !(values instanceof BigInt64Array) &&
    !(values instanceof BigUint64Array)
  );
}

export function scanNumbers(values: NumberArray, start: number, end: number, buf: Float64Array): ChunkScan {
  let n = 0;
  let ints = 0;
  let missing = 0;
  for (let i = start; i < end; i++) {
    const v = values[i]!;
    if (v - v !== 0) {
      missing++; // NaN or ±Infinity
      continue;
    }
    buf[n++] = v;
    if (Number.isInteger(v)) ints++;
  }
  return { numbers: n, ints, dates: 0, bools: 0, others: 0, missing };
}

/** Any values; strings go to `strings` and booleans and nested values to `counts`, each with its count. */
export function scanValues(
  values: ArrayLike<unknown>,
  start: number,
  end: number,
  buf: Float64Array,
  strings: Map<string, number>,
  counts: Map<SketchKey, number>,
): ChunkScan {
  let n = 0;
  let numbers = 0;
  let ints = 0;
  let dates = 0;
  let bools = 0;
  let others = 0;
  let missing = 0;
  for (let i = start; i < end; i++) {
    const v = values[i];
    if (v === null || v === undefined) {
      missing++;
    } else if (typeof v === "number") {
      if (v - v !== 0) {
        missing++; // NaN or ±Infinity
        continue;
      }
      numbers++;
      if (Number.isInteger(v)) ints++;
      buf[n++] = v;
    } else if (typeof v === "bigint") {
      numbers++;
      ints++;
      buf[n++] = Number(v);
    } else if (typeof v === "string") {
      strings.set(v, (strings.get(v) ?? 0) + 1);
    } else if (typeof v === "boolean") {
      bools++;
      counts.set(v, (counts.get(v) ?? 0) + 1);
    } else if (v instanceof Date) {
      const t = v.getTime();
      if (Number.isNaN(t)) {
        missing++;
        continue;
      }
      dates++;
      buf[n++] = t;
    } else {
      // Nested values (JSON objects, lists, Parquet structs) are profiled as their JSON text.
      const s = v instanceof Uint8Array ? Buffer.from(v).toString("base64") : stringify(v);
      others++;
      counts.set(s, (counts.get(s) ?? 0) + 1);
    }
  }
  return { numbers, ints, dates, bools, others, missing };
}

function stringify(v: unknown): string {
  try {
    return JSON.stringify(v, (_k, x: unknown) => (typeof x === "bigint" ? Number(x) : x)) ?? String(v);
  } catch {
    return String(v);
  }
}
