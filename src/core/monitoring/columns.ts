/**
 * Column kinds for drift checks, inferred with the Data area's rules (issue 4): float → numeric;
 * integer with ≤ 10 distinct values → categorical, else numeric; string with more distinct values than
 * half the rows → text (not drift-tested), else categorical; bool → categorical; Date values and
 * ISO-8601 strings → datetime (not drift-tested unless asked).
 */

import {
  CATEGORICAL_INTEGER_MAX_DISTINCT,
  inferType,
  resolveKind,
  type ColumnType,
  type ValueKind,
} from "../data/profile/model.js";
import { parseIsoDatetime } from "../data/profile/values.js";
import { sortFloat64 } from "./stats/sort.js";

export type { ColumnType };

/** A table by column name; each column is any array of values (typed arrays welcome for numbers). */
export type Table = Readonly<Record<string, ArrayLike<unknown>>>;

export type CategoryKey = string | number | boolean | bigint;

/** Integers with at most this many distinct values are categories (codes), not measurements. */
export const INTEGER_CATEGORY_MAX_DISTINCT = CATEGORICAL_INTEGER_MAX_DISTINCT;

/** Missing means null, undefined, NaN and ±inf — Evidently drops all of them before testing. */
export function isMissing(v: unknown): boolean {
  return v === null || v === undefined || (typeof v === "number" && !Number.isFinite(v));
}

const isFloatArray = (v: ArrayLike<unknown>): boolean => v instanceof Float64Array || v instanceof Float32Array;
const isIntArray = (v: ArrayLike<unknown>): boolean =>
  ArrayBuffer.isView(v) && !isFloatArray(v) && !(v instanceof DataView);

/**
 * Infer a column's kind from its values (the reference's, normally), classifying values as the Data
 * area's profiles do for typed sources (JSON Lines, in-memory arrays) and applying its own
 * resolveKind + inferType, so a column reads the same here and in `tandem data show`. A Float64Array or
 * Float32Array counts as a declared float column, as a Parquet DOUBLE does.
 */
export function inferColumnType(values: ArrayLike<unknown>): ColumnType {
  if (isFloatArray(values)) return "numeric";
  const kinds: Record<ValueKind, number> = { integer: 0, float: 0, bool: 0, datetime: 0, string: 0 };
  const strings = new Set<string>();
  const integers = new Set<number>();
  let nonMissing = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (isMissing(v)) continue;
    nonMissing++;
    if (typeof v === "number" || typeof v === "bigint") {
      const x = Number(v);
      if (Number.isInteger(x)) {
        kinds.integer++;
        // Only "more than 10 distinct" matters for integers: stop collecting past that.
        if (integers.size <= INTEGER_CATEGORY_MAX_DISTINCT) integers.add(x);
      } else kinds.float++;
    } else if (typeof v === "boolean") kinds.bool++;
    else if (v instanceof Date) kinds.datetime++;
    else if (typeof v === "string") {
      if (parseIsoDatetime(v) !== null) kinds.datetime++;
      else kinds.string++;
      strings.add(v);
    } else {
      kinds.string++;
      strings.add(JSON.stringify(v));
    }
  }
  const kind = resolveKind(kinds);
  let distinct = kind === "integer" ? integers.size : strings.size;
  if (kind === "string" && kinds.string + kinds.datetime !== nonMissing) {
    // Mixed kinds fall back to strings: count distinct over every value's text.
    const all = new Set<string>();
    for (let i = 0; i < values.length; i++) if (!isMissing(values[i])) all.add(String(values[i]));
    distinct = all.size;
  }
  return inferType(kind, distinct, nonMissing);
}

/** Finite numbers of a column, sorted ascending (non-numeric values count as missing). */
export function numericSorted(values: ArrayLike<unknown>): Float64Array {
  if (isFloatArray(values) || isIntArray(values)) {
    const src = values as ArrayLike<number>;
    let n = 0;
    const out = new Float64Array(src.length);
    for (let i = 0; i < src.length; i++) {
      const v = Number(src[i]);
      if (Number.isFinite(v)) out[n++] = v;
    }
    return sortFloat64(n === out.length ? out : out.slice(0, n));
  }
  const out: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    const x = typeof v === "number" ? v : typeof v === "bigint" ? Number(v) : Number.NaN;
    if (Number.isFinite(x)) out.push(x);
  }
  return sortFloat64(Float64Array.from(out));
}

/** Category key of a value, or undefined when missing. Dates count by their instant. */
export function categoryKey(v: unknown): CategoryKey | undefined {
  if (isMissing(v)) return undefined;
  const t = typeof v;
  if (t === "string" || t === "number" || t === "boolean" || t === "bigint") return v as CategoryKey;
  return v instanceof Date ? v.getTime() : JSON.stringify(v);
}

/** Counts per value in reference and current over the union of their non-missing values. */
export function categoryCounts(
  reference: ArrayLike<unknown>,
  current: ArrayLike<unknown>,
): { keys: CategoryKey[]; ref: Float64Array; cur: Float64Array; nRef: number; nCur: number } {
  const index = new Map<CategoryKey, number>();
  const refCounts: number[] = [];
  const curCounts: number[] = [];
  const count = (values: ArrayLike<unknown>, own: number[], other: number[]): number => {
    let n = 0;
    for (let i = 0; i < values.length; i++) {
      const k = categoryKey(values[i]);
      if (k === undefined) continue;
      n++;
      let at = index.get(k);
      if (at === undefined) {
        at = own.length;
        index.set(k, at);
        own.push(0);
        other.push(0);
      }
      own[at]!++;
    }
    return n;
  };
  const nRef = count(reference, refCounts, curCounts);
  const nCur = count(current, curCounts, refCounts);
  return {
    keys: [...index.keys()],
    ref: Float64Array.from(refCounts),
    cur: Float64Array.from(curCounts),
    nRef,
    nCur,
  };
}
