/**
 * Compiles a parsed run search (filter clauses + order_by) to one SQL query for SQLite or Postgres.
 * Values and keys only ever reach SQL as bound parameters; the only SQL text built here comes from
 * fixed fragments chosen by the clause type. The meaning is the in-memory evaluator's
 * (core/tracking/filter/evaluate.ts); a differential test holds them together.
 */
import { sql, type RawBuilder } from "kysely";
import { assertNever, InvalidInputError } from "../../core/errors.js";
import type { Attribute, Clause, NumericOp, OrderBy, StringOp } from "../../core/tracking/filter/ast.js";
import { toGlob, toSqlLike } from "../../core/tracking/filter/like.js";
import type { RunSearchQuery } from "../../core/tracking/ports.js";
import type { SortKeyValue } from "../../core/tracking/run-keyset.js";

type Dialect = "sqlite" | "postgres";

const COLUMN: Record<Attribute, string> = {
  run_id: "run_id",
  run_name: "run_name",
  status: "status",
  user_id: "user_id",
  artifact_uri: "artifact_uri",
  start_time: "start_time",
  end_time: "end_time",
};

function numericOp(op: NumericOp): RawBuilder<unknown> {
  switch (op) {
    case "=":
      return sql.raw("=");
    case "!=":
      return sql.raw("<>");
    case ">":
      return sql.raw(">");
    case ">=":
      return sql.raw(">=");
    case "<":
      return sql.raw("<");
    case "<=":
      return sql.raw("<=");
    default:
      return assertNever(op, "operator");
  }
}

/** `column op value` for strings with the shared LIKE meaning (see like.ts). */
function stringCompare(
  column: RawBuilder<unknown>,
  op: StringOp,
  value: string,
  dialect: Dialect,
): RawBuilder<unknown> {
  switch (op) {
    case "=":
      return sql`${column} = ${value}`;
    case "!=":
      return sql`${column} <> ${value}`;
    case "LIKE":
      // SQLite's LIKE ignores ASCII case; its GLOB does not.
      return dialect === "sqlite"
        ? sql`${column} GLOB ${toGlob(value)}`
        : sql`${column} LIKE ${toSqlLike(value)} ESCAPE '\\'`;
    case "ILIKE":
      return dialect === "sqlite"
        ? sql`${column} LIKE ${toSqlLike(value)} ESCAPE '\\'`
        : sql`${column} ILIKE ${toSqlLike(value)} ESCAPE '\\'`;
    default:
      return assertNever(op, "operator");
  }
}

function metricCompare(op: NumericOp, value: number): RawBuilder<unknown> {
  // NaN (is_nan = 1) satisfies only `!=`, as IEEE comparison does in the evaluator.
  if (op === "!=") return sql`(m.is_nan = 1 OR m.value <> ${value})`;
  return sql`(m.is_nan = 0 AND m.value ${numericOp(op)} ${value})`;
}

/**
 * Postgres indexes params and tags on (key, left(value, 200)) (migration 0303: a B-tree entry cannot
 * hold a 6 000-character value). An equality also states the prefix equality it implies, in the
 * index's own words, so the planner can find the rows through that index.
 */
const INDEXED_VALUE_PREFIX = 200;

function keyValueMatch(alias: "p" | "t", c: Clause & { type: "param" | "tag" }, dialect: Dialect) {
  const value = sql.ref(`${alias}.value`);
  const exact = stringCompare(value, c.op, c.value, dialect);
  if (dialect !== "postgres" || c.op !== "=") return exact;
  const n = sql.lit(INDEXED_VALUE_PREFIX);
  return sql`left(${value}, ${n}) = left(${c.value}, ${n}) AND ${exact}`;
}

