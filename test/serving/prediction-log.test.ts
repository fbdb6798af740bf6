/**
 * The prediction log on SQLite and Postgres: batched appends with their aggregates, window stats
 * (requests, errors, p95), feedback matching, and retention.
 */
import BetterSqlite3 from "better-sqlite3";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { describe, expect, it } from "vitest";
import type { LoggedRequest, PredictionLogEntry } from "../../src/core/serving/model.js";
import { BATCH_COLUMNS, type WireRequest } from "../../src/stores/metadata/prediction-log-rows.mjs";
import { fastId } from "../../src/core/serving/fast-id.js";
import { buildCodec } from "../../src/core/serving/codec.js";
import { PredictionLogger, requestOfEntry } from "../../src/core/serving/prediction-log.js";
import { buildSignature } from "../../src/core/training/signature.js";
import { LATENCY_BOUNDS_MS } from "../../src/core/serving/slo.js";
import { PredictionLogThread } from "../../src/stores/metadata/prediction-log-thread.js";
import { SqlPredictionLogStore } from "../../src/stores/metadata/prediction-log-store.js";
import { SqlMetadataStore } from "../../src/stores/metadata/sql-metadata-store.js";
import { describeStores } from "../helpers/stores.js";

const entry = (
  id: string,
  at: number,
  slot: "primary" | "canary",
  latencyMs: number,
  error: string | null = null,
): PredictionLogEntry => ({
  id,
  project: "p",
  endpoint: "e",
  model: "m",
  version: slot === "primary" ? 1 : 2,
  slot,
  requestId: `r-${id}`,
  at,
  latencyMs,
  features: { x: 1 },
  output: error ? null : { label: 1 },
  error,
});

/** An id with one left out before it (as if another request took it). */
function afterGap(): string {
  fastId();
  return fastId();
}

