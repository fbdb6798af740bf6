/**
 * The packed prediction log (migration 0503) against the per-row log it replaces, on SQLite and
 * PostgreSQL. The same traffic is logged three ways: rows written as the previous release wrote them
 * and read by its reader; those rows moved into batches by the migration; and the same requests
 * written by today's writer (one batch per request). Every reader must answer the same: the
 * monitoring window (in full and sampled), the traffic export's bytes (they set a dataset version's
 * hash), feedback by the ids the responses gave, recent rows and the maturity count.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Kysely } from "kysely";
import { expect, it } from "vitest";
import type { DataService } from "../../src/core/data/service.js";
import { Reservoir, seedOf } from "../../src/core/monitoring/monitors/reservoir.js";
import type { LoggedRowText, TrafficSource, TrafficWindow } from "../../src/core/monitoring/monitors/ports.js";
import type { WindowRow } from "../../src/core/monitoring/monitors/window.js";
import { TrafficExporter } from "../../src/core/monitoring/traffic-export.js";
import { buildCodec } from "../../src/core/serving/codec.js";
import { fastId } from "../../src/core/serving/fast-id.js";
import type { LoggedRequest } from "../../src/core/serving/model.js";
import { buildSignature } from "../../src/core/training/signature.js";
import { FsArtifactStore } from "../../src/stores/artifacts/fs-artifact-store.js";
import { SqlMaturityFacts } from "../../src/stores/metadata/maturity-facts-store.js";
import { columnTypes } from "../../src/stores/metadata/migration-kit.js";
import { migration } from "../../src/stores/metadata/migrations/0503_prediction_batches.js";
import { migrateToLatest } from "../../src/stores/metadata/migrator.js";
import { SqlTrafficSource } from "../../src/stores/metadata/monitor-store.js";
import { featureTexts, outputTexts } from "../../src/stores/metadata/prediction-log-rows.mjs";
import { SqlPredictionLogStore } from "../../src/stores/metadata/prediction-log-store.js";
import { SqlMetadataStore } from "../../src/stores/metadata/sql-metadata-store.js";
import { emptyDatabase, postgresAvailable, STORE_KINDS } from "../helpers/stores.js";

const MIGRATION = "0503_prediction_batches";
const P = "p";
const E = "e";
const AT = Date.UTC(2026, 5, 1);

/**
 * The traffic: 64-row requests (features in columns as the ONNX codec gives them, a category string
 * or a null among the numbers in some), requests of 1 and 3 rows, a failed request, a shadow
 * request, a runner that answers records, ids that are not hex, and requests in the same
 * millisecond. Returns the requests and the ids to give feedback to.
 */
function traffic(): { requests: LoggedRequest[]; labelled: string[] } {
  const codec = buildCodec(
    buildSignature({
      task: "binary_classification",
      algorithm: "t",
      features: [
        ...Array.from({ length: 6 }, (_, i) => ({ name: `f${i}`, type: "numeric" as const })),
        { name: "city", type: "categorical" as const, categories: ["Bern", "Zürich"] },
      ],
    }),
  );
  let n = 0;
  const instance = (odd: boolean) => {
    n++;
    return {
      ...Object.fromEntries(Array.from({ length: 6 }, (_, c) => [`f${c}`, ((n * 37 + c * 11) % 997) / 7 - 50])),
      city: odd ? (n % 3 ? "Zürich" : null) : n % 5,
    };
  };
  const base = (k: number, ids: string[]): Omit<LoggedRequest, "features" | "outputs"> => ({
    project: P,
    endpoint: E,
    model: "m",
    version: 1 + (k % 2),
    slot: k % 9 === 8 ? "shadow" : k % 4 === 3 ? "canary" : "primary",
    requestId: fastId(),
    // Three requests a millisecond: rows of several requests share `at`.
    at: AT + Math.floor(k / 3),
    latencyMs: 1 + k / 8,
    ids,
    error: null,
  });
  const requests: LoggedRequest[] = [];
  const sizes = [...Array.from({ length: 30 }, () => 64), 1, 3, 1, 64, 2];
  sizes.forEach((size, k) => {
    const instances = Array.from({ length: size }, () => instance(k % 5 === 0));
    const ids = k === sizes.length - 1 ? [`plain-${k}-a`, `plain-${k}-b`] : instances.map(() => fastId());
    const outputs = instances.map((_, i) => ({ label: (k + i) % 2, probabilities: { "0": i / 64, "1": 1 - i / 64 } }));
    requests.push({ ...base(k, ids), features: codec.encode(instances).logged, outputs: JSON.stringify(outputs) });
  });
  // A failed request, and a runner that answers records.
  requests.push({ ...base(40, [fastId()]), features: [{}], outputs: null, error: "model failed: boom" });
  requests.push({
    ...base(41, [fastId(), fastId()]),
    features: [
      { b: 1, a: "x" },
      { a: null, b: [1, { c: "]" }] },
    ],
    outputs: JSON.stringify([{ value: 0.5 }, { value: -1e-9 }]),
  });
  const ids = requests.flatMap((r) => r.ids);
  return { requests, labelled: ids.filter((_, i) => i % 7 === 2) };
}

