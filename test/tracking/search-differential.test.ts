/**
 * Differential test of run search: random runs and random valid filters/order_bys, the SQL answer
 * (SQLite and Postgres) must equal the in-memory evaluator's, page by page.
 */
import fc from "fast-check";
import { beforeAll, expect, it } from "vitest";
import type { Clause, OrderBy } from "../../src/core/tracking/filter/ast.js";
import { searchInMemory, type SearchableRun } from "../../src/core/tracking/filter/evaluate.js";
import { InvalidInputError } from "../../src/core/errors.js";
import { parseFilter, parseOrderByList } from "../../src/core/tracking/filter/parser.js";
import { isLaterPoint, type MetricPoint, type RunStatus } from "../../src/core/tracking/model.js";
import { runSortKey, type SortKeyValue } from "../../src/core/tracking/run-keyset.js";
import { SqlTrackingStore } from "../../src/stores/metadata/tracking-store.js";
import { describeStores } from "../helpers/stores.js";

const PROJECT = "diff";
const METRIC_KEYS = ["auc", "loss", "a b"];
const STR_KEYS = ["lr", "model", "x.y"];
const NUMBERS = [-1, 0, 0.5, 1, 2.25, 1e6];
const METRIC_VALUES = [...NUMBERS, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0];
const STRINGS = ["", "a", "A", "ab", "Ab", "a%b", "a_b", "a\\b", "b", "é", "zz", "it's", "10", "9"];
const PATTERNS = [...STRINGS, "%", "a%", "%b", "_", "a_", "%\\%%", "A%", "%'%", "_b", "\\_%", "%é"];
const STATUSES: RunStatus[] = ["RUNNING", "FINISHED", "FAILED", "KILLED"];
const TIMES = [100, 200, 300];