describeStores("prediction log", (getStore, kind, getDatabase) => {
  it("writes batches with aggregates, answers window stats, matches feedback, and drops old rows", async () => {
    const log = new SqlPredictionLogStore(getStore());
    // A long flush window: nothing is written until flush() (no write per request).
    const logger = new PredictionLogger(log, { flushMs: 60_000 });
    const now = Date.now();
    for (let i = 0; i < 40; i++) logger.add([entry(`a${i}`, now, "primary", 1 + (i % 4))], false, 1 + (i % 4));
    for (let i = 0; i < 10; i++) logger.add([entry(`c${i}`, now, "canary", 40, i < 3 ? "boom" : null)], i < 3, 40);
    expect(await log.recent("p", "e", 100)).toHaveLength(0);
    await logger.flush();
    expect(await log.recent("p", "e", 100)).toHaveLength(50);

    const stats = await log.windowStats("p", "e", now - 1000);
    const primary = stats.find((s) => s.slot === "primary")!;
    const canary = stats.find((s) => s.slot === "canary")!;
    expect(primary).toMatchObject({ version: 1, requests: 40, errors: 0 });
    expect(primary.p95Ms).toBeLessThanOrEqual(5);
    expect(canary).toMatchObject({ version: 2, requests: 10, errors: 3 });
    // Seven successes at 40 ms, all in the (30, 50] bucket: p95 is interpolated inside it (30 + 20 × 6.65/7).
    expect(canary.p95Ms).toBeCloseTo(49, 10);
    expect(canary.latencyHist[LATENCY_BOUNDS_MS.indexOf(50)]).toBe(7);
    expect(canary.latencyHist.reduce((a, b) => a + b, 0)).toBe(7);

    const unknown = await log.addFeedback([
      { predictionId: "a1", project: "p", endpoint: "e", label: 1, at: now },
      { predictionId: "zzz", project: "p", endpoint: "e", label: 0, at: now },
    ]);
    expect(unknown).toEqual(["zzz"]);

    await log.append([requestOfEntry(entry("old", now - 40 * 86_400_000, "primary", 1))], []);
    expect(await log.deleteBefore(now - 30 * 86_400_000)).toBe(1);
    expect((await log.recent("p", "e", 100)).map((e) => e.id)).not.toContain("old");
    await log.close();
  });

  it.runIf(kind === "postgres")(
    "never waits for a stalled database: past its bound it drops and counts, and logs the rest once",
    async () => {
      const log = new SqlPredictionLogStore(getStore());
      const drops: number[] = [];
      const logger = new PredictionLogger(log, {
        flushMs: 5,
        maxBuffered: 20,
        maxPending: 100,
        onDrop: (n) => drops.push(n),
      });
      // Another session holds the table's lock: every write waits, as on an overloaded database.
      const holder = new pg.Client({ connectionString: (getDatabase() as { url: string }).url });
      await holder.connect();
      await holder.query("begin");
      await holder.query("lock table prediction_batches in exclusive mode");
      const now = Date.now();
      for (let i = 0; i < 300; i++) {
        logger.add([entry(`s${i}`, now, "primary", 1)], false, 1);
        if (i % 10 === 9) await new Promise((r) => setTimeout(r, 2));
      }
      // Every add returned while the database was stalled; the bound dropped (and counted) the excess.
      expect(logger.dropped).toBeGreaterThan(0);
      expect(drops.reduce((a, b) => a + b, 0)).toBe(logger.dropped);
      await holder.query("commit");
      await holder.end();
      await logger.flush();
      const ids = (await log.recent("p", "e", 1000)).map((e) => e.id).filter((id) => id.startsWith("s"));
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids.length + logger.dropped).toBe(300);
      await log.close();
    },
  );

  it("logs a burst larger than one flush whole: every row of every request, as answered, each by its id", async () => {
    const log = new SqlPredictionLogStore(getStore());
    // A write at 1 000 waiting rows (5 000 when serving): the burst below is five times that, added at
    // once: its first 1 000 rows go as one write, the rest wait for it and go as the next.
    const logger = new PredictionLogger(log, { maxBuffered: 1_000 });
    const codec = buildCodec(
      buildSignature({
        task: "regression",
        algorithm: "t",
        features: [
          ...Array.from({ length: 19 }, (_, i) => ({ name: `f${i}`, type: "numeric" as const })),
          { name: "city", type: "categorical" as const, categories: ["Bern"] },
        ],
      }),
    );
    const at = Date.now();
    const endpoint = `burst-${kind}`;
    const value = (r: number, c: number) => ((r * 31 + c * 7) % 2001) / 1000 - 1 + (c === 3 ? 1e-9 : 0);
    const instance = (r: number, withCity: boolean) => ({
      ...Object.fromEntries(Array.from({ length: 19 }, (_, c) => [`f${c}`, value(r, c)])),
      city: withCity ? (r % 2 ? "Bern" : 'a "quoted"\ttab') : r,
    });
    // 64-row requests (the serving bench's), every tenth with a category string among the numbers,
    // and requests of 1, 3, 65 and 150 rows. Ids as the runtime makes them (one after the other, so
    // a request is one stored batch), except two requests: ids that are not hex (a batch per row)
    // and hex ids with a gap in the middle (two batches).
    const sizes = [...Array.from({ length: 80 }, () => 64), 1, 3, 65, 150, 1, 5, 6];
    const expected = new Map<string, { features: unknown; output: unknown; request: string }>();
    let n = 0;
    sizes.forEach((size, k) => {
      const instances = Array.from({ length: size }, () => instance(n++, k % 10 === 0));
      const ids =
        k === sizes.length - 2
          ? instances.map((_, i) => `burst-${k}-${i}`)
          : k === sizes.length - 1
            ? instances.map((_, i) => (i === 3 ? afterGap() : fastId()))
            : instances.map(() => fastId());
      const outputs = instances.map((_, i) => ({
        label: (k + i) % 2,
        probabilities: { "0": i / size, "1": 1 - i / size },
      }));
      ids.forEach((id, i) => expected.set(id, { features: instances[i], output: outputs[i], request: `req-${k}` }));
      logger.addRequest(
        {
          ...requestOfEntry(entry(ids[0]!, at + (k % 7), "primary", 2)),
          endpoint,
          requestId: `req-${k}`,
          ids,
          features: codec.encode(instances).logged,
          outputs: JSON.stringify(outputs),
        },
        false,
      );
    });
    expect(n).toBeGreaterThan(5 * 1_000);
    await logger.close();
    expect(logger.dropped).toBe(0);
    const db = getStore().db;
    // 64-row requests are one stored row each.
    const batches = await db
      .selectFrom("prediction_batches")
      .select(["rows", "request_id"])
      .where("endpoint", "=", endpoint)
      .execute();
    expect(batches.filter((b) => b.request_id === "req-0").map((b) => Number(b.rows))).toEqual([64]);
    expect(
      batches
        .filter((b) => b.request_id === `req-${sizes.length - 1}`)
        .map((b) => Number(b.rows))
        .sort(),
    ).toEqual([3, 3]);
    expect(batches.reduce((sum, b) => sum + Number(b.rows), 0)).toBe(n);
    // Every row holds its own request's shared fields, and its own features and output.
    const rows = await log.recent("p", endpoint, 100_000);
    expect(rows).toHaveLength(n);
    expect(new Set(rows.map((r) => r.id))).toEqual(new Set(expected.keys()));
    expect(rows.map((r) => [r.id, r.requestId, r.latencyMs, r.error, r.slot, r.version])).toEqual(
      rows.map((r) => [r.id, expected.get(r.id)!.request, 2, null, "primary", 1]),
    );
    expect(rows.map((r) => [r.id, r.features, r.output])).toEqual(
      rows.map((r) => [r.id, expected.get(r.id)!.features, expected.get(r.id)!.output]),
    );
    // Feedback finds any row inside a packed request by its id, and no id next to the requests' own.
    const inside = [...expected.keys()].filter((_, i) => i % 97 === 5);
    const beside = `${inside[0]!.slice(0, 24)}${(Number.parseInt(inside[0]!.slice(24), 16) + 1e6).toString(16).padStart(8, "0")}`;
    expect(
      await log.addFeedback(
        [...inside, beside, "burst-85-2", "burst-85-9"].map((predictionId) => ({
          predictionId,
          project: "p",
          endpoint,
          label: 1,
          at,
        })),
      ),
    ).toEqual([beside, "burst-85-9"]);
    // Another endpoint's feedback does not reach these rows.
    expect(await log.addFeedback([{ predictionId: inside[1]!, project: "p", endpoint: "e", label: 1, at }])).toEqual([
      inside[1],
    ]);
    await log.close();
  });

  it("retention drops the old rows of every project and endpoint, and keeps the newer ones", async () => {
    const log = new SqlPredictionLogStore(getStore());
    const now = Date.now();
    const old = now - 40 * 86_400_000;
    const keys = [
      ["ret-a", "e1"],
      ["ret-a", "e2"],
      ["ret-b", "e1"],
      ["ret-b", "z"],
    ] as const;
    await log.append(
      keys.flatMap(([project, endpoint], k) =>
        [old, old + 1, now].map((at, i) =>
          requestOfEntry({ ...entry(`ret-${k}-${i}`, at, "primary", 1), project, endpoint }),
        ),
      ),
      [],
    );
    // Rows of other tests' endpoints are in the same table: only the rows before the bound go.
    const batches = () => getStore().db.selectFrom("prediction_batches").select(["id_head", "at", "rows"]).execute();
    const rowsOf = (list: Array<{ rows: number | string }>) => list.reduce((sum, b) => sum + Number(b.rows), 0);
    const before = await batches();
    const deleted = await log.deleteBefore(now - 30 * 86_400_000);
    const left = await batches();
    expect(deleted).toBe(rowsOf(before.filter((r) => Number(r.at) < now - 30 * 86_400_000)));
    expect(deleted).toBeGreaterThanOrEqual(8);
    // These ids are not hex: each is a batch keyed by itself.
    expect(left.map((r) => r.id_head).filter((id) => id.startsWith("ret-"))).toEqual(
      expect.arrayContaining(keys.map((_, k) => `ret-${k}-2`)),
    );
    expect(left.filter((r) => r.id_head.startsWith("ret-"))).toHaveLength(keys.length);
    expect(rowsOf(left)).toBe(rowsOf(before) - deleted);
    await log.close();
  });

  it("keeps features and outputs exactly as answered: strings, nulls, nested values and full-precision numbers", async () => {
    const log = new SqlPredictionLogStore(getStore());
    await expectExactRoundTrip(log);
    await log.close();
  });
});