/** The previous release's writer: one row per prediction, its texts as that writer made them. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the previous release's schema
async function writeOldRows(db: Kysely<any>, requests: LoggedRequest[]): Promise<void> {
  const rows = requests.flatMap((r) => {
    const wire = {
      ...r,
      names: Array.isArray(r.features) ? null : r.features.names,
      values: Array.isArray(r.features) ? null : r.features.values,
      others: Array.isArray(r.features) ? null : r.features.others,
      featureJson: Array.isArray(r.features) ? r.features.map((f) => JSON.stringify(f)) : null,
      outputs: r.outputs as string | null,
    };
    const features = featureTexts(wire);
    const outputs = outputTexts(wire);
    return r.ids.map((id, i) => ({
      id,
      project: r.project,
      endpoint: r.endpoint,
      model: r.model,
      version: r.version,
      slot: r.slot,
      request_id: r.requestId,
      at: r.at,
      latency_ms: r.latencyMs,
      features: features[i]!,
      output: outputs[i] ?? null,
      error: r.error,
    }));
  });
  for (let i = 0; i < rows.length; i += 200)
    await db
      .insertInto("predictions")
      .values(rows.slice(i, i + 200))
      .execute();
}

/** The previous release's window reader (SqlTrafficSource over the per-row table), as it was. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the previous release's schema
function oldTrafficSource(db: Kysely<any>): TrafficSource {
  // One page of every row in (at, id) order: the previous release paged the same query by keyset.
  const rows = async (project: string, endpoint: string, start: number, end: number): Promise<LoggedRowText[]> =>
    (
      await db
        .selectFrom("predictions as p")
        .leftJoin("prediction_feedback as f", "f.prediction_id", "p.id")
        .select(["p.id", "p.at", "p.features", "p.output", "p.error", "p.latency_ms as latencyMs", "f.label"])
        .where("p.project", "=", project)
        .where("p.endpoint", "=", endpoint)
        .where("p.at", ">=", start)
        .where("p.at", "<", end)
        .where("p.slot", "!=", "shadow")
        .orderBy("p.at")
        .orderBy("p.id")
        .execute()
    ).map((r) => ({ ...(r as LoggedRowText), at: Number((r as LoggedRowText).at) }));
  return {
    async *scan(project, endpoint, start, end) {
      yield await rows(project, endpoint, start, end);
    },
    async window(project, endpoint, start, end, limit): Promise<TrafficWindow> {
      const reservoir = new Reservoir<LoggedRowText>(limit, seedOf(`${project}\0${endpoint}\0${start}\0${end}`));
      for (const row of await rows(project, endpoint, start, end)) reservoir.offer(row);
      const sample = reservoir.sampled ? [...reservoir.sample()].sort((a, b) => a.at - b.at) : reservoir.sample();
      return {
        rows: sample.map((r): WindowRow => ({
          id: r.id,
          at: r.at,
          features: JSON.parse(r.features) as Record<string, unknown>,
          output: r.output === null ? null : (JSON.parse(r.output) as unknown),
          error: r.error,
          latencyMs: r.latencyMs,
          ...(r.label !== null && r.label !== undefined ? { label: JSON.parse(r.label) as unknown } : {}),
        })),
        total: reservoir.seen,
      };
    },
  };
}

/** What each reader answers, as text (key order included: the export's bytes depend on it). */
async function reads(source: TrafficSource, exportDir: string) {
  const window = async (limit: number) => JSON.stringify(await source.window(P, E, AT - 1, AT + 60_000, limit));
  const artifacts = await FsArtifactStore.create({ root: exportDir, fsync: false });
  // Only the version's record is left out: the blob (what its hash is of) is written as the exporter writes it.
  const blobs: string[] = [];
  const data = {
    createVersion: (_actor: string, _project: string, _name: string, spec: { entries: Array<{ sha256: string }> }) => {
      blobs.push(readFileSync(artifacts.pathOf(spec.entries[0]!.sha256), "utf8"));
      return Promise.resolve({ version: { version: 1 }, created: true });
    },
  } as unknown as DataService;
  const exporter = new TrafficExporter(source, artifacts, () => data);
  const exported = await exporter.export("admin", {
    project: P,
    endpoint: E,
    since: AT - 1,
    until: AT + 60_000,
    dataset: "t",
    labelledOnly: false,
  });
  const labelledOnly = await exporter.export("admin", {
    project: P,
    endpoint: E,
    since: AT - 1,
    until: AT + 60_000,
    dataset: "t",
  });
  const scanned: LoggedRowText[] = [];
  for await (const page of source.scan(P, E, AT - 1, AT + 60_000)) scanned.push(...page);
  return {
    scanned: JSON.stringify(scanned),
    full: await window(100_000),
    sampled: await window(250),
    exports: blobs,
    rows: exported.rows,
    labelled: labelledOnly.rows,
  };
}

