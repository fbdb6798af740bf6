import { Histogram, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { FastHistogram, ScrapedCounter } from "./metrics.js";

describe("ScrapedCounter", () => {
  it("shows every count when /metrics is read, across reads and past its bound on label sets", async () => {
    const registry = new Registry();
    const counter = new ScrapedCounter({ name: "t_total", help: "t", labelNames: ["k"], registers: [registry] });
    const inc = (k: string) => counter.inc(k, () => ({ k }));
    inc("a");
    inc("a");
    inc("b");
    expect(await registry.metrics()).toContain('t_total{k="a"} 2');
    inc("a");
    // Past 5 000 label sets the pending counts are handed over before the set is cleared.
    for (let i = 0; i < 5001; i++) inc(`x${i}`);
    inc("a");
    const text = await registry.metrics();
    expect(text).toContain('t_total{k="a"} 4');
    expect(text).toContain('t_total{k="b"} 1');
    expect(text).toContain('t_total{k="x5000"} 1');
    expect(text).toContain('t_total{k="x0"} 1');
  });
});

describe("FastHistogram", () => {
  it("shows the same /metrics lines as prom-client's Histogram for the same observations", async () => {
    const config = {
      name: "t_seconds",
      help: "t",
      labelNames: ["method", "route"] as const,
      buckets: [0.001, 0.01, 0.1, 1],
    };
    const ours = new Registry();
    const theirs = new Registry();
    const fast = new FastHistogram({ ...config, registers: [ours] });
    const prom = new Histogram({ ...config, labelNames: [...config.labelNames], registers: [theirs] });
    // Bound but never observed: no series (prom-client shows none either).
    fast.labels({ method: "GET", route: "/unused" });
    prom.labels({ method: "GET", route: "/unused" });
    const a = { method: "POST", route: '/v2/models/:endpoint/"infer"' };
    const b = { method: "GET", route: "/healthz" };
    const fastA = fast.labels(a);
    const promA = prom.labels(a);
    // Bounds themselves (le is inclusive), values past the last bound, zero, and a sum with decimals.
    for (const v of [0, 0.001, 0.0011, 0.01, 0.05, 0.1, 1, 2.5, 1e-7, 0.3333333]) {
      fastA.observe(v);
      promA.observe(v);
    }
    fast.labels(b).observe(0.02);
    prom.labels(b).observe(0.02);
    const text = await ours.metrics();
    expect(text).toBe(await theirs.metrics());
    expect(text).toContain('t_seconds_bucket{le="0.001",method="POST",route="/v2/models/:endpoint/\\"infer\\""} 3');
    expect(text).toContain('t_seconds_count{method="GET",route="/healthz"} 1');
    expect(() => fastA.observe(Number.NaN)).toThrow(TypeError);
    fast.reset();
    prom.reset();
    expect(await ours.metrics()).toBe(await theirs.metrics());
  });
});