function clauseSql(c: Clause, dialect: Dialect): RawBuilder<unknown> {
  switch (c.type) {
    case "metric":
      return sql`EXISTS (SELECT 1 FROM tracking_latest_metrics m WHERE m.run_id = r.run_id AND m.key = ${c.key} AND ${metricCompare(c.op, c.value)})`;
    case "param":
      return sql`EXISTS (SELECT 1 FROM tracking_params p WHERE p.run_id = r.run_id AND p.key = ${c.key} AND ${keyValueMatch("p", c, dialect)})`;
    case "tag":
      return sql`EXISTS (SELECT 1 FROM tracking_tags t WHERE t.run_id = r.run_id AND t.key = ${c.key} AND ${keyValueMatch("t", c, dialect)})`;
    case "string_attribute":
      return stringCompare(sql.ref(`r.${COLUMN[c.key]}`), c.op, c.value, dialect);
    case "list_attribute": {
      const list = sql.join(c.value.map((v) => sql`${v}`));
      return c.op === "IN"
        ? sql`${sql.ref(`r.${COLUMN[c.key]}`)} IN (${list})`
        : sql`${sql.ref(`r.${COLUMN[c.key]}`)} NOT IN (${list})`;
    }
    case "numeric_attribute": {
      // `end_time <> x` is NULL (false) for a run that has not ended, as the evaluator says. Postgres
      // cannot bind 1.5, 5e-324 or 1e30 as the bigint column's type (22P02, a 500): those compare as
      // doubles, as SQLite and the evaluator compare them; whole numbers keep the index-friendly bigint.
      const value =
        dialect === "postgres" && !Number.isSafeInteger(c.value)
          ? sql`CAST(${c.value} AS double precision)`
          : sql`${c.value}`;
      return sql`${sql.ref(`r.${COLUMN[c.key]}`)} ${numericOp(c.op)} ${value}`;
    }
    default:
      return assertNever(c, "clause");
  }
}

const ORDER_TABLE = { metric: "tracking_latest_metrics", param: "tracking_params", tag: "tracking_tags" } as const;

/**
 * One term of the search's order: `expr dir`. `sorts` is false for a term the ORDER BY can leave out
 * (the rank of the driving metric: 0 on every row) but a page token still carries (run-keyset.ts).
 */
interface OrderTerm {
  expr: RawBuilder<unknown>;
  ascending: boolean;
  sorts: boolean;
}

/**
 * Joins and order terms: present values first, then NaN, then missing, in both directions. The
 * terms are run-keyset.ts's sort key, in its order: a rank and a value per order_by entry, then
 * start_time (unless ordered by already) and run_id.
 */
function orderSql(
  orderBy: OrderBy[],
  dialect: Dialect,
  driving: boolean,
): { joins: RawBuilder<unknown>[]; terms: OrderTerm[] } {
  const joins: RawBuilder<unknown>[] = [];
  const terms: OrderTerm[] = [];
  const collate = (e: RawBuilder<unknown>) => (dialect === "postgres" ? sql`${e} COLLATE "C"` : e);
  const push = (expr: RawBuilder<unknown>, ascending: boolean, sorts = true) => terms.push({ expr, ascending, sorts });
  orderBy.forEach((o, i) => {
    if (i === 0 && driving) {
      // o0 drives the query (see drivingMetric): every row has a number there, so the rank is 0.
      push(sql`CASE WHEN o0.is_nan = 1 THEN 1 ELSE 0 END`, true, false);
      push(sql`o0.value`, o.ascending);
      return;
    }
    if (o.type === "attribute") {
      const col = sql.ref(`r.${COLUMN[o.key]}`);
      push(sql`CASE WHEN ${col} IS NULL THEN 1 ELSE 0 END`, true);
      push(o.key === "start_time" || o.key === "end_time" ? col : collate(col), o.ascending);
      return;
    }
    const alias = sql.raw(`o${i}`);
    joins.push(
      sql`LEFT JOIN ${sql.raw(ORDER_TABLE[o.type])} ${alias} ON ${alias}.run_id = r.run_id AND ${alias}.key = ${o.key}`,
    );
    if (o.type === "metric") {
      push(sql`CASE WHEN ${alias}.run_id IS NULL THEN 2 WHEN ${alias}.is_nan = 1 THEN 1 ELSE 0 END`, true);
      push(sql`${alias}.value`, o.ascending);
    } else {
      push(sql`CASE WHEN ${alias}.run_id IS NULL THEN 1 ELSE 0 END`, true);
      push(collate(sql`${alias}.value`), o.ascending);
    }
  });
  if (!orderBy.some((o) => o.type === "attribute" && o.key === "start_time")) push(sql`r.start_time`, false);
  push(collate(sql`r.run_id`), true);
  return { joins, terms };
}

