/**
 * The canary judge: its tests give SciPy's numbers (recorded below with the Python that made them),
 * it waits for a minimum sample per arm, its floors keep fast canaries from failing on noise, and
 * over many windows drawn from one distribution it almost never fails a canary that is no worse.
 */
import { describe, expect, it } from "vitest";
import { errorRateGreater, mannWhitneyGreater } from "./canary-tests.js";
import { DEFAULT_SLO, type SloSpec } from "./model.js";
import type { WindowStats } from "./ports.js";
import { histogramPercentile, judgeCanary, latencyBucket, LATENCY_BOUNDS_MS } from "./slo.js";

// /usr/bin/python3 (SciPy 1.10.1):
//   from scipy.stats import mannwhitneyu; import numpy as np
//   e = lambda h: np.repeat(np.arange(len(h)), h)
//   mannwhitneyu(e(canary), e(primary), alternative="greater", method="asymptotic")
const SIMILAR = { canary: [0, 0, 5, 30, 40, 20, 5], primary: [0, 3, 20, 50, 60, 15, 2] };
const SLOWER = { canary: [0, 0, 0, 0, 2, 10, 30, 40, 18], primary: [0, 0, 5, 30, 40, 20, 5, 0, 0] };
const SCIPY_MWU = [
  { name: "slightly slower", ...SIMILAR, u: 9180, p: 0.0007848037002507284 },
  { name: "much slower", ...SLOWER, u: 9685, p: 1.5882554269142786e-31 },
  { name: "faster", canary: SIMILAR.primary, primary: SIMILAR.canary, u: 5820, p: 0.9992202537452508 },
];

//   from scipy.stats import chi2_contingency
//   chi2, p2, _, _ = chi2_contingency([[xc, nc - xc], [xp, np - xp]], correction=False)
//   p = p2 / 2 if xc / nc > xp / np else 1 - p2 / 2
const SCIPY_PROPORTIONS = [
  { canary: [12, 300], primary: [9, 2700], chi2: 52.22270176952956, p: 2.4774990380365103e-13 },
  { canary: [3, 150], primary: [2, 1350], chi2: 13.935340022296545, p: 9.460372951368227e-5 },
  { canary: [1, 100], primary: [5, 900], chi2: 0.29808480512705876, p: 0.2925427872216998 },
];

/** Moves every request `by` buckets up: the same ranks (so the same U and p), slower milliseconds. */
const shift = (hist: number[], by: number) => [...new Array<number>(by).fill(0), ...hist];

function arm(slot: "primary" | "canary", hist: number[], errors = 0): WindowStats {
  const ok = hist.reduce((a, b) => a + b, 0);
  return {
    slot,
    version: slot === "primary" ? 1 : 2,
    requests: ok + errors,
    errors,
    p95Ms: histogramPercentile(hist, 95),
    latencyHist: hist,
  };
}

const judge = (canary: WindowStats, primary: WindowStats, slo: Partial<SloSpec> = {}) =>
  judgeCanary({ ...DEFAULT_SLO, ...slo }, [canary, primary], 2, 1);

describe("canary tests against SciPy", () => {
  it.each(SCIPY_MWU)("Mann-Whitney U, canary $name", ({ canary, primary, u, p }) => {
    const r = mannWhitneyGreater(canary, primary);
    expect(r.statistic).toBe(u);
    expect(r.pValue).toBeCloseTo(p, 12);
    expect(Math.abs(r.pValue - p) / p).toBeLessThan(1e-6);
  });

  it.each(SCIPY_PROPORTIONS)("two-proportion Z-test, canary $canary vs primary $primary", (c) => {
    const r = errorRateGreater(
      { errors: c.canary[0]!, requests: c.canary[1]! },
      { errors: c.primary[0]!, requests: c.primary[1]! },
    );
    expect(r.statistic ** 2).toBeCloseTo(c.chi2, 9);
    expect(Math.abs(r.pValue - c.p) / c.p).toBeLessThan(1e-6);
  });

  it("gives no evidence when every request shares a bucket or no one erred", () => {
    expect(mannWhitneyGreater([0, 50], [0, 500]).pValue).toBe(1);
    expect(errorRateGreater({ errors: 0, requests: 100 }, { errors: 0, requests: 900 }).pValue).toBe(0.5);
  });
});

describe("p95 from the latency histogram", () => {
  it("interpolates inside the bucket, as Prometheus' histogram_quantile does", () => {
    // 100 requests in (2, 3] ms: the 95th is 95% of the way through the bucket.
    const hist = new Array<number>(LATENCY_BOUNDS_MS.length + 1).fill(0);
    hist[latencyBucket(2.5)] = 100;
    expect(histogramPercentile(hist, 95)).toBeCloseTo(2.95, 10);
    // 90 fast, 10 in (30, 50]: rank 95 is half-way through the slow bucket.
    hist[latencyBucket(2.5)] = 90;
    hist[latencyBucket(40)] = 10;
    expect(histogramPercentile(hist, 95)).toBeCloseTo(40, 10);
    expect(histogramPercentile([], 95)).toBeNull();
  });
});

