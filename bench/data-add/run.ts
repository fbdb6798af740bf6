/**
 * bench/data-add — what a user runs: `tandem data add DIR` as its own process (embedded: SQLite and
 * filesystem artifacts; process start included), against `sha256sum` over the same files in the same
 * run, on both cores (`xargs -P2`, the baseline) and on one, and against sha256sum + cp + sync
 * (hashing and a durable copy, what `data add` does: sha256sum alone writes nothing, so on a disk
 * slower than two cores' hashing only that line says whether the add runs at disk speed); then
 * re-adds of unchanged trees (the stat cache: one stat per file plus process start) and profiling
 * flights-3m.parquet.
 *
 *   npm run build:dist && npm run bench -- data-add [--mb 2048] [--files 1000] [--small-files 10000]
 *
 * Each line carries CPU seconds (user + system) and the load average beside wall time: the build
 * machines are shared. Goals (issue 18) are their own field: add throughput ≥ 1.0× sha256sum -P2's,
 * re-add < 0.5 s.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { emitterFor, numberFlag } from "../kit.js";
import { timedRun, type TimedRun } from "../process-time.js";

const MB = numberFlag("mb", 2048);
const FILES = numberFlag("files", 1000);
const SMALL = numberFlag("small-files", 10_000);
const emit = emitterFor("data-add");
const tandemBin = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "bin", "tandem.js");

const root = mkdtempSync(join(tmpdir(), "tandem-bench-data-"));
const env = { ...process.env, TANDEM_HOME: join(root, "home"), TANDEM_URL: "", TANDEM_PROJECT: "bench" };

/** `tandem …` in its own process, start-up included. */
function tandem(args: string[]): TimedRun & { json: { created?: boolean } } {
  const run = timedRun(process.execPath, [tandemBin, ...args], { env });
  if (run.status !== 0) throw new Error(`tandem ${args.join(" ")} failed (exit ${run.status}): ${run.stderr}`);
  return { ...run, json: JSON.parse(run.stdout) as { created?: boolean } };
}

const cpuFields = (t: TimedRun, b?: TimedRun) => ({
  tandem_cpu_s: t.cpu,
  ...(b ? { baseline_cpu_s: b.cpu } : {}),
  load_1m: Math.max(t.load, b?.load ?? 0),
});

try {
  // ~MB megabytes in FILES files, each distinct (a random block with the file number stamped in).
  const big = join(root, "big");
  mkdirSync(join(big, "parts"), { recursive: true });
  const size = Math.floor((MB * 1024 * 1024) / FILES);
  const block = randomBytes(size);
  const names: string[] = [];
  for (let i = 0; i < FILES; i++) {
    block.writeUInt32LE(i, 0);
    const name = `part-${String(i).padStart(5, "0")}.bin`;
    writeFileSync(join(big, "parts", name), block);
    names.push(name);
  }
  // Older than the stat cache's 2 s "racy" window, as files normally are.
  spawnSync("find", [big, "-type", "f", "-exec", "touch", "-d", "1 minute ago", "{}", "+"]);
  const totalMb = (size * FILES) / 1024 / 1024;
  const what = `${FILES} files / ${Math.round(totalMb)} MB`;
  const cwd = join(big, "parts");

  // sha256sum before and after tandem, both from a warm page cache (the mean evens out load drift).
  const sha = (cores: number): TimedRun => {
    const run = timedRun("sh", ["-c", `ls | xargs -P${cores} -n ${Math.ceil(FILES / (4 * cores))} sha256sum`], {
      cwd,
    });
    if (run.status !== 0) throw new Error(`sha256sum failed: ${run.stderr}`);
    return run;
  };
  const mean = (a: TimedRun, b: TimedRun): TimedRun => ({
    ...a,
    wall: (a.wall + b.wall) / 2,
    cpu: a.cpu !== null && b.cpu !== null ? (a.cpu + b.cpu) / 2 : null,
    load: Math.max(a.load, b.load),
  });
  // What `data add` does besides hashing: keep a durable copy. The same work in shell, both cores:
  // sha256sum, cp into a fresh directory and fsync each copy (sync FILE…), in the same batches.
  let copies = 0;
  const shaCopy = (): TimedRun => {
    const dest = join(root, `copy-${copies++}`);
    mkdirSync(dest);
    const batch = `sha256sum "$@" >/dev/null && cp "$@" ${JSON.stringify(dest)}/ && cd ${JSON.stringify(dest)} && sync "$@"`;
    const run = timedRun("sh", ["-c", `ls | xargs -P2 -n ${Math.ceil(FILES / 8)} sh -c '${batch}' _`], { cwd });
    rmSync(dest, { recursive: true, force: true });
    if (run.status !== 0) throw new Error(`sha256sum + cp + sync failed: ${run.stderr}`);
    return run;
  };
  const before = { two: sha(2), one: sha(1), copy: shaCopy() };
  const first = tandem(["data", "add", big, "--name", "big", "--json"]);
  const after = { two: sha(2), one: sha(1), copy: shaCopy() };
  const two = mean(before.two, after.two);
  const one = mean(before.one, after.one);
  const copy = mean(before.copy, after.copy);
  const mbs = (t: TimedRun) => totalMb / t.wall;
  emit(
    `add ${what}, process start included (MB/s; baseline sha256sum, both cores: xargs -P2)`,
    mbs(first),
    mbs(two),
    "MB/s",
    mbs(first) / mbs(two),
    {
      goal: { ratio: 1.0, meaning: "throughput at least sha256sum -P2's" },
      ...cpuFields(first, two),
    },
  );
  emit(
    `add ${what}, process start included (MB/s; baseline sha256sum on one core)`,
    mbs(first),
    mbs(one),
    "MB/s",
    mbs(first) / mbs(one),
    cpuFields(first, one),
  );

  emit(
    `add ${what}, process start included (MB/s; baseline sha256sum + cp + sync of each copy, both cores: the same work as data add's)`,
    mbs(first),
    mbs(copy),
    "MB/s",
    mbs(first) / mbs(copy),
    cpuFields(first, copy),
  );

  const again = tandem(["data", "add", big, "--name", "big", "--json"]);
  if (again.json.created !== false) throw new Error("re-add made a new version");
  emit(`re-add unchanged ${what}, process start included (s)`, again.wall, null, "s", null, {
    goal: { max: 0.5, unit: "s" },
    ...cpuFields(again),
  });
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
  const smallFirst = tandem(["data", "add", small, "--name", "small", "--json"]);
  const smallAgain = tandem(["data", "add", small, "--name", "small", "--json"]);
  if (smallAgain.json.created !== false) throw new Error("re-add of the small tree made a new version");
  emit(
    `re-add unchanged ${SMALL}-file tree, process start included (s; the first add took ${smallFirst.wall.toFixed(2)} s)`,
    smallAgain.wall,
    null,
    "s",
    null,
    { goal: { max: 0.5, unit: "s" }, ...cpuFields(smallAgain) },
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
  emit(
    `profile flights-3m.parquet in process, ${profile.rowCount} rows x ${profile.columns.length} columns (s)`,
    profileSeconds,
    null,
    "s",
    null,
    { goal: { max: 5, unit: "s" } },
  );
} finally {
  rmSync(root, { recursive: true, force: true });
}
