/**
 * Keyset page tokens for runs/search: a token carries the sort key of the last run of its page, and
 * the next page is the runs that sort after it. Unlike an offset, this holds while runs are created
 * or deleted between pages (an offset shifts: a run created at the head repeats the last run of the
 * previous page, a deleted one skips a run) and a deep page costs what the first one does.
 *
 * The key is every term of the search's ORDER BY, in the store's order (tracking-search-sql.ts builds
 * the same list): for each order_by entry a rank (present 0, NaN 1 for metrics, missing last) and the
 * value, then start_time (unless ordered by already) and run_id, which makes every key unique.
 */
import { createHash } from "node:crypto";
import { InvalidInputError } from "../errors.js";
import type { Attribute, Clause, OrderBy } from "./filter/ast.js";
import type { Run, RunInfo, ViewType } from "./model.js";

export type SortKeyValue = string | number | null;

const ATTRIBUTE_OF: Record<Attribute, (info: RunInfo) => string | number | null> = {
  run_id: (i) => i.runId,
  run_name: (i) => i.runName,
  status: (i) => i.status,
  user_id: (i) => i.userId,
  artifact_uri: (i) => i.artifactUri,
  start_time: (i) => i.startTime,
  end_time: (i) => i.endTime,
};

/** The run's sort key under `orderBy`, term by term as the store orders runs. */
export function runSortKey(run: Run, orderBy: OrderBy[]): SortKeyValue[] {
  const key: SortKeyValue[] = [];
  for (const o of orderBy) {
    if (o.type === "attribute") {
      const v = ATTRIBUTE_OF[o.key](run.info);
      key.push(v === null ? 1 : 0, v);
    } else if (o.type === "metric") {
      const m = run.metrics.find((p) => p.key === o.key);
      if (!m) key.push(2, null);
      else if (Number.isNaN(m.value)) key.push(1, null);
      else key.push(0, m.value);
    } else {
      const v = (o.type === "param" ? run.params : run.tags)[o.key];
      key.push(v === undefined ? 1 : 0, v ?? null);
    }
  }
  if (!orderBy.some((o) => o.type === "attribute" && o.key === "start_time")) key.push(run.info.startTime);
  key.push(run.info.runId);
  return key;
}

export interface RunSearchShape {
  project: string;
  experimentIds: string[];
  clauses: Clause[];
  orderBy: OrderBy[];
  viewType: ViewType;
}

/** Which search a token belongs to: a token is refused by any other search (its key means nothing there). */
function shapeHash(shape: RunSearchShape): string {
  return createHash("sha256").update(JSON.stringify(shape)).digest("base64url").slice(0, 16);
}

/** JSON has no Infinity: ±Infinity metric values travel as {"n": "Infinity"}. */
function encodeValue(v: SortKeyValue): unknown {
  return typeof v === "number" && !Number.isFinite(v) ? { n: String(v) } : v;
}

function decodeValue(v: unknown): SortKeyValue {
  if (v === null || typeof v === "string" || typeof v === "number") return v;
  const n = (v as { n?: unknown } | null)?.n;
  if (n === "Infinity" || n === "-Infinity") return Number(n);
  throw new InvalidInputError("Invalid page token: it was not made by this server");
}

export function encodeRunPageToken(shape: RunSearchShape, after: SortKeyValue[]): string {
  return Buffer.from(JSON.stringify({ after: after.map(encodeValue), search: shapeHash(shape) }), "utf8").toString(
    "base64",
  );
}

/**
 * The sort key a token carries, or null for a token without one (an offset token of an older
 * server: decodePageToken reads those).
 */
export function decodeRunPageToken(token: string | undefined, shape: RunSearchShape): SortKeyValue[] | null {
  if (!token) return null;
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(token, "base64").toString("utf8"));
  } catch {
    throw new InvalidInputError("Invalid page token: it was not made by this server");
  }
  if (typeof decoded !== "object" || decoded === null || !("after" in decoded)) return null;
  const parsed = decoded as { after: unknown; search?: unknown };
  if (!Array.isArray(parsed.after)) throw new InvalidInputError("Invalid page token: it was not made by this server");
  if (parsed.search !== shapeHash(shape))
    throw new InvalidInputError(
      "Invalid page token: it belongs to a different search (experiment_ids, filter, order_by and run_view_type must stay the same between pages)",
    );
  const after = parsed.after.map(decodeValue);
  if (after.length !== runSortKeyLength(shape.orderBy))
    throw new InvalidInputError("Invalid page token: it was not made by this server");
  return after;
}

export function runSortKeyLength(orderBy: OrderBy[]): number {
  return orderBy.length * 2 + (orderBy.some((o) => o.type === "attribute" && o.key === "start_time") ? 1 : 2);
}
