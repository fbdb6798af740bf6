import type { OutputColumns } from "../../core/serving/output-rows.mjs";

/** One answered (or failed) request as it travels to the log writer: the rows' shared fields once. */
export interface WireRequest {
  project: string;
  endpoint: string;
  model: string;
  version: number;
  slot: string;
  requestId: string;
  at: number;
  latencyMs: number;
  error: string | null;
  /** One prediction id per row, or null where `idRun` stands for them. */
  ids: string[] | null;
  /** The ids as one run (ids[i] is `head` + `first + i` in 8 hex digits), or null. */
  idRun?: { head: string; first: number } | null;
  /** Rows (ids.length where the ids are given). */
  rows?: number;
  /** Feature names in column order (with `values`), or null when `featureJson` carries the features. */
  names: readonly string[] | null;
  /** rows × names.length values; NaN where the value is not a plain number (then it is in `others`). */
  values: Float64Array | null;
  /** `[index, value, index, value, …]` for the NaN-marked values, or null. */
  others: unknown[] | null;
  /** Each row's features as JSON text (models whose runner gives records), or null. */
  featureJson: string[] | null;
  /**
   * The outputs as one JSON array text, one element per row, or the numbers that text is made from
   * (output-rows.mjs); null for a failed request.
   */
  outputs: string | OutputColumns | null;
}

/** A request's row count: its ids, or its id run's length. */
export declare function rowCount(request: WireRequest): number;

export declare function featureTexts(request: WireRequest): string[];
export declare function outputTexts(request: WireRequest): Array<string | null>;
export declare function arrayElementTexts(text: string, count: number): Array<string | null>;
export declare function copyValue(value: unknown): string;

/** The columns of prediction_batches, in the order batchesOf() gives each batch's values. */
export declare const BATCH_COLUMNS: readonly string[];
export declare function idKey(id: string): [head: string, first: number];
export declare function idAt(head: string, first: number, index: number): string;
export declare function idRuns(
  ids: readonly string[],
): Array<{ start: number; end: number; head: string; first: number }>;
export declare function valuesBlob(values: Float64Array): Buffer;
export declare function blobValues(blob: Uint8Array): Float64Array;
/** One request's batches: each its BATCH_COLUMNS values (feature_values a Float64Array or null). */
export declare function batchesOf(request: WireRequest): unknown[][];
export declare function copyLine(batch: unknown[]): string;
export declare function copyChunks(requests: WireRequest[], chunkChars?: number): Generator<string>;

/** A prediction_batches row as read (the columns the readers select). */
export interface StoredBatchRow {
  id_head: string;
  id_first: number | string;
  rows: number | string;
  feature_names: string | null;
  feature_values: Uint8Array | null;
  feature_others: string | null;
  features: string | null;
  outputs: string | null;
}

/** A stored batch's rows as the per-row layout stored them. */
export declare class StoredBatch<R extends StoredBatchRow = StoredBatchRow> {
  constructor(row: R);
  readonly row: R;
  readonly rows: number;
  /** Row `index`'s prediction id. */
  id(index: number): string;
  /** Row `index`'s features as JSON text. */
  featureText(index: number): string;
  /** Row `index`'s output as JSON text, or null. */
  outputText(index: number): string | null;
}
