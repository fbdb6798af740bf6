/**
 * The prediction log packed: one row per run of a request's predictions (prediction_batches), not
 * one per prediction. A request's ids follow each other (fastId), so a batch keys them by the ids'
 * first 24 hex characters and the number the last 8 spell (an id made otherwise is a batch of its
 * own, keyed by itself and -1): every id stays addressable for feedback. Features stay as the log's
 * writer gets them: names once, the values as one little-endian float64 blob, the few values that
 * are not numbers as JSON; or, for runners that answer records (and for rows moved here), the rows'
 * feature texts as one JSON array. Outputs are the request's JSON array text.
 *
 * Why: the writer thread paid ~10 µs of CPU per prediction on SQLite (three b-tree entries and a
 * features JSON text per row), ~95 000 rows/s on one core against the ~188 000 a 64-row serving
 * load at issue 18's goal asks for; a batch is one row and two index entries per request.
 *
 * Existing rows move over: each run of rows that share a request's fields and whose ids follow each
 * other becomes one batch, its rows' texts kept byte for byte. On SQLite (no transactional DDL in
 * Kysely's migrator) the move and the old table's drop are one transaction of their own, and a rerun
 * after a crash between it and the migration's record finds nothing left to move.
 */
import { sql, type Kysely } from "kysely";
import type { TandemMigration } from "../migration-kit.js";
import { idAt, idKey } from "../prediction-log-rows.mjs";

/** Old rows read per page while moving them (keyset on id). */
const PAGE_ROWS = 5_000;
/** Batches per insert (17 columns: 850 parameters). */
const INSERT_BATCHES = 50;

interface OldRow {
  id: string;
  project: string;
  endpoint: string;
  model: string;
  version: number;
  slot: string;
  request_id: string;
  at: number;
  latency_ms: number;
  features: string;
  output: string | null;
  error: string | null;
}

const SHARED = ["project", "endpoint", "model", "version", "slot", "request_id", "at", "latency_ms", "error"] as const;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations see the schema as it was
async function hasOldTable(db: Kysely<any>, dialect: string): Promise<boolean> {
  if (dialect === "sqlite") {
    const { rows } = await sql<{ n: number }>`select count(*) as n from sqlite_master
      where type = 'table' and name = 'predictions'`.execute(db);
    return Number(rows[0]?.n ?? 0) > 0;
  }
  const { rows } = await sql<{ t: string | null }>`select to_regclass('predictions')::text as t`.execute(db);
  return rows[0]?.t !== null && rows[0]?.t !== undefined;
}

/** Moves every old row into batches, then drops the old table. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations see the schema as it was
async function moveRows(db: Kysely<any>): Promise<void> {
  let pending: Record<string, unknown>[] = [];
  const flush = async () => {
    for (let i = 0; i < pending.length; i += INSERT_BATCHES)
      await db
        .insertInto("prediction_batches")
        .values(pending.slice(i, i + INSERT_BATCHES))
        .execute();
    pending = [];
  };
  let run: OldRow[] = [];
  let key: [string, number] = ["", -1];
  const close = () => {
    if (!run.length) return;
    const first = run[0]!;
    const outputs = run.every((r) => r.output === null) ? null : `[${run.map((r) => r.output ?? "null").join(",")}]`;
    pending.push({
      id_head: key[0],
      id_first: key[1],
      rows: run.length,
      ...Object.fromEntries(SHARED.map((c) => [c, first[c]])),
      feature_names: null,
      feature_values: null,
      feature_others: null,
      features: `[${run.map((r) => r.features).join(",")}]`,
      outputs,
    });
    run = [];
  };
  let after: string | null = null;
  for (;;) {
    let q = db.selectFrom("predictions").selectAll().orderBy("id").limit(PAGE_ROWS);
    if (after !== null) q = q.where("id", ">", after);
    const page = (await q.execute()) as OldRow[];
    for (const row of page) {
      const previous = run[0];
      const follows =
        previous !== undefined &&
        key[1] >= 0 &&
        key[1] + run.length <= 0xffffffff &&
        row.id === idAt(key[0], key[1], run.length) &&
        SHARED.every((c) => row[c] === previous[c]);
      if (!follows) {
        close();
        key = idKey(row.id);
      }
      run.push(row);
    }
    if (pending.length >= INSERT_BATCHES) await flush();
    if (page.length < PAGE_ROWS) break;
    after = page[page.length - 1]!.id;
  }
  close();
  await flush();
  await db.schema.dropTable("predictions").execute();
}

export const migration: TandemMigration = {
  async up(db, dialect, t) {
    await db.schema
      .createTable("prediction_batches")
      .ifNotExists()
      .addColumn("id_head", t.id, (c) => c.notNull())
      .addColumn("id_first", t.bigint, (c) => c.notNull())
      .addColumn("rows", t.integer, (c) => c.notNull())
      .addColumn("project", t.id, (c) => c.notNull())
      .addColumn("endpoint", t.text, (c) => c.notNull())
      .addColumn("model", t.text, (c) => c.notNull())
      .addColumn("version", t.integer, (c) => c.notNull())
      .addColumn("slot", t.text, (c) => c.notNull())
      .addColumn("request_id", t.text, (c) => c.notNull())
      .addColumn("at", t.bigint, (c) => c.notNull())
      .addColumn("latency_ms", t.float, (c) => c.notNull())
      .addColumn("error", t.text)
      .addColumn("feature_names", t.json)
      .addColumn("feature_values", dialect === "sqlite" ? "blob" : "bytea")
      .addColumn("feature_others", t.json)
      .addColumn("features", t.json)
      .addColumn("outputs", t.json)
      .addPrimaryKeyConstraint("prediction_batches_pk", ["id_head", "id_first"])
      .execute();
    // Monitoring scans one endpoint's window in (at, id) order; retention deletes by endpoint and time.
    await db.schema
      .createIndex("prediction_batches_endpoint_at")
      .ifNotExists()
      .on("prediction_batches")
      .columns(["project", "endpoint", "at", "id_head", "id_first"])
      .execute();
    if (!(await hasOldTable(db, dialect))) return;
    if (db.isTransaction) await moveRows(db);
    else await db.transaction().execute((trx) => moveRows(trx));
  },
};