/**
 * Rows after `after` in the order of `terms`: (t0 after a0) OR (t0 = a0 AND t1 after a1) OR …
 * A value is NULL exactly where its rank says missing or NaN, so a NULL key value is matched by
 * IS NULL and nothing sorts after it within its rank. The first sorted term's bound is repeated on
 * its own so an index on it (the driving metric, start_time) can start the scan there.
 */
function afterSql(terms: OrderTerm[], after: SortKeyValue[]): RawBuilder<unknown> {
  const equal = (t: OrderTerm, v: SortKeyValue) => (v === null ? sql`${t.expr} IS NULL` : sql`${t.expr} = ${v}`);
  const beyond = (t: OrderTerm, v: SortKeyValue) =>
    v === null ? sql`1 = 0` : t.ascending ? sql`${t.expr} > ${v}` : sql`${t.expr} < ${v}`;
  const alternatives = terms.map((t, i) =>
    sql.join([...terms.slice(0, i).map((p, j) => equal(p, after[j]!)), beyond(t, after[i]!)], sql` AND `),
  );
  const disjunction = sql`(${sql.join(alternatives, sql` OR `)})`;
  // The first term the ORDER BY sorts on (the terms before it hold one value on every row).
  const lead = terms.findIndex((t) => t.sorts);
  const v = after[lead];
  if (v === null || v === undefined) return disjunction;
  const t = terms[lead]!;
  return sql`${t.ascending ? sql`${t.expr} >= ${v}` : sql`${t.expr} <= ${v}`} AND ${disjunction}`;
}

/**
 * When the first order key is a metric that a filter clause also constrains (with an operator that
 * NaN and missing values fail), every matching run has a number there: the query can start from that
 * metric's rows through the (key, value) index, in order, and stop after one page instead of sorting
 * every matching run. With 100 000 runs that is the difference between ~350 ms and a few ms.
 */
function drivingMetric(q: RunSearchQuery): string | null {
  const first = q.orderBy[0];
  if (!first || first.type !== "metric") return null;
  return q.clauses.some((c) => c.type === "metric" && c.key === first.key && c.op !== "!=") ? first.key : null;
}

export function searchRunsSql(q: RunSearchQuery, dialect: Dialect): RawBuilder<{ run_id: string }> {
  const driving = drivingMetric(q);
  const where: RawBuilder<unknown>[] = [sql`r.project = ${q.project}`];
  where.push(
    q.experimentIds.length ? sql`r.experiment_id IN (${sql.join(q.experimentIds.map((e) => sql`${e}`))})` : sql`1 = 0`,
  );
  if (q.viewType === "ACTIVE_ONLY") where.push(sql`r.lifecycle_stage = 'active'`);
  else if (q.viewType === "DELETED_ONLY") where.push(sql`r.lifecycle_stage = 'deleted'`);
  for (const c of q.clauses) {
    if (driving !== null && c.type === "metric" && c.key === driving && c.op !== "!=") {
      where.push(sql`o0.is_nan = 0 AND o0.value ${numericOp(c.op)} ${c.value}`);
    } else where.push(clauseSql(c, dialect));
  }
  const { joins, terms } = orderSql(q.orderBy, dialect, driving !== null);
  if (q.after) {
    if (q.after.length !== terms.length)
      throw new InvalidInputError("Invalid page token: it was not made by this server");
    where.push(afterSql(terms, q.after));
  }
  const orderTerms = terms.filter((t) => t.sorts).map((t) => sql`${t.expr} ${sql.raw(t.ascending ? "ASC" : "DESC")}`);
  const from =
    driving !== null
      ? sql`tracking_latest_metrics o0 JOIN tracking_runs r ON r.run_id = o0.run_id AND o0.key = ${driving}`
      : sql`tracking_runs r`;
  const joined = joins.length ? sql` ${sql.join(joins, sql` `)}` : sql``;
  return sql<{
    run_id: string;
  }>`SELECT r.run_id FROM ${from}${joined} WHERE ${sql.join(where, sql` AND `)} ORDER BY ${sql.join(orderTerms)} LIMIT ${q.limit} OFFSET ${q.offset}`;
}
