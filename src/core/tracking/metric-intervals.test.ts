import { describe, expect, it } from "vitest";
import { metricHistoryBulkInterval, sampledSteps, type MetricHistorySource } from "./metric-intervals.js";
import type { MetricPoint } from "./model.js";

/** Histories by run id, answered in pages of 3 points so the paging loop is exercised. */
function source(histories: Record<string, MetricPoint[]>): MetricHistorySource {
  return {
    metricHistory: (_project, runId, _key, q = {}) => {
      const all = histories[runId] ?? [];
      const offset = Number(q.pageToken ?? 0);
      const items = all.slice(offset, offset + 3);
      return Promise.resolve({ items, nextPageToken: offset + 3 < all.length ? String(offset + 3) : null });
    },
  };
}

const points = (steps: number[], value = (s: number) => s / 10): MetricPoint[] =>
  steps.map((step) => ({ key: "loss", value: value(step), timestamp: 1_700_000_000_000 + step, step }));

describe("metric history bulk interval (MLflow's sampling)", () => {
  it("keeps all steps when they fit, evenly spaced ones and the last when they do not", () => {
    const steps = Array.from({ length: 10 }, (_, i) => i * 2);
    expect([...sampledSteps(0, 18, 20, steps)]).toEqual(steps);
    // MLflow: interval 10/4 = 2.5 → indexes 0, 2, 5, 7, plus the last (9).
    expect([...sampledSteps(0, 18, 4, steps)].sort((a, b) => a - b)).toEqual([0, 4, 10, 14, 18]);
    expect([...sampledSteps(5, 9, 10, steps)]).toEqual([6, 8]);
  });

  it("samples across runs together, keeps each run's first and last step, answers run by run", async () => {
    const src = source({ a: points([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]), b: points([3, 11]) });
    const got = await metricHistoryBulkInterval(src, "p", { runIds: ["b", "a"], metricKey: "loss", maxResults: 3 });
    // all steps 0..9, 11 → interval 11/3: indexes 0, 3, 7 → steps 0, 3, 7, last 11; edges 0, 9, 3, 11.
    expect(got.map((p) => `${p.runId}:${p.step}`)).toEqual(["b:3", "b:11", "a:0", "a:3", "a:7", "a:9"]);
    expect(got[0]).toEqual({ runId: "b", key: "loss", value: 0.3, timestamp: 1_700_000_000_003, step: 3 });
  });

  it("limits to the asked step range", async () => {
    const src = source({ a: points([0, 1, 2, 3, 4, 5]) });
    const got = await metricHistoryBulkInterval(src, "p", {
      runIds: ["a"],
      metricKey: "loss",
      startStep: 2,
      endStep: 4,
    });
    expect(got.map((p) => p.step)).toEqual([2, 3, 4]);
  });

  it("refuses what MLflow refuses, with MLflow's words", async () => {
    const src = source({});
    const refuse = (q: Parameters<typeof metricHistoryBulkInterval>[2]) => metricHistoryBulkInterval(src, "p", q);
    await expect(refuse({ runIds: [], metricKey: "m" })).rejects.toThrow(/required parameter 'run_ids'/);
    await expect(refuse({ runIds: ["a"] })).rejects.toThrow(/required parameter 'metric_key'/);
    await expect(refuse({ runIds: Array(101).fill("a"), metricKey: "m" })).rejects.toThrow(/at most 100 run_ids/);
    await expect(refuse({ runIds: ["a"], metricKey: "m", maxResults: 2501 })).rejects.toThrow(/between 1 and 2500/);
    await expect(refuse({ runIds: ["a"], metricKey: "m", startStep: 1 })).rejects.toThrow(/both must be specified/);
    await expect(refuse({ runIds: ["a"], metricKey: "m", startStep: 5, endStep: 1 })).rejects.toThrow(
      /end_step must be greater than start_step/,
    );
  });
});