describe("judgeCanary", () => {
  it("keeps watching below the minimum sample per arm (the quickstart's 39 requests)", () => {
    const v = judge(arm("canary", shift([2, 10, 12, 15], 8)), arm("primary", [0, 0, 400]));
    expect(v).toMatchObject({ verdict: "insufficient_data", requests: 39, primaryRequests: 400 });
    expect(v.reason).toBe("keep watching: canary 39 and primary 400 requests, 100 each needed for a verdict");
    expect(judge(arm("canary", [0, 0, 400]), arm("primary", [0, 0, 99])).verdict).toBe("insufficient_data");
  });

  it("fails a canary that is significantly slower past the floor, margin and ratio, naming all of it", () => {
    // Shifted 8 buckets: canary 75–300 ms, primary 30–150 ms.
    const v = judge(arm("canary", shift(SLOWER.canary, 8)), arm("primary", shift(SLOWER.primary, 8)));
    expect(v.verdict).toBe("breach");
    if (v.verdict !== "breach") return;
    expect(v.reason).toBe(
      "latency SLO: canary p95 272.2 ms (100 requests) vs primary p95 100.0 ms (100), Mann-Whitney p = 1.6e-31: " +
        "slower beyond the 50 ms floor, the 5 ms margin and ×2",
    );
    const latency = v.judgements.find((j) => j.slo === "latency")!;
    expect(latency).toMatchObject({ canaryRequests: 100, primaryRequests: 100, passed: false });
    expect(latency.pValue).toBeCloseTo(1.5882554269142786e-31, 40);
  });

  it("passes a slower canary under the 50 ms floor, within 5 ms of the primary, or within the ratio", () => {
    const fast = judge(arm("canary", SLOWER.canary), arm("primary", SLOWER.primary));
    expect(fast.verdict).toBe("healthy");
    expect(fast.reason).toContain("p95 under the 50 ms floor");
    // Both in 50–75 ms; the canary's p95 1.25 ms above the primary's, though the difference is significant.
    const close = judge(arm("canary", shift([100], 12)), arm("primary", shift([50, 50], 11)));
    expect(close.verdict).toBe("healthy");
    expect(close.reason).toMatch(/Mann-Whitney p = [\d.e-]+: within 5 ms of the primary/);
    const lenient = judge(arm("canary", shift(SLOWER.canary, 8)), arm("primary", shift(SLOWER.primary, 8)), {
      maxP95Ratio: 3,
    });
    expect(lenient.reason).toContain("within the allowed ×3");
    // With the floor and margin at 0, the same canary under 15 ms fails: the floors are what saved it.
    const strict = judge(arm("canary", SLOWER.canary), arm("primary", SLOWER.primary), {
      latencyFloorMs: 0,
      latencyMarginMs: 0,
      maxP95Ratio: 1,
    });
    expect(strict.verdict).toBe("breach");
  });

  it("fails errors only when significant and over the allowed increase", () => {
    const ok = [0, 0, 100];
    // 12 of 300 vs 9 of 2 700: p = 2.5e-13, but +3.7 points is within +5.
    const within = judge(arm("canary", [0, 0, 288], 12), arm("primary", [0, 0, 2691], 9));
    expect(within.verdict).toBe("healthy");
    expect(within.reason).toContain(
      "error rate SLO: canary 4.0% (12 of 300 requests) vs primary 0.3% (9 of 2700), two-proportion p = 2.5e-13: within the allowed +5.0 points",
    );
    const over = judge(arm("canary", [0, 0, 270], 30), arm("primary", [0, 0, 2691], 9));
    expect(over.verdict).toBe("breach");
    expect(over.reason).toMatch(/^error rate SLO: canary 10\.0% \(30 of 300 requests\) vs primary 0\.3%/);
    // 7 of 107 vs 0 of 100 is +6.5 points, but p = 0.005 is not significant at 0.001.
    const noisy = judge(arm("canary", ok, 7), arm("primary", ok, 0), { significance: 0.001 });
    expect(noisy.verdict).toBe("healthy");
    expect(noisy.reason).toContain("not significant at 0.001");
  });

  it("over 1 000 windows of one distribution: never fails with the defaults; the U test alone alarms ~5%", () => {
    // A seeded generator so the test cannot flap: lognormal latencies around 60 ms (above the floor),
    // 2 000 requests per window split 10% / 90% (about 200 canary requests, past the minimum), as the quickstart's canary is.
    let seed = 42;
    const uniform = () => {
      // mulberry32: a linear congruential generator's consecutive draws are correlated enough to bias the split.
      let t = (seed = (seed + 0x6d2b79f5) | 0);
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 2 ** 32;
    };
    const gauss = () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
    const bare = { latencyFloorMs: 0, latencyMarginMs: 0, maxP95Ratio: 1 };
    let breachesDefault = 0;
    let breachesBare = 0;
    let significant = 0;
    for (let w = 0; w < 1000; w++) {
      const hists = [new Array<number>(24).fill(0), new Array<number>(24).fill(0)];
      for (let r = 0; r < 2000; r++) hists[uniform() < 0.1 ? 0 : 1]![latencyBucket(60 * Math.exp(0.5 * gauss()))]!++;
      const [c, p] = [arm("canary", hists[0]!), arm("primary", hists[1]!)];
      if (judge(c, p).verdict === "breach") breachesDefault++;
      const v = judge(c, p, bare);
      if (v.verdict === "breach") breachesBare++;
      if (v.verdict !== "insufficient_data" && v.judgements[1]!.pValue < 0.05) significant++;
    }
    expect(breachesDefault).toBe(0);
    // The U test alone is calibrated: about its significance level (5%) of false alarms.
    expect(significant).toBeGreaterThan(30);
    expect(significant).toBeLessThan(75);
    // Without floors a few of those fail the canary (the p95 must be higher too); with them, none.
    expect(breachesBare).toBeGreaterThan(0);
    expect(breachesBare).toBeLessThanOrEqual(significant);
  });
});