// An in-memory SQLite database has no file for a second connection: its batches are written in
// process, through the same JSON unpacking as Postgres. Same promises.
it("on an in-memory SQLite database, keeps answers exactly and answers window stats", async () => {
  const store = await SqlMetadataStore.create({ database: { kind: "sqlite", file: ":memory:" } });
  try {
    const log = new SqlPredictionLogStore(store);
    await expectExactRoundTrip(log);
    const logger = new PredictionLogger(log, { flushMs: 60_000 });
    const now = Date.now();
    for (let i = 0; i < 5; i++) logger.add([entry(`m${i}`, now, "canary", 40, i < 2 ? "boom" : null)], i < 2, 40);
    await logger.flush();
    expect((await log.windowStats("p", "e", now - 1000)).find((s) => s.slot === "canary")).toMatchObject({
      requests: 5,
      errors: 2,
    });
  } finally {
    await store.close();
  }
});

async function expectExactRoundTrip(log: SqlPredictionLogStore): Promise<void> {
  const at = Date.now();
  const outputs: unknown[] = ["cat", 0.30000000000000004, { label: "a", probabilities: { a: 0.9, b: 0.1 } }, [1, 2]];
  const features = (i: number) => ({ x: 1e-7 * (i + 1), name: 'quote " and \\ backslash', tags: ["a", null] });
  await log.append(
    outputs.map((output, i) =>
      requestOfEntry({ ...entry(`o${i}`, at + i, "primary", 1), features: features(i), output }),
    ),
    [],
  );
  await log.append([requestOfEntry({ ...entry("failed", at + 9, "primary", 1, "boom"), output: null })], []);
  // An ONNX runner's request: features in columns, as a codec reads them (numbers in full
  // precision; null, booleans and strings beside), with the characters COPY and JSON escape.
  const codec = buildCodec(
    buildSignature({
      task: "regression",
      algorithm: "t",
      features: [
        { name: "n", type: "numeric" },
        { name: 'odd "name"\t', type: "numeric" },
        { name: "city", type: "categorical", categories: ["Zürich"] },
      ],
    }),
  );
  const city = 'tab\there, newline\nthere, back\\slash "q" Zürich';
  const instances = [
    { n: 0.1 + 0.2, 'odd "name"\t': -0, city },
    { n: 1e21, 'odd "name"\t': null, city: 7 },
    [-1.5e-300, true, null],
  ];
  const columns = codec.encode(instances).logged;
  const answers = [{ value: 1 }, { value: 2.5 }, { value: -3 }];
  await log.append(
    [
      {
        ...requestOfEntry(entry("col0", at + 20, "primary", 2)),
        ids: ["col0", "col1", "col2"],
        features: columns,
        outputs: answers,
      },
    ],
    [],
  );
  const stored = new Map((await log.recent("p", "e", 100)).map((e) => [e.id, e]));
  outputs.forEach((output, i) => {
    expect(stored.get(`o${i}`)!.output).toEqual(output);
    expect(stored.get(`o${i}`)!.features).toEqual(features(i));
  });
  expect(stored.get("failed")).toMatchObject({ output: null, error: "boom" });
  expect(stored.get("col0")!.features).toEqual({ n: 0.30000000000000004, 'odd "name"\t': 0, city });
  expect(stored.get("col1")!.features).toEqual({ n: 1e21, 'odd "name"\t': null, city: 7 });
  expect(stored.get("col2")!.features).toEqual({ n: -1.5e-300, 'odd "name"\t': true, city: null });
  expect([0, 1, 2].map((i) => stored.get(`col${i}`)!.output)).toEqual(answers);
}

