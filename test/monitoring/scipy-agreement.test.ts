/**
 * The drift statistics agree with SciPy to 1e-6 on committed fixtures made by
 * scripts/make-scipy-fixtures.py (Debian's python3-scipy); inputs are regenerated from their seeds here.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ks2Samp } from "../../src/core/monitoring/stats/ks.js";
import { kolmogorovSf, smirnovSf } from "../../src/core/monitoring/stats/kolmogorov.js";
import { populationStd, wassersteinDistance } from "../../src/core/monitoring/stats/numeric.js";
import { chi2Sf, normalCdf } from "../../src/core/monitoring/stats/special.js";
import {
  chiSquareCounts,
  jensenShannonDistance,
  psi,
  zTestProportions,
} from "../../src/core/monitoring/stats/tests.js";
import { categoryCounts } from "../../src/core/monitoring/columns.js";
import { numericShares } from "../../src/core/monitoring/drift.js";
import { expandSample, type SampleSpec } from "../helpers/seeded.js";

interface Pair {
  a: SampleSpec;
  b: SampleSpec;
}
interface Fixtures {
  special: { chi2_sf: number[][]; norm_cdf: number[][]; kstwo_sf: number[][]; smirnov: number[][] };
  ks_2samp: (Pair & { statistic: number; p_value: number })[];
  chisquare: (Pair & { statistic: number; p_value: number })[];
  z: (Pair & { key: string; statistic: number; p_value: number })[];
  distances: (Pair & { wasserstein?: number; wasserstein_norm?: number; jensenshannon: number; psi: number })[];
}

const fx = JSON.parse(readFileSync(new URL("../fixtures/scipy/drift-stats.json", import.meta.url), "utf8")) as Fixtures;
const TOL = 1e-6;
const label = (p: Pair): string => `${p.a.kind} n=${p.a.n} vs n=${p.b.n} (seeds ${p.a.seed}/${p.b.seed})`;
const close = (actual: number, expectedJson: number | string): void => {
  const expected = Number(expectedJson); // non-finite values travel as "Infinity"
  if (!Number.isFinite(expected)) expect(actual).toBe(expected);
  else expect(Math.abs(actual - expected)).toBeLessThanOrEqual(TOL);
};
const num = (s: SampleSpec): Float64Array => expandSample(s) as Float64Array;

describe("special functions agree with SciPy", () => {
  it("chi2.sf, norm.cdf, kstwo.sf and smirnov", () => {
    for (const [x, df, p] of fx.special.chi2_sf) close(chi2Sf(x!, df!), p!);
    for (const [z, p] of fx.special.norm_cdf) close(normalCdf(z!), p!);
    for (const [n, x, p] of fx.special.kstwo_sf) close(kolmogorovSf(n!, x!), p!);
    for (const [n, x, p] of fx.special.smirnov) close(smirnovSf(n!, x!), p!);
  });
});

describe("ks_2samp (method auto: exact ≤ 10 000 rows, asymptotic beyond)", () => {
  for (const c of fx.ks_2samp) {
    it(label(c), () => {
      const r = ks2Samp(num(c.a), num(c.b));
      expect(r.method).toBe(Math.max(c.a.n, c.b.n) <= 10_000 ? "exact" : "asymp");
      close(r.statistic, c.statistic);
      close(r.pValue, c.p_value);
    });
  }
});

describe("chi-square against reference shares × current count", () => {
  for (const c of fx.chisquare) {
    it(label(c), () => {
      const counts = categoryCounts(expandSample(c.a), expandSample(c.b));
      const r = chiSquareCounts(counts.ref, counts.cur);
      close(r.statistic, c.statistic);
      close(r.pValue!, c.p_value);
    });
  }
});

describe("Z-test for two proportions (pooled)", () => {
  for (const c of fx.z) {
    it(label(c), () => {
      const counts = categoryCounts(expandSample(c.a), expandSample(c.b));
      const at = counts.keys.indexOf(c.key);
      const r = zTestProportions(counts.ref[at]!, counts.nRef, counts.cur[at]!, counts.nCur);
      close(r.statistic, c.statistic);
      close(r.pValue!, c.p_value);
    });
  }
});

describe("Wasserstein, Jensen-Shannon and PSI", () => {
  for (const c of fx.distances) {
    it(label(c), () => {
      let r: ArrayLike<number>;
      let k: ArrayLike<number>;
      if (c.a.kind === "normal") {
        const a = num(c.a).sort();
        const b = num(c.b).sort();
        close(wassersteinDistance(a, b), c.wasserstein!);
        close(wassersteinDistance(a, b) / Math.max(populationStd(a), 0.001), c.wasserstein_norm!);
        ({ r, c: k } = numericShares(a, b));
      } else {
        const counts = categoryCounts(expandSample(c.a), expandSample(c.b));
        r = counts.ref.map((x) => x / counts.nRef);
        k = counts.cur.map((x) => x / counts.nCur);
      }
      close(jensenShannonDistance(r, k), c.jensenshannon);
      close(psi(r, k), c.psi);
    });
  }
});
