/**
 * Monitors against a real server: a dataset version as the reference, logged traffic with feedback
 * labels as the current window, checks that pass on similar traffic and fail on shifted traffic, one
 * stored result per window, and the alert named after the monitor opening and resolving.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openBrowser } from "../e2e/browser.js";
import { newId } from "../../src/core/ids.js";
import { computeDrift } from "../../src/core/monitoring/drift.js";
import { requestOfEntry } from "../../src/core/serving/prediction-log.js";
import { windowData } from "../../src/core/monitoring/monitors/window.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import type { StoreKind } from "../helpers/stores.js";
import { postgresAvailable } from "../helpers/stores.js";

/** A deterministic PRNG so every run sees the same data. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function referenceCsv(rows: number): string {
  const r = rng(1);
  const lines = ["distance,hour,origin,target"];
  for (let i = 0; i < rows; i++) {
    const distance = 200 + r() * 1800;
    const hour = Math.floor(r() * 24);
    const origin = ["SFO", "ORD", "ATL", "BOS"][Math.floor(r() * 4)]!;
    const target = r() < 0.2 ? 1 : 0;
    lines.push(`${distance.toFixed(2)},${hour},${origin},${target}`);
  }
  return `${lines.join("\n")}\n`;
}

async function logTraffic(
  t: TestServer,
  options: { rows: number; at: number; shift: number; delayedShare: number; seed: number },
) {
  const r = rng(options.seed);
  const db = t.server.opened.sql.db;
  const predictions = [];
  const feedback = [];
  for (let i = 0; i < options.rows; i++) {
    const id = newId();
    const label = r() < options.delayedShare ? 1 : 0;
    // A model that is right 80% of the time.
    const predicted = r() < 0.8 ? label : 1 - label;
    const p1 = predicted === 1 ? 0.6 + r() * 0.4 : r() * 0.4;
    predictions.push(
      requestOfEntry({
        id,
        project: "default",
        endpoint: "flights",
        model: "flights-delay",
        version: 1,
        slot: "primary",
        requestId: newId(),
        at: options.at + i,
        latencyMs: 2 + r(),
        features: {
          distance: 200 + r() * 1800 + options.shift,
          hour: Math.floor(r() * 24),
          origin: ["SFO", "ORD", "ATL", "BOS"][Math.floor(r() * 4)],
        },
        output: { label: predicted, probabilities: { "0": 1 - p1, "1": p1 } },
        error: null,
      }),
    );
    feedback.push({
      prediction_id: id,
      project: "default",
      endpoint: "flights",
      label: JSON.stringify(label),
      at: options.at + i,
    });
  }
  for (let i = 0; i < predictions.length; i += 200) {
    await t.server.opened.services.serving.log.append(predictions.slice(i, i + 200), []);
    await db
      .insertInto("prediction_feedback")
      .values(feedback.slice(i, i + 200))
      .execute();
  }
}

for (const kind of ["sqlite", "postgres"] as StoreKind[]) {
  describe.skipIf(kind === "postgres" && !postgresAvailable())(`monitors over HTTP [${kind}]`, () => {
    let t: TestServer;
    const hour = 3_600_000;
    const base = Date.UTC(2026, 0, 1);

    beforeAll(async () => {
      t = await startTestServer({ store: kind });
      const services = t.server.opened.services;
      const blob = await services.artifacts.putBlob(referenceCsv(3000));
      await services.data.createVersion("admin", "default", "flights-ref", {
        kind: "file",
        entries: [{ path: "flights.csv", sha256: blob.sha256, size: blob.size }],
      });
      const put = await t.api("PUT", "/api/v1/projects/default/monitors/flights-drift", {
        endpoint: "flights",
        window: "1h",
        reference: "dataset://flights-ref@latest",
        checks: [
          "data_drift",
          { target_drift: { test: "z" } },
          { performance: { metric: "accuracy", min: 0.7 } },
          { fairness: { attribute: "origin", metric: "demographic_parity_difference", max: 0.3 } },
          { latency: { p95_ms: 50 } },
          { error_rate: { max: 0.01 } },
        ],
      });
      expect(put.status).toBe(200);
    });
    afterAll(async () => {
      await t?.stop();
    });

    it("passes on traffic like the reference and stores one result for the window", async () => {
      await logTraffic(t, { rows: 2000, at: base, shift: 0, delayedShare: 0.2, seed: 2 });
      const run = await t.api<{
        status: string;
        rows: number;
        checks: Array<{ check: string; passed: boolean; details: Record<string, unknown> }>;
      }>("POST", "/api/v1/projects/default/monitors/flights-drift/run", { window_end: base + hour });
      expect(run.status).toBe(200);
      expect(run.body.rows).toBe(2000);
      expect(run.body.status).toBe("ok");
      expect(run.body.checks.map((c) => c.check)).toEqual([
        "data_drift",
        "target_drift",
        "performance",
        "fairness",
        "latency",
        "error_rate",
      ]);
      const drift = run.body.checks[0]!.details as { columns: Array<{ name: string; test: string }> };
      // Reference > 1000 rows: Evidently's distances.
      expect(drift.columns.find((c) => c.name === "distance")!.test).toBe("wasserstein");
      expect(drift.columns.find((c) => c.name === "origin")!.test).toBe("jensenshannon");
      const alerts = await t.api<{ alerts: unknown[] }>("GET", "/api/v1/projects/default/alerts?status=firing");
      expect(alerts.body.alerts).toHaveLength(0);
    });

    it("fails on shifted traffic, raises the alert with its evidence, and resolves it when traffic recovers", async () => {
      await logTraffic(t, { rows: 2000, at: base + hour, shift: 900, delayedShare: 0.45, seed: 3 });
      const run = await t.api<{
        id: string;
        status: string;
        alert_id: string;
        checks: Array<{ check: string; passed: boolean }>;
      }>("POST", "/api/v1/projects/default/monitors/flights-drift/run", { window_end: base + 2 * hour });
      expect(run.body.status).toBe("failing");
      const failed = run.body.checks.filter((c) => !c.passed).map((c) => c.check);
      expect(failed).toEqual(expect.arrayContaining(["target_drift"]));
      const alert = await t.api<{
        name: string;
        status: string;
        evidence: { result_id: string };
        labels: Record<string, string>;
      }>("GET", `/api/v1/projects/default/alerts/${run.body.alert_id}`);
      expect(alert.body).toMatchObject({
        name: "flights-drift",
        status: "firing",
        labels: { monitor: "flights-drift", endpoint: "flights" },
      });
      expect(alert.body.evidence.result_id).toBe(run.body.id);

      await logTraffic(t, { rows: 2000, at: base + 2 * hour, shift: 0, delayedShare: 0.2, seed: 4 });
      const recovered = await t.api<{ id: string; status: string }>(
        "POST",
        "/api/v1/projects/default/monitors/flights-drift/run",
        { window_end: base + 3 * hour },
      );
      expect(recovered.body.status).toBe("ok");
      const after = await t.api<{
        status: string;
        evidence: { result_id: string; failed: Array<{ check: string }> };
        resolution: { result_id: string; failed: unknown[] } | null;
      }>("GET", `/api/v1/projects/default/alerts/${run.body.alert_id}`);
      expect(after.body.status).toBe("resolved");
      // Still what fired it (the failing window), with the passing window as its resolution.
      expect(after.body.evidence.result_id).toBe(run.body.id);
      expect(after.body.evidence.failed.map((f) => f.check)).toEqual(expect.arrayContaining(["target_drift"]));
      expect(after.body.resolution).toMatchObject({ result_id: recovered.body.id, failed: [] });
      const series = await t.api<{ results: Array<{ status: string; window_end: number }> }>(
        "GET",
        "/api/v1/projects/default/monitors/flights-drift/results",
      );
      expect(series.body.results.map((r) => r.status)).toEqual(["ok", "failing", "ok"]);
      const metrics = await (await fetch(`${t.url}/metrics`)).text();
      expect(metrics).toMatch(/tandem_monitor_failing\{project="default",monitor="flights-drift"\} 0/);
      expect(metrics).toMatch(
        /tandem_monitor_feature_drift_statistic\{project="default",monitor="flights-drift",feature="distance",test="wasserstein"\} [0-9.e-]+/,
      );
      expect(metrics).toMatch(
        /tandem_monitor_performance\{project="default",monitor="flights-drift",metric="accuracy"\} 0\.[0-9]+/,
      );
    });

    it("checks a dataset's newest version against its first: its target column drives target_drift", async () => {
      const services = t.server.opened.services;
      const addVersion = async (csv: string) => {
        const blob = await services.artifacts.putBlob(csv);
        await services.data.createVersion("admin", "default", "flights-months", {
          kind: "file",
          entries: [{ path: "flights.csv", sha256: blob.sha256, size: blob.size }],
        });
      };
      // The reference's `target` column renamed: a dataset names its label as it likes (columns.target).
      const renamed = (csv: string) => csv.replace("distance,hour,origin,target", "distance,hour,origin,delayed");
      await addVersion(renamed(referenceCsv(2000)));
      const put = await t.api("PUT", "/api/v1/projects/default/monitors/months-drift", {
        dataset: "flights-months",
        reference: "dataset://flights-months@1",
        columns: { target: "delayed" },
        checks: [{ target_drift: { test: "z" } }],
      });
      expect(put.status).toBe(200);
      const run = () =>
        t.api<{ status: string; checks: Array<{ check: string; passed: boolean; summary: string }> }>(
          "POST",
          "/api/v1/projects/default/monitors/months-drift/run",
          {},
        );
      const same = await run();
      expect(same.body.checks[0]).toMatchObject({ check: "target_drift", passed: true });
      expect(same.body.checks[0]!.summary).not.toMatch(/skipped/);
      // Half the flights delayed where the reference had a fifth: the labels drifted.
      const later = referenceCsv(2000)
        .split("\n")
        .map((line, i) => (i > 0 && line && i % 2 === 0 ? line.replace(/,0$/, ",1") : line))
        .join("\n");
      await addVersion(renamed(later));
      const drifted = await run();
      expect(drifted.body.status).toBe("failing");
      expect(drifted.body.checks[0]).toMatchObject({ check: "target_drift", passed: false });
    });

    it("exports labelled traffic as a new dataset version, and an identical export as no new version", async () => {
      const body = { since: base, until: base + 2 * hour, as_dataset: "flights-traffic" };
      const first = await t.api<{ dataset: string; version: number; created: boolean; rows: number; labelled: number }>(
        "POST",
        "/api/v1/projects/default/endpoints/flights/export",
        body,
      );
      expect(first.status).toBe(200);
      expect(first.body).toMatchObject({
        dataset: "flights-traffic",
        version: 1,
        created: true,
        rows: 4000,
        labelled: 4000,
      });
      const again = await t.api<{ version: number; created: boolean }>(
        "POST",
        "/api/v1/projects/default/endpoints/flights/export",
        body,
      );
      expect(again.body).toMatchObject({ version: 1, created: false });
      // The exported version is a dataset like any other: readable as a monitor reference.
      const table = await t.server.opened.services.monitors["o"].references.load(
        "default",
        "dataset://flights-traffic@1",
      );
      expect(Object.keys(table)).toEqual(
        expect.arrayContaining(["distance", "hour", "origin", "prediction", "target", "at"]),
      );
      expect(table.target!.length).toBe(4000);
      const none = await t.api<{ error: { message: string } }>(
        "POST",
        "/api/v1/projects/default/endpoints/flights/export",
        { since: base + 500 * hour, until: base + 501 * hour, as_dataset: "x" },
      );
      expect(none.status).toBe(400);
      expect(none.body.error.message).toMatch(/no labelled traffic/);
    });

    it("checks a long window from stored profiles, within the sketches' stated error of the raw rows", async () => {
      const define = (window: string) =>
        t.api("PUT", "/api/v1/projects/default/monitors/flights-long", {
          endpoint: "flights",
          window,
          raw_window_max: "2h",
          reference: "dataset://flights-ref@latest",
          checks: ["data_drift"],
        });
      await define("1h");
      for (let h = 1; h <= 3; h++) {
        const r = await t.api<{ computed_from: string }>("POST", "/api/v1/projects/default/monitors/flights-long/run", {
          window_end: base + h * hour,
        });
        expect(r.body.computed_from).toBe("raw");
      }
      await define("3h");
      type Col = { name: string; statistic: number; error_bound: number | null; test: string };
      const long = await t.api<{ computed_from: string; rows: number; checks: Array<{ details: { columns: Col[] } }> }>(
        "POST",
        "/api/v1/projects/default/monitors/flights-long/run",
        { window_end: base + 3 * hour },
      );
      expect(long.body.computed_from).toBe("profile");
      expect(long.body.rows).toBe(6000);
      // The same check on every raw row of the three hours.
      const services = t.server.opened.services;
      const reference = await services.monitors["o"].references.load("default", "dataset://flights-ref@latest");
      const { rows } = await services.monitors["o"].traffic.window(
        "default",
        "flights",
        base,
        base + 3 * hour,
        100_000,
      );
      const raw = computeDrift(
        { distance: reference.distance!, hour: reference.hour!, origin: reference.origin! },
        windowData(base, base + 3 * hour, rows).table,
        { columns: ["distance", "hour", "origin"] },
      );
      const fromProfile = long.body.checks[0]!.details.columns;
      for (const col of raw.columns) {
        const p = fromProfile.find((c) => c.name === col.name)!;
        expect(p.test).toBe(col.test);
        expect(p.error_bound).not.toBeNull();
        expect(Math.abs(p.statistic - col.statistic)).toBeLessThanOrEqual(p.error_bound! + 1e-9);
      }
    });

    it("writes a self-contained HTML report that renders in headless Chromium without errors", async () => {
      const res = await fetch(`${t.url}/api/v1/projects/default/monitors/flights-drift/report.html`, {
        headers: { authorization: `Bearer ${t.adminToken}` },
      });
      expect(res.status).toBe(200);
      const html = await res.text();
      expect(html).toMatch(/<svg/);
      expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
      for (const feature of ["distance", "hour", "origin"]) expect(html).toContain(feature);
      if (kind !== "sqlite") return; // one browser check is enough
      const dir = mkdtempSync(join(tmpdir(), "tandem-report-"));
      writeFileSync(join(dir, "report.html"), html);
      const browser = await openBrowser();
      try {
        await browser.page.goto(`file://${join(dir, "report.html")}`);
        expect(await browser.page.locator("svg").count()).toBeGreaterThan(3);
        expect(await browser.page.title()).toBe("Monitor flights-drift");
        expect(browser.errors).toEqual([]);
      } finally {
        await browser.close();
      }
    });

    it("records too little traffic as insufficient without touching alerts, and rejects bad definitions by field", async () => {
      const empty = await t.api<{ status: string }>("POST", "/api/v1/projects/default/monitors/flights-drift/run", {
        window_end: base + 100 * hour,
      });
      expect(empty.body.status).toBe("insufficient_data");
      const bad = await t.api<{ error: { message: string } }>("PUT", "/api/v1/projects/default/monitors/broken", {
        endpoint: "flights",
        checks: [{ latency: {} }],
      });
      expect(bad.status).toBe(400);
      expect(bad.body.error.message).toMatch(/monitors\.broken\.checks\[0\]\.latency\.p95_ms/);
    });

    it("samples a window over max_rows uniformly and says so, so the newest (drifted) rows still count", async () => {
      // 2 000 rows in the window; the newer half is shifted. Reading only the oldest 500 (what a
      // row cap did before) sees no drift at all; a uniform sample of 500 sees the shift.
      const start = base + 200 * hour;
      await logTraffic(t, { rows: 1000, at: start, shift: 0, delayedShare: 0.2, seed: 21 });
      await logTraffic(t, { rows: 1000, at: start + 1000, shift: 900, delayedShare: 0.2, seed: 22 });
      const put = await t.api("PUT", "/api/v1/projects/default/monitors/flights-busy", {
        endpoint: "flights",
        window: "1h",
        reference: "dataset://flights-ref@latest",
        // One drifting column of three (distance) is enough to fail.
        checks: [{ data_drift: { drift_share: 0.3 } }],
        max_rows: 500,
      });
      expect(put.status).toBe(200);
      type Result = { id: string; status: string; rows: number; sampled: { rows: number; of: number } | null };
      const run = await t.api<Result>("POST", "/api/v1/projects/default/monitors/flights-busy/run", {
        window_end: start + hour,
      });
      expect(run.body.sampled).toEqual({ rows: 500, of: 2000 });
      expect(run.body.rows).toBe(500);
      expect(run.body.status).toBe("failing");
      const html = await (
        await fetch(`${t.url}/api/v1/projects/default/monitors/flights-busy/report.html`, {
          headers: { authorization: `Bearer ${t.adminToken}` },
        })
      ).text();
      expect(html).toContain("sampled: 500 of 2000");
      // The same window again reads the same sample (seeded by the window): same verdict, same rows.
      const again = await t.api<Result>("POST", "/api/v1/projects/default/monitors/flights-busy/run", {
        window_end: start + hour,
      });
      expect(again.body).toMatchObject({ status: "failing", sampled: { rows: 500, of: 2000 } });
    });
  });
}
