/**
 * bench/drift — Tandem's full drift check on 1 000 000 reference rows × (20 numeric + 5 categorical)
 * against a current set of the same size, versus the same tests in NumPy/SciPy (scipy_drift.py, Debian's
 * python3-scipy) on the same data in the same run; then folding a 10 000-row window into a month's
 * profile (the Data area's mergeable profiles). Prints JSON lines. Options: --rows N (default 1e6).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { computeDrift } from "../../src/core/monitoring/drift.js";
import { mergeProfiles, profileTable } from "../../src/core/data/profile/builder.js";

const argRows = process.argv.indexOf("--rows");
const ROWS = argRows > 0 ? Number(process.argv[argRows + 1]) : 1_000_000;
const NUM = 20;
const CAT = 5;
const LABELS = ["red", "green", "blue", "amber", "violet", "grey", "teal", "black"];
const here = dirname(fileURLToPath(import.meta.url));

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = ((t + Math.imul(t ^ (t >>> 7), 61 | t)) >>> 0) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** 20 numeric columns (half of them shifted in the current set) and 5 categorical ones (one shifted). */
function makeTable(rows: number, seed: number, shifted: boolean) {
  const rnd = mulberry32(seed);
  const num: Float64Array[] = [];
  for (let c = 0; c < NUM; c++) {
    const col = new Float64Array(rows);
    const shift = shifted && c % 2 === 0 ? 0.25 : 0;
    for (let i = 0; i < rows; i++) {
      // Box-Muller normal, every 500th value missing (NaN) so the NaN path is part of the work.
      const u = rnd() || 1e-12;
      col[i] = i % 500 === 0 ? Number.NaN : shift + c + Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rnd());
    }
    num.push(col);
  }
  const cat: Uint8Array[] = [];
  for (let c = 0; c < CAT; c++) {
    const col = new Uint8Array(rows);
    const skew = shifted && c === 0 ? 2.2 : 1.5;
    for (let i = 0; i < rows; i++) col[i] = Math.min(LABELS.length - 1, Math.floor(rnd() ** skew * LABELS.length));
    cat.push(col);
  }
  return { num, cat };
}

function asColumns(t: ReturnType<typeof makeTable>, from = 0, to = ROWS): Record<string, ArrayLike<unknown>> {
  const out: Record<string, ArrayLike<unknown>> = {};
  t.num.forEach((c, i) => (out[`num_${i}`] = c.subarray(from, to)));
  t.cat.forEach((c, i) => (out[`cat_${i}`] = Array.from(c.subarray(from, to), (k) => LABELS[k]!)));
  return out;
}

function line(measure: string, tandem: number, baseline: number | null, unit: string): void {
  const ratio = baseline === null ? null : tandem / baseline;
  console.log(JSON.stringify({ bench: "drift", measure, tandem, baseline, unit, ratio }));
}

const ref = makeTable(ROWS, 1, false);
const cur = makeTable(ROWS, 2, true);
const dir = mkdtempSync(join(tmpdir(), "tandem-bench-drift-"));
try {
  const concat = (cols: ArrayBufferView[]): Buffer =>
    Buffer.concat(cols.map((c) => Buffer.from(c.buffer, c.byteOffset, c.byteLength)));
  writeFileSync(join(dir, "ref_num.f64"), concat(ref.num));
  writeFileSync(join(dir, "cur_num.f64"), concat(cur.num));
  writeFileSync(join(dir, "ref_cat.u8"), concat(ref.cat));
  writeFileSync(join(dir, "cur_cat.u8"), concat(cur.cat));
  const refCols = asColumns(ref);
  const curCols = asColumns(cur);

  const t0 = performance.now();
  const report = computeDrift(refCols, curCols);
  const tandemSeconds = (performance.now() - t0) / 1000;

  const py = spawnSync(
    "/usr/bin/python3",
    [join(here, "scipy_drift.py"), dir, String(ROWS), String(NUM), String(CAT)],
    {
      encoding: "utf8",
      maxBuffer: 1 << 24,
    },
  );
  if (py.status !== 0) throw new Error(`scipy_drift.py failed (is python3-scipy installed?): ${py.stderr}`);
  const base = JSON.parse(py.stdout) as {
    seconds: number;
    columns: { name: string; test: string; statistic: number }[];
  };
  // Same data, same tests: the numbers must agree before the timings mean anything.
  for (const b of base.columns) {
    const t = report.columns.find((c) => c.name === b.name);
    if (!t || t.test !== b.test || Math.abs(t.statistic - b.statistic) > 1e-6) {
      throw new Error(`column ${b.name}: Tandem ${t?.test} ${t?.statistic} vs SciPy ${b.test} ${b.statistic}`);
    }
  }
  line(`full drift check, ${ROWS} rows x ${NUM} numeric + ${CAT} categorical`, tandemSeconds, base.seconds, "s");

  // Folding a 10 000-row window into a month's profile: profile the window (the Data area's builder),
  // then merge it in. No external baseline: the "baseline" is the 50 ms goal (ratio ≤ 1 meets it).
  const month = profileTable(asColumns(cur, 0, Math.min(ROWS, 300_000)));
  const window = asColumns(ref, 0, 10_000);
  const profileRuns: number[] = [];
  const mergeRuns: number[] = [];
  for (let i = 0; i < 5; i++) {
    const s = performance.now();
    const p = profileTable(window);
    const m = performance.now();
    mergeProfiles(month, p);
    profileRuns.push(m - s);
    mergeRuns.push(performance.now() - m);
  }
  const median = (xs: number[]): number => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const total = median(profileRuns.map((p, i) => p + mergeRuns[i]!));
  line(
    "fold a 10000-row window (25 columns) into a month's profile: profile + merge, median of 5; baseline = 50 ms goal",
    total,
    50,
    "ms",
  );
  line("  of which merging the window's profile into the month's, median of 5", median(mergeRuns), null, "ms");
} finally {
  rmSync(dir, { recursive: true, force: true });
}
