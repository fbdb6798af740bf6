import { describe, expect, it } from "vitest";
import { chooseCanary, routingBucket } from "./traffic.js";

describe("canary choice", () => {
  it("is sticky per routing key and grows monotonically with the percentage", () => {
    for (const key of ["user-1", "user-2", "abc", "z"]) {
      const first = chooseCanary(30, key);
      for (let i = 0; i < 5; i++) expect(chooseCanary(30, key)).toBe(first);
      if (first) expect(chooseCanary(60, key)).toBe(true);
    }
    expect(routingBucket("x")).toBe(routingBucket("x"));
  });

  it("gives about the percentage over many keys", () => {
    let hits = 0;
    for (let i = 0; i < 10_000; i++) if (chooseCanary(10, `k${i}`)) hits++;
    expect(hits).toBeGreaterThan(800);
    expect(hits).toBeLessThan(1200);
    expect(chooseCanary(0, "a")).toBe(false);
    expect(chooseCanary(100, "a")).toBe(true);
  });
});
