/**
 * Planner statistics for the tables a run search reads, kept from going stale on Postgres.
 *
 * Without statistics the planner guesses one row per condition. For a run search that guess joined
 * each metric row to every run of the experiment instead of looking the run up by its key: 249 000
 * rows compared for a 1 000-run experiment, 180 ms instead of 1 ms (EXPLAIN ANALYZE, bench/tracking).
 * Autovacuum would analyze the tables, but it may be off (it is on the machine the issue was measured
 * on), and it waits a minute between rounds and until 10 % of a table changed. So, at most every 30 s,
 * the store asks Postgres which of these tables changed by more than half their rows since they were
 * last analyzed (a fresh table: all of them) and analyzes those, before the search runs: the tables
 * are re-analyzed each time they double, a handful of times in their life.
 */
import { CompiledQuery } from "kysely";
import type { Db } from "./sql-metadata-store.js";

const SEARCHED_TABLES = ["tracking_runs", "tracking_latest_metrics", "tracking_params", "tracking_tags"];
/** How often the counters are looked at (default 30 s). */
const CHECK_EVERY_MS = 30_000;
/** Changes below this never trigger an analyze: a small table plans well enough either way. */
const MIN_CHANGES = 200;

const STALE_TABLES_SQL = `select relname from pg_stat_user_tables
where schemaname = current_schema() and relname = any($1::text[])
  and n_mod_since_analyze >= $2 and n_mod_since_analyze > n_live_tup / 2`;

export class SearchStatistics {
  private checkedAt = -Infinity;
  private running: Promise<void> | null = null;

  /** Analyzes the searched tables that have outgrown their statistics; cheap when none have. */
  async refresh(db: Db): Promise<void> {
    if (this.running) return this.running;
    if (performance.now() - this.checkedAt < CHECK_EVERY_MS) return;
    this.checkedAt = performance.now();
    this.running = this.analyzeStale(db).finally(() => (this.running = null));
    return this.running;
  }

  private async analyzeStale(db: Db): Promise<void> {
    const stale = await db.executeQuery<{ relname: string }>(
      CompiledQuery.raw(STALE_TABLES_SQL, [SEARCHED_TABLES, MIN_CHANGES]),
    );
    if (stale.rows.length === 0) return;
    // Names come from the fixed list above, never from a request.
    const tables = stale.rows.map((r) => `"${r.relname}"`).join(", ");
    await db.executeQuery(CompiledQuery.raw(`analyze ${tables}`));
  }
}
