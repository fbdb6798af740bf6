/**
 * Glossary (DESIGN.md's terms, defined once in code):
 * - Profile: the schema and per-column statistics of a table (one tabular file, or several merged).
 *   A `TableProfile` is plain JSON, stored as a blob, and mergeable: `mergeProfiles(p(A), p(B))`
 *   equals `p(A ∪ B)` exactly for counts, moments, distinct sketch and the kind/type decision, and
 *   within the sketches' error for quantiles, histograms and frequent values.
 * - Kind: how a column's values are stored (integer, float, bool, datetime, string; `null` when
 *   it holds no values at all). Decided from the file's schema where it has one (Parquet) and from
 *   the values otherwise (CSV text, JSON Lines).
 * - Type: what a column means for statistics, inferred from kind and distinct count exactly as the
 *   Data issue says: float → numeric; integer with ≤ 10 distinct values → categorical, else numeric;
 *   string with more distinct values than half its non-null values → text, else categorical;
 *   bool → categorical; timestamps and ISO-8601 strings → datetime.
 * - Missing: null/undefined, an empty CSV field or a CSV null token ("NA", "null", …), NaN and ±Infinity.
 */
import type { SketchKey } from "../sketches/hash.js";
import type { FrequentState } from "../sketches/frequent.js";
import type { HllState } from "../sketches/hll.js";
import type { KllState } from "../sketches/kll.js";
import type { MomentsState } from "../sketches/moments.js";

export const PROFILE_FORMAT = "tandem.profile/1";

export type ValueKind = "integer" | "float" | "bool" | "datetime" | "string";
export type ColumnKind = ValueKind | "null";
export type ColumnType = "numeric" | "categorical" | "text" | "datetime";

export const VALUE_KINDS: readonly ValueKind[] = ["integer", "float", "bool", "datetime", "string"];

/** Integer columns with at most this many distinct values are categorical (the rule). */
export const CATEGORICAL_INTEGER_MAX_DISTINCT = 10;
/** Bins of the stored histogram of numeric and datetime columns (default of `histogram()`). */
export const DEFAULT_HISTOGRAM_BINS = 20;
/** Frequent values listed in the readable part of a profile (the sketch keeps up to 1024). */
export const DISPLAY_FREQUENT = 20;

export interface Histogram {
  /** bins + 1 ascending edges; bin i is [edges[i], edges[i+1]) and the last bin includes its right edge. */
  edges: number[];
  counts: number[];
}

export interface ColumnSketches {
  /** How many non-missing values of each kind were seen; the column's kind is resolved from these. */
  valueKinds: Record<ValueKind, number>;
  /** Moments of the numeric values (integer, float, datetime as ms since the epoch). */
  moments: MomentsState;
  /** KLL over the numeric values. */
  quantiles: KllState;
  /** HyperLogLog over every value's canonical text. */
  distinct: HllState;
  /** Misra-Gries over every value. */
  frequent: FrequentState;
}

export interface ColumnProfile {
  name: string;
  kind: ColumnKind;
  type: ColumnType;
  /** Rows seen, missing included. */
  count: number;
  nullCount: number;
  /** Distinct non-missing values: exact while ≤ 1024 (then `distinctExact`), else HyperLogLog's estimate. */
  distinct: number;
  distinctExact: boolean;
  /** For numeric kinds (integer, float, datetime in ms); null otherwise. Variance is the population one (ddof 0). */
  mean: number | null;
  variance: number | null;
  std: number | null;
  min: number | null;
  max: number | null;
  /** p1 … p99 from the KLL sketch (numeric kinds only). */
  quantiles: Record<string, number> | null;
  /** Equal-width histogram derived from the KLL sketch (numeric kinds only). */
  histogram: Histogram | null;
  /** The most frequent values, largest count first; counts may under-state by `frequentMaxError`. */
  frequent: Array<{ value: SketchKey; count: number }>;
  frequentMaxError: number;
  sketches: ColumnSketches;
}

export interface TableProfile {
  format: typeof PROFILE_FORMAT;
  rowCount: number;
  columns: ColumnProfile[];
  /** The sketches' parameters and error bounds, so a reader can say how far to trust a number. */
  accuracy: {
    quantileRankError: number;
    distinctRelativeError: number;
    frequentCapacity: number;
  };
}

/** Resolves a column's kind from the kinds of values seen (mixed kinds fall back to string). */
export function resolveKind(valueKinds: Record<ValueKind, number>): ColumnKind {
  const seen = VALUE_KINDS.filter((k) => valueKinds[k] > 0);
  if (seen.length === 0) return "null";
  if (seen.length === 1) return seen[0]!;
  if (seen.length === 2 && seen.includes("integer") && seen.includes("float")) return "float";
  return "string";
}

/** The type rules. `values` is the number of non-missing values. */
export function inferType(kind: ColumnKind, distinct: number, values: number): ColumnType {
  switch (kind) {
    case "float":
      return "numeric";
    case "integer":
      return distinct <= CATEGORICAL_INTEGER_MAX_DISTINCT ? "categorical" : "numeric";
    case "string":
      return distinct > values / 2 ? "text" : "categorical";
    case "bool":
    case "null":
      return "categorical";
    case "datetime":
      return "datetime";
  }
}

export function isNumericKind(kind: ColumnKind): boolean {
  return kind === "integer" || kind === "float" || kind === "datetime";
}
