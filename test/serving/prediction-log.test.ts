/**
 * The prediction log on SQLite and Postgres: batched appends with their aggregates, window stats
 * (requests, errors, p95), feedback matching, and retention.
 */
import { expect, it } from "vitest";
import type { PredictionLogEntry } from "../../src/core/serving/model.js";
import { PredictionLogger } from "../../src/core/serving/prediction-log.js";
import { SqlPredictionLogStore } from "../../src/stores/metadata/serving-store.js";
import { describeStores } from "../helpers/stores.js";

describeStores("prediction log", (getStore) => {
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
    expect(canary.p95Ms).toBe(50);

    const unknown = await log.addFeedback([
      { predictionId: "a1", project: "p", endpoint: "e", label: 1, at: now },
      { predictionId: "zzz", project: "p", endpoint: "e", label: 0, at: now },
    ]);
    expect(unknown).toEqual(["zzz"]);

    await log.append([entry("old", now - 40 * 86_400_000, "primary", 1)], []);
    expect(await log.deleteBefore(now - 30 * 86_400_000)).toBe(1);
    expect((await log.recent("p", "e", 100)).map((e) => e.id)).not.toContain("old");
  });
});
