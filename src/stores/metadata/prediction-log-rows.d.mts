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
  /** One prediction id per row. */
  ids: string[];
  /** Feature names in column order (with `values`), or null when `featureJson` carries the features. */
  names: readonly string[] | null;
  /** rows × names.length values; NaN where the value is not a plain number (then it is in `others`). */
  values: Float64Array | null;
  /** `[index, value, index, value, …]` for the NaN-marked values, or null. */
  others: unknown[] | null;
  /** Each row's features as JSON text (models whose runner gives records), or null. */
  featureJson: string[] | null;
  /** The outputs as one JSON array text, one element per row; null for a failed request. */
  outputs: string | null;
}

export declare function featureTexts(request: WireRequest): string[];
export declare function outputTexts(request: WireRequest): Array<string | null>;
export declare const PREDICTION_COLUMNS: readonly string[];
export declare function forEachRow(request: WireRequest, row: (values: unknown[]) => void): void;
export declare function copyValue(value: unknown): string;
export declare function arrayElementTexts(text: string, count: number): Array<string | null>;
export declare function copyLines(request: WireRequest): string;
export declare function copyChunks(requests: WireRequest[], chunkChars?: number): Generator<string>;
