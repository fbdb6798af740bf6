/**
 * bench/data-add — `tandem data add` (embedded: SQLite + filesystem artifacts, through the API via
 * inject) against `sha256sum` over the same files in the same run, plus the stat-cache re-add and
 * profiling flights-3m.parquet. Files are generated in a temp dir and removed afterwards.
 *
 *   npm run bench -- data-add [--mb 2048] [--files 1000] [--small-files 10000]
 *
 * Measures (JSON lines):
 *   - add N files / M MB: throughput MB/s vs sha256sum's (ratio ≥ 0.8 is the goal);
 *   - re-add unchanged (same tree, stat cache warm): seconds vs the 0.5 s goal;
 *   - re-add an unchanged 10 000-file tree: seconds vs the 0.5 s goal;
 *   - profile flights-3m.parquet (3 M rows): seconds vs the 5 s goal.
 * `tandem` is timed in-process (the CLI's `main`, stdout captured), so Node's start-up (~0.3 s from
 * dist/, ~1.5 s through tsx) is not counted; sha256sum's start-up is ~1 ms.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const MB = arg("--mb", 2048);
const FILES = arg("--files", 1000);
const SMALL = arg("--small-files", 10_000);

function line(measure: string, tandem: number, baseline: number | null, unit: string, ratio: number | null): void {
  console.log(JSON.stringify({ bench: "data-add", measure, tandem, baseline, unit, ratio }));
}

const root = mkdtempSync(join(tmpdir(), "tandem-bench-data-"));
process.env.TANDEM_HOME = join(root, "home");
process.env.TANDEM_URL = "";
process.env.TANDEM_PROJECT = "bench";

/** Runs `tandem …` in this process; its stdout is captured and returned. */
async function tandem(args: string[]): Promise<{ code: number; stdout: string; seconds: number }> {
  const { main } = await import("../../src/cli/index.js");
  const write = process.stdout.write.bind(process.stdout);
  let out = "";
  process.stdout.write = ((chunk: string | Uint8Array) => {
    out += chunk.toString();
    return true;
  }) as typeof process.stdout.write;
  const start = performance.now();
  try {
    const code = await main(["node", "tandem", ...args]);
    return { code, stdout: out, seconds: (performance.now() - start) / 1000 };
  } finally {
    process.stdout.write = write;
  }
}

try {
  // ~MB megabytes in FILES files, each distinct (a random block with the file number stamped in).
  const big = join(root, "big");
  mkdirSync(join(big, "parts"), { recursive: true });
  const size = Math.floor((MB * 1024 * 1024) / FILES);
  const block = randomBytes(size);
  const paths: string[] = [];
  for (let i = 0; i < FILES; i++) {
    block.writeUInt32LE(i, 0);
    const p = join(big, "parts", `part-${String(i).padStart(5, "0")}.bin`);
    writeFileSync(p, block);
    paths.push(p);
  }
  const totalMb = (size * FILES) / 1024 / 1024;

  // sha256sum before and after tandem (both from a warm page cache; the mean evens out load drift).
  // Wall time is the measure; CPU time (user + system) is printed too, as it barely moves when
  // other work shares the machine.
  const timeBin = existsSync("/usr/bin/time") ? "/usr/bin/time" : null;
  const shaRun = () => {
    const s0 = performance.now();
    const res = timeBin
      ? spawnSync(timeBin, ["-f", "%U %S", "sha256sum", ...paths], { maxBuffer: 64 * 1024 * 1024 })
      : spawnSync("sha256sum", paths, { maxBuffer: 64 * 1024 * 1024 });
    const wall = (performance.now() - s0) / 1000;
    if (res.status !== 0) throw new Error(`sha256sum failed: ${res.stderr}`);
    const times = timeBin ? res.stderr.toString().trim().split("\n").pop()!.split(" ").map(Number) : null;
    return { wall, cpu: times ? times[0]! + times[1]! : null };
  };
  // Load and compile the CLI once (tsx), so the timings below are the add, not module loading.
  await tandem(["data", "ls", "--json"]);
  const sha1 = shaRun();
  const cpu0 = process.cpuUsage();
  const first = await tandem(["data", "add", big, "--name", "big", "--json"]);
  const cpu = process.cpuUsage(cpu0);
  if (first.code !== 0) throw new Error(`tandem data add failed (exit ${first.code})`);
  const sha2 = shaRun();
  const shaWall = (sha1.wall + sha2.wall) / 2;
  const tandemMbs = totalMb / first.seconds;
  const shaMbs = totalMb / shaWall;
  line(
    `add ${FILES} files / ${Math.round(totalMb)} MB, wall (MB/s; baseline sha256sum)`,
    tandemMbs,
    shaMbs,
    "MB/s",
    tandemMbs / shaMbs,
  );
  if (sha1.cpu !== null && sha2.cpu !== null) {
    const tandemCpu = (cpu.user + cpu.system) / 1e6;
    const shaCpu = (sha1.cpu + sha2.cpu) / 2;
    line(
      `add ${FILES} files / ${Math.round(totalMb)} MB, per CPU-second (MB/s; baseline sha256sum)`,
      totalMb / tandemCpu,
      totalMb / shaCpu,
      "MB/s",
      shaCpu / tandemCpu,
    );
  }

  const again = await tandem(["data", "add", big, "--name", "big", "--json"]);
  if (JSON.parse(again.stdout).created !== false) throw new Error("re-add made a new version");
  line(
    `re-add unchanged ${FILES} files / ${Math.round(totalMb)} MB (s; baseline = 0.5 s goal)`,
    again.seconds,
    0.5,
    "s",
    again.seconds / 0.5,
  );
  rmSync(big, { recursive: true, force: true });

  // The headline: an unchanged 10 000-file directory.
  const small = join(root, "small");
  for (let d = 0; d < 100; d++) {
    mkdirSync(join(small, `d${d}`), { recursive: true });
    for (let f = 0; f < SMALL / 100; f++)
      writeFileSync(join(small, `d${d}`, `f${f}.txt`), `${d}/${f} ${"x".repeat(200)}\n`);
  }
  // Make the files older than the stat cache's 2 s "racy" window, as files normally are.
  spawnSync("find", [small, "-type", "f", "-exec", "touch", "-d", "1 minute ago", "{}", "+"]);
  const smallFirst = await tandem(["data", "add", small, "--name", "small", "--json"]);
  if (smallFirst.code !== 0) throw new Error("adding the 10 000-file tree failed");
  const smallAgain = await tandem(["data", "add", small, "--name", "small", "--json"]);
  line(
    `re-add unchanged ${SMALL}-file tree (s; baseline = 0.5 s goal; first add took ${smallFirst.seconds.toFixed(2)} s)`,
    smallAgain.seconds,
    0.5,
    "s",
    smallAgain.seconds / 0.5,
  );

  // Profiling the 3 M-row flights file.
  const { profileFile } = await import("../../src/core/data/readers/index.js");
  const vega = createRequire(import.meta.url).resolve("vega-datasets");
  const flights = join(
    vega.slice(0, vega.lastIndexOf("vega-datasets") + "vega-datasets".length),
    "data/flights-3m.parquet",
  );
  const p0 = performance.now();
  const profile = await profileFile(flights);
  const profileSeconds = (performance.now() - p0) / 1000;
  line(
    `profile flights-3m.parquet, ${profile.rowCount} rows x ${profile.columns.length} columns (s; baseline = 5 s goal)`,
    profileSeconds,
    5,
    "s",
    profileSeconds / 5,
  );
} finally {
  rmSync(root, { recursive: true, force: true });
}
