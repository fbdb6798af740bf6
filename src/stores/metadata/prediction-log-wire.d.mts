import type { WireRequest } from "./prediction-log-rows.mjs";

/** A batch of requests in flat columns (see prediction-log-wire.mjs); structured-cloneable. */
export interface PackedRequests {
  count: number;
  meta: Float64Array;
  lengths: Int32Array;
  text: string;
  dict: string[];
  names: Array<readonly string[]>;
  values: Float64Array;
  numbers: Float64Array;
  labelLists: Array<ReadonlyArray<string | number>>;
  extras: unknown[] | null;
}

export declare function packRequests(requests: WireRequest[]): { packet: PackedRequests; transfer: ArrayBuffer[] };
export declare function unpackRequests(packet: PackedRequests): WireRequest[];
