/**
 * The in-memory meaning of a parsed filter and order_by. The SQL compiler in the tracking store must
 * give the same answers; a differential test holds the two together on SQLite and Postgres.
 *
 * Semantics (the contract both sides follow):
 * - A clause on a metric, param or tag the run lacks is false, whatever the operator (as in MLflow).
 *   The same holds for `end_time` of a run that has not ended.
 * - Metrics compare their latest value (highest step, then timestamp, then value). NaN only
 *   satisfies `!=`, as IEEE comparison says.
 * - Strings compare exactly, by code point; LIKE/ILIKE as in `like.ts`.
 * - Ordering: present values in the requested direction, then NaN, then missing, in both directions;
 *   ties fall back to start_time descending (unless ordered by it), then run_id ascending.
 */
import { assertNever } from "../../errors.js";
import type { Attribute, Clause, NumericOp, OrderBy, StringOp } from "./ast.js";
import { likeMatches } from "./like.js";

/** What the filter language can see of a run. */
export interface SearchableRun {
  runId: string;
  runName: string;
  status: string;
  userId: string;
  artifactUri: string;
  startTime: number;
  endTime: number | null;
  /** Latest value of each metric. */
  metrics: Record<string, number>;
  params: Record<string, string>;
  tags: Record<string, string>;
}

export function compareNumbers(lhs: number, op: NumericOp, rhs: number): boolean {
  switch (op) {
    case "=":
      return lhs === rhs;
    case "!=":
      return lhs !== rhs;
    case ">":
      return lhs > rhs;
    case ">=":
      return lhs >= rhs;
    case "<":
      return lhs < rhs;
    case "<=":
      return lhs <= rhs;
    default:
      return assertNever(op, "operator");
  }
}

export function compareStrings(lhs: string, op: StringOp, rhs: string): boolean {
  switch (op) {
    case "=":
      return lhs === rhs;
    case "!=":
      return lhs !== rhs;
    case "LIKE":
      return likeMatches(lhs, rhs, false);
    case "ILIKE":
      return likeMatches(lhs, rhs, true);
    default:
      return assertNever(op, "operator");
  }
}

function own<T>(record: Record<string, T>, key: string): T | undefined {
  return Object.prototype.hasOwnProperty.call(record, key) ? record[key] : undefined;
}

export function attributeOf(run: SearchableRun, key: Attribute): string | number | null {
  switch (key) {
    case "run_id":
      return run.runId;
    case "run_name":
      return run.runName;
    case "status":
      return run.status;
    case "user_id":
      return run.userId;
    case "artifact_uri":
      return run.artifactUri;
    case "start_time":
      return run.startTime;
    case "end_time":
      return run.endTime;
    default:
      return assertNever(key, "attribute");
  }
}

export function matchesClause(run: SearchableRun, clause: Clause): boolean {
  switch (clause.type) {
    case "metric": {
      const v = own(run.metrics, clause.key);
      return v !== undefined && compareNumbers(v, clause.op, clause.value);
    }
    case "param":
    case "tag": {
      const v = own(clause.type === "param" ? run.params : run.tags, clause.key);
      return v !== undefined && compareStrings(v, clause.op, clause.value);
    }
    case "string_attribute":
      return compareStrings(attributeOf(run, clause.key) as string, clause.op, clause.value);
    case "list_attribute": {
      const inList = clause.value.includes(attributeOf(run, clause.key) as string);
      return clause.op === "IN" ? inList : !inList;
    }
    case "numeric_attribute": {
      const v = attributeOf(run, clause.key);
      return v !== null && compareNumbers(v as number, clause.op, clause.value);
    }
    default:
      return assertNever(clause, "clause");
  }
}

export function matchesFilter(run: SearchableRun, clauses: readonly Clause[]): boolean {
  return clauses.every((c) => matchesClause(run, c));
}

/** Code point order, which is what SQLite's BINARY and Postgres' "C" collation give for UTF-8 text. */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(i)!;
    if (x !== y) return x < y ? -1 : 1;
    if (x > 0xffff) i++;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

function sortValue(run: SearchableRun, o: OrderBy): string | number | null | undefined {
  switch (o.type) {
    case "metric":
      return own(run.metrics, o.key);
    case "param":
      return own(run.params, o.key);
    case "tag":
      return own(run.tags, o.key);
    case "attribute":
      return attributeOf(run, o.key);
    default:
      return assertNever(o, "order key");
  }
}

/** 0 present, 1 NaN, 2 missing: this rank sorts ascending whatever the direction. */
function rank(v: string | number | null | undefined): number {
  if (v === null || v === undefined) return 2;
  return typeof v === "number" && Number.isNaN(v) ? 1 : 0;
}

export function compareRuns(a: SearchableRun, b: SearchableRun, orderBy: readonly OrderBy[]): number {
  for (const o of orderBy) {
    const va = sortValue(a, o);
    const vb = sortValue(b, o);
    const ra = rank(va);
    const rb = rank(vb);
    if (ra !== rb) return ra - rb;
    if (ra !== 0) continue;
    const c =
      typeof va === "number"
        ? va < (vb as number)
          ? -1
          : va > (vb as number)
            ? 1
            : 0
        : compareCodePoints(va as string, vb as string);
    if (c !== 0) return o.ascending ? c : -c;
  }
  if (!orderBy.some((o) => o.type === "attribute" && o.key === "start_time") && a.startTime !== b.startTime) {
    return b.startTime - a.startTime;
  }
  return compareCodePoints(a.runId, b.runId);
}

/** Filters and sorts runs the way runs/search does (before paging). */
export function searchInMemory(
  runs: readonly SearchableRun[],
  clauses: readonly Clause[],
  orderBy: readonly OrderBy[],
): SearchableRun[] {
  return runs.filter((r) => matchesFilter(r, clauses)).sort((a, b) => compareRuns(a, b, orderBy));
}
