/**
 * Column kinds for drift checks, inferred with the Data area's rules (issue 4): float → numeric;
 * integer with ≤ 10 distinct values → categorical, else numeric; string with more distinct values than
 * half the rows → text (not drift-tested), else categorical; bool → categorical; Date values and
 * ISO-8601 strings → datetime (not drift-tested unless asked).
 */

export type ColumnType = "numeric" | "categorical" | "text" | "datetime";

/** A table by column name; each column is any array of values (typed arrays welcome for numbers). */
export type Table = Readonly<Record<string, ArrayLike<unknown>>>;

export type CategoryKey = string | number | boolean | bigint;

/** Integers with at most this many distinct values are categories (codes), not measurements. */
export const INTEGER_CATEGORY_MAX_DISTINCT = 10;

// Date, optional time with optional seconds/fraction and zone: 2024-05-01, 2024-05-01T12:00:00Z, 2024-05-01 12:00.
const ISO_DATETIME = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

/** Missing means null, undefined, NaN and ±inf — Evidently drops all of them before testing. */
export function isMissing(v: unknown): boolean {
  return v === null || v === undefined || (typeof v === "number" && !Number.isFinite(v));
}

const isFloatArray = (v: ArrayLike<unknown>): boolean => v instanceof Float64Array || v instanceof Float32Array;
const isIntArray = (v: ArrayLike<unknown>): boolean =>
  ArrayBuffer.isView(v) && !isFloatArray(v) && !(v instanceof DataView);

/** Infer a column's kind from its values (the reference's, normally). */
export function inferColumnType(values: ArrayLike<unknown>): ColumnType {
  if (isFloatArray(values)) return "numeric";
  let nonMissing = 0;
  let allNumbers = true;
  let allIntegers = true;
  let allBooleans = true;
  let allDates = true;
  let allStrings = true;
  let allIsoStrings = true;
  const distinct = new Set<unknown>();
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (isMissing(v)) continue;
    nonMissing++;
    const t = typeof v;
    if (t !== "number" && t !== "bigint") allNumbers = false;
    if (t === "number" && !Number.isInteger(v)) allIntegers = false;
    if (t !== "boolean") allBooleans = false;
    if (!(v instanceof Date)) allDates = false;
    if (t !== "string") allStrings = false;
    else if (allIsoStrings && !ISO_DATETIME.test(v as string)) allIsoStrings = false;
    // Distinct counts decide text vs categorical for strings and codes vs numbers for integers only.
    if (t === "string" || (allIntegers && distinct.size <= INTEGER_CATEGORY_MAX_DISTINCT)) distinct.add(v);
  }
  if (nonMissing === 0) return "categorical";
  if (allBooleans) return "categorical";
  if (allDates) return "datetime";
  if (allNumbers) {
    if (isIntArray(values) || allIntegers) {
      return distinct.size <= INTEGER_CATEGORY_MAX_DISTINCT ? "categorical" : "numeric";
    }
    return "numeric";
  }
  if (allStrings && allIsoStrings) return "datetime";
  if (allStrings && distinct.size > nonMissing / 2) return "text";
  return "categorical";
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
    return (n === out.length ? out : out.slice(0, n)).sort();
  }
  const out: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    const x = typeof v === "number" ? v : typeof v === "bigint" ? Number(v) : Number.NaN;
    if (Number.isFinite(x)) out.push(x);
  }
  return Float64Array.from(out).sort();
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
