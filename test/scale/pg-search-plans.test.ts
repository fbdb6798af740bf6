/**
 * Search plans at 100 000 runs on PostgreSQL: the queries MLflow clients send (a metric filter with
 * order_by, params and tags by key and value, time ranges, the metric history of one key) are read
 * through indexes. EXPLAIN fails the test on any sequential scan of the metric, param or tag tables;
 * rows are made with generate_series in a few seconds, and ANALYZE gives the planner real statistics.
 */
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseFilter, parseOrderByList } from "../../src/core/tracking/filter/parser.js";
import { SqlMetadataStore } from "../../src/stores/metadata/sql-metadata-store.js";
import { searchRunsSql } from "../../src/stores/metadata/tracking-search-sql.js";
import "../../src/stores/metadata/tracking-rows.js";
import { freshPostgresDatabase, postgresAvailable } from "../helpers/stores.js";

const RUNS = 100_000;
/** Tables a search must reach through an index: each holds several rows per run. */
const INDEXED_TABLES = ["tracking_metrics", "tracking_latest_metrics", "tracking_params", "tracking_tags"];

interface PlanNode {
  "Node Type": string;
  "Relation Name"?: string;
  Plans?: PlanNode[];
}

function seqScans(node: PlanNode): string[] {
  const own = node["Node Type"] === "Seq Scan" && node["Relation Name"] ? [node["Relation Name"]] : [];
  return own.concat(...(node.Plans ?? []).map(seqScans));
}

describe.skipIf(!postgresAvailable())("search plans at 100 000 runs [postgres]", () => {
  let store: SqlMetadataStore;
  let cleanup: () => Promise<void> = async () => undefined;
  beforeAll(async () => {
    const fresh = await freshPostgresDatabase();
    cleanup = fresh.cleanup;
    store = await SqlMetadataStore.create({ database: fresh.database, migrate: false });
    const id = sql`lpad(to_hex(g), 32, '0')`;
    await sql`insert into tracking_runs (run_id, project, experiment_id, run_name, user_id, status, start_time,
        end_time, lifecycle_stage, artifact_uri, parent_run_id, deleted_time)
      select ${id}, 'default', (g % 5)::text, 'run-' || g, 'u' || (g % 20), 'FINISHED', 1700000000000 + g,
        1700000001000 + g, 'active', 'mlflow-artifacts:/0/' || g, null, null
      from generate_series(1, ${RUNS}) g`.execute(store.db);
    for (const key of ["auc", "loss", "f1"]) {
      await sql`insert into tracking_latest_metrics (run_id, key, value, is_nan, step, timestamp)
        select ${id}, ${key}, random(), 0, 9, 1700000000000 from generate_series(1, ${RUNS}) g`.execute(store.db);
      await sql`insert into tracking_metrics (run_id, key, value, is_nan, step, timestamp)
        select ${id}, ${key}, random(), 0, s, 1700000000000 + s
        from generate_series(1, ${RUNS}) g, generate_series(0, 4) s`.execute(store.db);
    }
    await sql`insert into tracking_params (run_id, key, value)
      select ${id}, k, ((g % 10) / 100.0)::text from generate_series(1, ${RUNS}) g, unnest(array['lr', 'depth']) k`.execute(
      store.db,
    );
    await sql`insert into tracking_tags (run_id, key, value)
      select ${id}, k, k || '-' || (g % 50) from generate_series(1, ${RUNS}) g, unnest(array['team', 'mlflow.source.name']) k`.execute(
      store.db,
    );
    await sql`analyze`.execute(store.db);
  }, 600_000);
  afterAll(async () => {
    await store?.close();
    await cleanup();
  });

  async function plan(query: { sql: string; parameters: readonly unknown[] }): Promise<PlanNode> {
    const result = await store.db.executeQuery<{ "QUERY PLAN": Array<{ Plan: PlanNode }> }>({
      sql: `explain (format json) ${query.sql}`,
      parameters: query.parameters,
      query: { kind: "RawNode" } as never,
      queryId: { queryId: "explain" } as never,
    });
    return result.rows[0]!["QUERY PLAN"][0]!.Plan;
  }

  const searches: Array<[string, string | undefined, string[]]> = [
    ["a metric filter ordered by that metric", "metrics.auc > 0.5", ["metrics.auc DESC"]],
    ["a narrow metric filter", "metrics.loss < 0.001", []],
    ["two metric filters", "metrics.auc > 0.9 and metrics.f1 > 0.9", ["metrics.auc DESC"]],
    ["a param by key and value", "params.lr = '0.05'", []],
    ["a param that no run has", "params.lr = '0.055'", []],
    ["a tag by key and value", "tags.team = 'team-7'", []],
    ["a tag and a param", "tags.team = 'team-7' and params.depth = '0.03'", []],
    ["a param ordered by a metric", "params.lr = '0.05'", ["metrics.auc DESC"]],
    ["a metric and a tag", "metrics.auc > 0.5 and tags.`mlflow.source.name` = 'mlflow.source.name-3'", []],
    ["a start time range", "attributes.start_time > 1700000099000", []],
    ["the newest runs (no filter)", undefined, []],
    ["a metric filter ordered by start time", "metrics.auc > 0.999", ["attributes.start_time DESC"]],
  ];

  for (const [name, filter, orderBy] of searches) {
    it(`reads ${name} without a sequential scan of the metric, param or tag tables`, async () => {
      const query = searchRunsSql(
        {
          project: "default",
          experimentIds: ["0", "1"],
          clauses: parseFilter(filter),
          orderBy: parseOrderByList(orderBy),
          viewType: "ACTIVE_ONLY",
          offset: 0,
          limit: 101,
        },
        "postgres",
      ).compile(store.db);
      const scans = seqScans(await plan(query));
      expect(
        scans.filter((t) => INDEXED_TABLES.includes(t)),
        JSON.stringify(scans),
      ).toEqual([]);
    });
  }

  it("reads one key's metric history through its index", async () => {
    const query = store.db
      .selectFrom("tracking_metrics")
      .select(["key", "value", "is_nan", "step", "timestamp"])
      .where("run_id", "=", (777).toString(16).padStart(32, "0"))
      .where("key", "=", "auc")
      .orderBy("step")
      .orderBy("timestamp")
      .limit(100)
      .compile();
    expect(seqScans(await plan(query))).toEqual([]);
  });
});
