/**
 * Traffic export over HTTP, byte for byte: the exported blob (whose hash names the dataset version)
 * is the JSON Lines the export wrote before it streamed, on awkward rows (unicode, nulls, numbers
 * that parse to something else, nested values, names an object cannot hold as given) across several
 * of the store's pages, on SQLite and PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { text } from "node:stream/consumers";
import { MAX_EXPORT_ROWS } from "../../src/core/monitoring/traffic-export.js";
import { SqlTrafficSource } from "../../src/stores/metadata/monitor-store.js";
import { awkwardRows, exportedBefore } from "../helpers/awkward-traffic.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { postgresAvailable, type StoreKind } from "../helpers/stores.js";

const base = Date.UTC(2026, 0, 1);
/** More than two of the store's pages (10 000 rows), with runs of rows sharing one `at`. */
const ROWS = 23_456;

async function logAwkwardTraffic(t: TestServer): Promise<void> {
  const db = t.server.opened.sql.db;
  const rows = awkwardRows(ROWS, 3);
  // The log keeps a batch per request (migration 0503); these ids are not hex, so each row is a batch
  // of its own, its texts kept as given (the layout of a runner that answers records).
  const predictions = rows.map((r, i) => ({
    id: `p${String(ROWS - i).padStart(6, "0")}`,
    project: "default",
    endpoint: "awkward",
    model: "m",
    version: 1,
    slot: i % 50 === 0 ? "shadow" : "primary",
    request_id: `r${i}`,
    at: base + Math.floor(i / 3),
    latency_ms: 1,
    features: r.features,
    output: r.output,
    error: r.error,
  }));
  const batches = predictions.map(({ id, features, output, ...shared }) => ({
    ...shared,
    id_head: id,
    id_first: -1,
    rows: 1,
    features: `[${features}]`,
    outputs: output === null ? null : `[${output}]`,
  }));
  const feedback = predictions.flatMap((p, i) =>
    rows[i]!.label === null
      ? []
      : [{ prediction_id: p.id, project: "default", endpoint: "awkward", label: rows[i]!.label!, at: p.at }],
  );
  for (let i = 0; i < predictions.length; i += 500)
    await db
      .insertInto("prediction_batches")
      .values(batches.slice(i, i + 500))
      .execute();
  for (let i = 0; i < feedback.length; i += 500)
    await db
      .insertInto("prediction_feedback")
      .values(feedback.slice(i, i + 500))
      .execute();
}

/** The export as it was before it streamed, of the window read whole. */
async function windowExportedBefore(t: TestServer, target: string, labelledOnly: boolean): Promise<string> {
  const traffic = new SqlTrafficSource(t.server.opened.sql);
  const { rows, total } = await traffic.window("default", "awkward", base, base + ROWS, MAX_EXPORT_ROWS);
  // Every row but the shadow ones (each 50th), once: the pages neither drop nor repeat a row.
  expect(total).toBe(ROWS - Math.ceil(ROWS / 50));
  expect(new Set(rows.map((r) => r.id)).size).toBe(total);
  return exportedBefore(rows, target, labelledOnly);
}

for (const kind of ["sqlite", "postgres"] as StoreKind[]) {
  describe.skipIf(kind === "postgres" && !postgresAvailable())(`traffic export, byte for byte [${kind}]`, () => {
    let t: TestServer;

    beforeAll(async () => {
      t = await startTestServer({ store: kind });
      await logAwkwardTraffic(t);
    });
    afterAll(async () => {
      await t?.stop();
    });

    for (const [target, labelledOnly] of [
      ["target", true],
      ["target", false],
      ["prediction", false],
    ] as const)
      it(`writes what the export wrote before (target ${target}, ${labelledOnly ? "labelled only" : "all"})`, async () => {
        const r = await t.api<{ manifest_sha256: string; rows: number; labelled: number }>(
          "POST",
          "/api/v1/projects/default/endpoints/awkward/export",
          {
            since: base,
            until: base + ROWS,
            as_dataset: `awkward-${target}-${labelledOnly}`,
            labelled_only: labelledOnly,
            target_column: target,
          },
        );
        expect(r.status).toBe(200);
        const services = t.server.opened.services;
        const version = await services.data.resolveDatasetVersion(
          "default",
          `awkward-${target}-${labelledOnly}@latest`,
        );
        const entry = version.entries[0]!;
        const exported = await text(await services.artifacts.getBlob(entry.sha256));
        const before = await windowExportedBefore(t, target, labelledOnly);
        expect(exported === before).toBe(true);
        expect(r.body.rows).toBe(before.split("\n").length - 1);
        expect(r.body.rows).toBeGreaterThan(labelledOnly ? 10_000 : 20_000);
      });
  });
}