describe("prediction log writer thread", () => {
  it("reports a failed write with the database's reason, and keeps working for the next batch", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tandem-log-thread-"));
    const file = join(dir, "plain.db");
    try {
      const thread = new PredictionLogThread({ kind: "sqlite", file, busyTimeoutMs: 1000 });
      const row = toWireForTest(requestOfEntry({ ...entry("id1", Date.now(), "primary", 1.5), features: { x: 1 } }));
      // A file without Tandem's tables: the worker's own connection says what is missing.
      await expect(thread.append([row], null)).rejects.toThrow(
        /prediction log write failed: no such table: prediction_batches/,
      );
      const db = new BetterSqlite3(file);
      db.exec(`create table prediction_batches (${BATCH_COLUMNS.join(", ")}, primary key (id_head, id_first))`);
      await thread.append([row], null);
      expect(db.prepare("select id_head, id_first, rows, features, outputs from prediction_batches").all()).toEqual([
        { id_head: "id1", id_first: -1, rows: 1, features: '[{"x":1}]', outputs: '[{"label":1}]' },
      ]);
      db.close();
      await thread.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** The one-row request as the writer thread receives it (what the store sends for a records request). */
function toWireForTest(r: LoggedRequest): WireRequest {
  return {
    ...r,
    names: null,
    values: null,
    others: null,
    featureJson: (r.features as Array<Record<string, unknown>>).map((f) => JSON.stringify(f)),
    outputs: r.outputs === null ? null : JSON.stringify(r.outputs),
  };
}