for (const kind of STORE_KINDS) {
  it.skipIf(kind === "postgres" && !postgresAvailable())(
    `migration 0503 moves the per-row log into batches, and every reader answers as before [${kind}]`,
    async () => {
      const { requests, labelled } = traffic();
      const old = await emptyDatabase(kind);
      const fresh = await emptyDatabase(kind);
      const dir = mkdtempSync(join(tmpdir(), "tandem-batches-export-"));
      try {
        // The previous release's store and rows, and what its reader answered.
        const oldStore = await SqlMetadataStore.create({ database: old.database, migrate: false });
        // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the previous release's schema
        const oldDb = oldStore.db as unknown as Kysely<any>;
        await migrateToLatest(oldDb as Kysely<unknown>, oldStore.dialect, (name) => name !== MIGRATION);
        await writeOldRows(oldDb, requests);
        await oldDb
          .insertInto("prediction_feedback")
          .values(
            labelled.map((id, i) => ({
              prediction_id: id,
              project: P,
              endpoint: E,
              label: JSON.stringify(i % 2),
              at: AT,
            })),
          )
          .execute();
        const before = await reads(oldTrafficSource(oldDb), join(dir, "old"));
        const oldCount = await oldDb
          .selectFrom("predictions")
          .select((eb) => eb.fn.countAll().as("n"))
          .executeTakeFirstOrThrow();

        // The same store upgraded: every row moved, and readers answer byte for byte the same.
        await migrateToLatest(oldDb as Kysely<unknown>, oldStore.dialect);
        const migratedLog = new SqlPredictionLogStore(oldStore);
        const migrated = await reads(new SqlTrafficSource(oldStore), join(dir, "migrated"));
        expect(migrated).toEqual(before);
        expect(before.rows).toBeGreaterThan(1500);
        expect(JSON.parse(before.sampled).rows).toHaveLength(250);
        // A 64-row request's rows, written one by one, are one batch now.
        const batches = await oldStore.db.selectFrom("prediction_batches").select(["rows"]).execute();
        expect(batches.length).toBeLessThan(50);
        expect(batches.reduce((sum, b) => sum + Number(b.rows), 0)).toBe(Number(oldCount.n));
        await expect(oldDb.selectFrom("predictions").selectAll().execute()).rejects.toThrow();
        // A process that died after the move's commit but before the migration's record runs it again:
        // nothing is left to move, nothing changes.
        await migration.up(oldDb, oldStore.dialect, columnTypes(oldStore.dialect));
        expect(await reads(new SqlTrafficSource(oldStore), join(dir, "again"))).toEqual(before);

        // Today's writer on a new store: one batch per request, the same answers again.
        const newStore = await SqlMetadataStore.create({ database: fresh.database });
        const newLog = new SqlPredictionLogStore(newStore);
        await newLog.append(requests, []);
        const unknown = await newLog.addFeedback(
          labelled.map((id, i) => ({ predictionId: id, project: P, endpoint: E, label: i % 2, at: AT })),
        );
        expect(unknown).toEqual([]);
        expect(await reads(new SqlTrafficSource(newStore), join(dir, "new"))).toEqual(before);

        for (const [store, log] of [
          [oldStore, migratedLog],
          [newStore, newLog],
        ] as const) {
          // Recent rows: every logged prediction, newest first, each as answered.
          const recent = await log.recent(P, E, 100_000);
          expect(recent.map((r) => r.id).sort()).toEqual(requests.flatMap((r) => r.ids).sort());
          expect(recent.slice(0, 3).map((r) => r.id)).toEqual(
            [...requests[requests.length - 1]!.ids].reverse().concat(requests[requests.length - 2]!.ids),
          );
          expect((await log.recent(P, E, 70)).map((r) => r.id)).toEqual(recent.slice(0, 70).map((r) => r.id));
          // Feedback by the ids responses gave, inside a request, and for ids never logged.
          const inside = requests[3]!.ids[17]!;
          const next =
            requests[3]!.ids[63]!.slice(0, 24) +
            (Number.parseInt(requests[3]!.ids[63]!.slice(24), 16) + 1).toString(16).padStart(8, "0");
          const missing = await log.addFeedback(
            [inside, "plain-34-b", next, "plain-34-c"].map((predictionId) => ({
              predictionId,
              project: P,
              endpoint: E,
              label: 1,
              at: AT,
            })),
          );
          // The id after a request's last is the next request's first (fastId counts on), never a row of this one.
          expect(missing).toEqual(next === requests[4]!.ids[0] ? ["plain-34-c"] : [next, "plain-34-c"]);
          // The maturity grade counts predictions, not batches.
          await store.db
            .insertInto("serving_endpoints")
            .values({
              project: P,
              name: E,
              model: "m",
              primary_selector: "{}",
              slo: "{}",
              status: "ready",
              revision: 1,
              created_at: AT,
              updated_at: AT,
              created_by: "admin",
            } as never)
            .execute();
          const facts = await new SqlMaturityFacts(store).collect(P);
          expect(facts.endpoints.find((e) => e.name === E)?.predictions).toBe(recent.length);
          await log.close();
        }
        await newStore.close();
        await oldStore.close();
      } finally {
        rmSync(dir, { recursive: true, force: true });
        await old.drop();
        await fresh.drop();
      }
    },
    120_000,
  );
}