function quote(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

function pick<T>(items: readonly T[]) {
  return fc.constantFrom(...items);
}

const numOp = pick(["=", "!=", ">", ">=", "<", "<="] as const);
const strOp = pick(["=", "!=", "LIKE", "ILIKE"] as const);

/** Filter strings written as a user would, so the parser is part of what is checked. */
const clauseText = fc.oneof(
  fc.tuple(pick(METRIC_KEYS), numOp, pick(NUMBERS)).map(([k, op, v]) => `metrics.\`${k}\` ${op} ${v}`),
  fc
    .tuple(pick(["params", "tags"]), pick(STR_KEYS), strOp, fc.oneof(pick(STRINGS), pick(PATTERNS)))
    .map(([e, k, op, v]) => `${e}."${k}" ${op} ${quote(v)}`),
  fc
    .tuple(
      pick(["run_name", "status", "user_id", "attributes.run_id"]),
      strOp,
      fc.oneof(pick(STRINGS), pick(STATUSES), pick(PATTERNS)),
    )
    .map(([k, op, v]) => `${k} ${op} ${quote(v)}`),
  fc
    .tuple(
      pick(["status", "run_name"]),
      pick(["IN", "NOT IN"]),
      fc.array(fc.oneof(pick(STATUSES), pick(STRINGS)), { minLength: 1, maxLength: 3 }),
    )
    .map(([k, op, vs]) => `${k} ${op} (${vs.map(quote).join(", ")})`),
  fc
    // 1.5, 5e-324 and 1e30 are no bigint: Postgres answered 500 for them before (22P02).
    .tuple(pick(["start_time", "end_time", "created"]), numOp, pick([...TIMES, 150, 1000, 1.5, 5e-324, 1e30, -0.5]))
    .map(([k, op, v]) => `attributes.${k} ${op} ${v}`),
);
const filterText = fc.array(clauseText, { maxLength: 3 }).map((cs) => cs.join(" AND "));
const orderText = fc.uniqueArray(
  fc.oneof(
    pick(METRIC_KEYS).map((k) => `metrics.\`${k}\``),
    pick(STR_KEYS).map((k) => `params."${k}"`),
    pick(STR_KEYS).map((k) => `tags.\`${k}\``),
    pick(["start_time", "end_time", "run_name", "status", "run_id", "user_id"]).map((k) => `attributes.${k}`),
  ),
  { maxLength: 2 },
);
const orderBy = fc
  .tuple(orderText, fc.array(fc.boolean(), { minLength: 2, maxLength: 2 }))
  .map(([keys, dirs]) => keys.map((k, i) => `${k} ${dirs[i] ? "ASC" : "DESC"}`));

interface Fixture {
  run: SearchableRun;
  points: MetricPoint[];
}

function randomRuns(seed: number, count: number): Fixture[] {
  const [runs] = fc.sample(
    fc.array(
      fc.record({
        name: pick(STRINGS),
        status: pick(STATUSES),
        user: pick(["alice", "Bob", "b"]),
        start: pick(TIMES),
        end: fc.option(pick(TIMES), { nil: null }),
        points: fc.array(
          fc.record({
            key: pick(METRIC_KEYS),
            value: pick(METRIC_VALUES),
            step: fc.integer({ min: 0, max: 2 }),
            timestamp: pick(TIMES),
          }),
          { maxLength: 5 },
        ),
        params: fc.dictionary(pick(STR_KEYS), pick(STRINGS), { maxKeys: 3 }),
        tags: fc.dictionary(pick(STR_KEYS), pick(STRINGS), { maxKeys: 3 }),
      }),
      { minLength: count, maxLength: count },
    ),
    { seed, numRuns: 1 },
  );
  return runs!.map((r, i) => {
    const metrics: Record<string, number> = {};
    const latest = new Map<string, MetricPoint>();
    for (const p of r.points) if (!latest.has(p.key) || isLaterPoint(p, latest.get(p.key)!)) latest.set(p.key, p);
    // Stores keep -0 as 0 (neither SQL dialect round-trips the sign of zero).
    for (const [k, p] of latest) metrics[k] = p.value === 0 ? 0 : p.value;
    const runId = `${(i * 7919).toString(16).padStart(8, "0")}${"0".repeat(24)}`;
    return {
      points: r.points,
      run: {
        runId,
        runName: r.name,
        status: r.status,
        userId: r.user,
        artifactUri: `mlflow-artifacts:/1/${runId}/artifacts`,
        startTime: r.start,
        endTime: r.end,
        metrics,
        params: r.params,
        tags: r.tags,
      },
    };
  });
}

describeStores("run search: SQL equals the in-memory evaluator", (getStore) => {
  let store: SqlTrackingStore;
  let runs: SearchableRun[];
  beforeAll(async () => {
    store = new SqlTrackingStore(getStore());
    const fixtures = randomRuns(42, 60);
    runs = fixtures.map((f) => f.run);
    await getStore().transaction(async (tx) => {
      for (const { run, points } of fixtures) {
        await store.insertRun(
          {
            runId: run.runId,
            project: PROJECT,
            experimentId: "1",
            runName: run.runName,
            userId: run.userId,
            status: run.status as RunStatus,
            startTime: run.startTime,
            endTime: run.endTime,
            lifecycleStage: "active",
            artifactUri: run.artifactUri,
            parentRunId: null,
            deletedTime: null,
          },
          tx,
        );
        // Points arrive in two batches so the latest-point upsert is exercised across statements.
        await store.logMetrics(run.runId, points.slice(0, 2), tx);
        await store.logMetrics(run.runId, points.slice(2), tx);
        await store.insertParams(
          run.runId,
          Object.entries(run.params).map(([key, value]) => ({ key, value })),
          tx,
        );
        await store.setTags(
          run.runId,
          Object.entries(run.tags).map(([key, value]) => ({ key, value })),
          tx,
        );
      }
    });
  });

  it("stores the latest metric point the evaluator expects", async () => {
    const loaded = await store.getRuns(runs.map((r) => r.runId));
    for (const [i, r] of loaded.entries()) {
      expect(Object.fromEntries(r.metrics.map((m) => [m.key, m.value]))).toEqual(runs[i]!.metrics);
    }
  });

  it("answers random filters and orders like the evaluator", async () => {
    await fc.assert(
      fc.asyncProperty(
        filterText,
        orderBy,
        fc.integer({ min: 0, max: 20 }),
        fc.integer({ min: 1, max: 70 }),
        async (filter, order, offset, limit) => {
          const clauses: Clause[] = parseFilter(filter);
          const orders: OrderBy[] = parseOrderByList(order);
          const expected = searchInMemory(runs, clauses, orders)
            .map((r) => r.runId)
            .slice(offset, offset + limit);
          // searchRuns is what the service calls: on Postgres the search and the runs' reads are one
          // statement, and the page's order must survive that.
          const found = await store.searchRuns({
            project: PROJECT,
            experimentIds: ["1"],
            clauses,
            orderBy: orders,
            viewType: "ALL",
            offset,
            limit,
          });
          const actual = found.map((r) => r.info.runId);
          expect(actual, `filter ${filter} order ${order.join(", ")}`).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("pages with keyset tokens through exactly the evaluator's order", async () => {
    // Each page starts after the sort key of the previous page's last run, as the service's page
    // tokens do (run-keyset.ts): NaN, ±Infinity, -0, missing values and tied start times included.
    await fc.assert(
      fc.asyncProperty(filterText, orderBy, fc.integer({ min: 1, max: 9 }), async (filter, order, pageSize) => {
        const clauses: Clause[] = parseFilter(filter);
        const orders: OrderBy[] = parseOrderByList(order);
        const expected = searchInMemory(runs, clauses, orders).map((r) => r.runId);
        const seen: string[] = [];
        let after: SortKeyValue[] | undefined;
        for (let page = 0; page <= runs.length; page++) {
          const found = await store.searchRuns({
            project: PROJECT,
            experimentIds: ["1"],
            clauses,
            orderBy: orders,
            viewType: "ALL",
            offset: 0,
            limit: pageSize,
            ...(after ? { after } : {}),
          });
          seen.push(...found.map((r) => r.info.runId));
          if (found.length < pageSize) break;
          after = runSortKey(found[found.length - 1]!, orders);
        }
        expect(seen, `filter ${filter} order ${order.join(", ")} pages of ${pageSize}`).toEqual(expected);
      }),
      { numRuns: 120 },
    );
  });

  it("runs every filter the parser accepts without a database error", async () => {
    // Near-valid pieces glued at random: whatever parses must also run on the store (no 500s from SQL).
    const piece = fc.oneof(
      fc.constantFrom(
        "metrics.",
        "params.",
        "tags.",
        "attributes.",
        "auc",
        "`a b`",
        '"x"',
        " ",
        " AND ",
        "=",
        "!=",
        ">",
        "<=",
        " LIKE ",
        " ILIKE ",
        " IN ",
        " NOT IN ",
        "(",
        ")",
        ",",
        "status",
        "start_time",
        "end_time",
        "run_id",
      ),
      fc.string({ maxLength: 6 }).map(quote),
      fc.string({ unit: "binary", maxLength: 6 }).map(quote),
      fc
        .oneof(
          fc.double({ noNaN: true, noDefaultInfinity: true }),
          fc.integer(),
          fc.constant(1e308),
          fc.constant(-9007199254740991),
        )
        .map(String),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(piece, { maxLength: 12 }).map((p) => p.join("")),
        async (filter) => {
          let clauses: Clause[];
          try {
            clauses = parseFilter(filter);
          } catch (e) {
            if (e instanceof InvalidInputError) return;
            throw e;
          }
          await store.searchRunIds({
            project: PROJECT,
            experimentIds: ["1"],
            clauses,
            orderBy: [],
            viewType: "ALL",
            offset: 0,
            limit: 5,
          });
        },
      ),
      // The first was found on Postgres with seed 1779074855 (invalid input syntax for type bigint).
      { numRuns: 400, examples: [["start_time!=5e-324"], ["attributes.end_time > 1.5"], ["start_time = 1e30"]] },
    );
  });
});
