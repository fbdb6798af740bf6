import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { ScrapedCounter } from "./metrics.js";

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
