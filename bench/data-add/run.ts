/**
 * bench/data-add — what a user runs: `tandem data add DIR` as its own process (embedded: SQLite and
 * filesystem artifacts; process start included), against `sha256sum` over the same files in the same
 * run, on both cores (`xargs -P2`, the issue's baseline) and on one, and against sha256sum + cp + sync
 * (hashing and a durable copy, what `data add` does: sha256sum alone writes nothing, so on a disk
 * slower than two cores' hashing only those lines say whether the add runs at disk speed), with an
 * fsync per copy and with one batch of fsyncs at the end (as data add now does); then the same add
 * with TANDEM_ARTIFACTS_FSYNC=off against sha256sum + cp without sync; then the disk itself (dd of
 * the same size with and without conv=fdatasync: the first bounds any durable copy); then re-adds of
 * unchanged trees (the stat cache: one stat per file plus process start) and profiling
 * flights-3m.parquet.
 *
 *   npm run build:dist && npm run bench -- data-add [--mb 2048] [--files 1000] [--small-files 10000]
 *
 * Each line carries CPU seconds (user + system) and the load average beside wall time: the build
 * machines are shared. Goals (issue 18) are their own field: add throughput ≥ 1.0× sha256sum -P2's,
 * re-add < 0.5 s. Every baseline runs before and after the adds and counts as the mean of the two.
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
function tandem(args: string[], extraEnv: Record<string, string> = {}): TimedRun & { json: { created?: boolean } } {
  const run = timedRun(process.execPath, [tandemBin, ...args], { env: { ...env, ...extraEnv } });
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
  // What `data add` does besides hashing: keep a copy, durable unless told otherwise. The same work
  // in shell, both cores: sha256sum, cp into a fresh directory, and then per `sync`:
  //   each:  fsync each batch's copies as the batch ends (sync FILE…), like the per-blob fsync data add had;
  //   batch: fsync every copy and the directory once all are written (one sync of all the files);
  //   none:  no fsync, as data add with TANDEM_ARTIFACTS_FSYNC=off (dirty pages flushed untimed after).
  let copies = 0;
  const shaCopy = (sync: "each" | "batch" | "none"): TimedRun => {
    const dest = join(root, `copy-${copies++}`);
    mkdirSync(dest);
    const q = JSON.stringify(dest);
    const batch = `sha256sum "$@" >/dev/null && cp "$@" ${q}/${sync === "each" ? ` && cd ${q} && sync "$@"` : ""}`;
    const all = `ls | xargs -P2 -n ${Math.ceil(FILES / 8)} sh -c '${batch}' _${sync === "batch" ? ` && cd ${q} && sync -- * .` : ""}`;
    const run = timedRun("sh", ["-c", all], { cwd });
    rmSync(dest, { recursive: true, force: true });
    spawnSync("sync");
    if (run.status !== 0) throw new Error(`sha256sum + cp (sync ${sync}) failed: ${run.stderr}`);
    return run;
  };
  // The disk alone: MB megabytes from /dev/zero in 1 MiB blocks, with conv=fdatasync (durable: what
  // bounds any durable copy) and without (the page cache; flushed untimed after).
  const dd = (durable: boolean): TimedRun => {
    const out = join(root, "dd.out");
    const args = [`if=/dev/zero`, `of=${out}`, "bs=1M", `count=${Math.round(totalMb)}`];
    const run = timedRun("dd", durable ? [...args, "conv=fdatasync"] : args);
    rmSync(out, { force: true });
    spawnSync("sync");
    if (run.status !== 0) throw new Error(`dd failed: ${run.stderr}`);
    return run;
  };
  const baselines = () => ({
    two: sha(2),
    one: sha(1),
    copyEach: shaCopy("each"),
    copyBatch: shaCopy("batch"),
    copyNone: shaCopy("none"),
    ddSync: dd(true),
    ddCache: dd(false),
  });
  spawnSync("sync");
  const before = baselines();
  const first = tandem(["data", "add", big, "--name", "big", "--json"]);
  // The same add with fsync off, into a home of its own (the first's blobs would all be found).
  const unsynced = tandem(["data", "add", big, "--name", "big", "--json"], {
    TANDEM_HOME: join(root, "home-fsync-off"),
    TANDEM_ARTIFACTS_FSYNC: "off",
  });
  spawnSync("sync");
  rmSync(join(root, "home-fsync-off"), { recursive: true, force: true });
  const after = baselines();
  const both = <K extends keyof typeof before>(k: K) => mean(before[k], after[k]);
  const [two, one, copyEach, copyBatch, copyNone] = [
    both("two"),
    both("one"),
    both("copyEach"),
    both("copyBatch"),
    both("copyNone"),
  ];
  const [ddSync, ddCache] = [both("ddSync"), both("ddCache")];
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
    mbs(copyEach),
    "MB/s",
    mbs(first) / mbs(copyEach),
    cpuFields(first, copyEach),
  );
  emit(
    `add ${what}, process start included (MB/s; baseline sha256sum + cp on both cores, then one sync of every copy: the same batch as data add's)`,
    mbs(first),
    mbs(copyBatch),
    "MB/s",
    mbs(first) / mbs(copyBatch),
    cpuFields(first, copyBatch),
  );
  emit(
    `add ${what} with TANDEM_ARTIFACTS_FSYNC=off, process start included (MB/s; baseline sha256sum, both cores: xargs -P2)`,
    mbs(unsynced),
    mbs(two),
    "MB/s",
    mbs(unsynced) / mbs(two),
    { goal: { ratio: 1.0, meaning: "throughput at least sha256sum -P2's" }, ...cpuFields(unsynced, two) },
  );
  emit(
    `add ${what} with TANDEM_ARTIFACTS_FSYNC=off, process start included (MB/s; baseline sha256sum + cp without sync, both cores)`,
    mbs(unsynced),
    mbs(copyNone),
    "MB/s",
    mbs(unsynced) / mbs(copyNone),
    cpuFields(unsynced, copyNone),
  );
  // Not Tandem: the disk. Its durable write speed against sha256sum -P2 is the best ratio any add
  // that keeps its copy durable can reach on this machine.
  emit(
    `ceiling of a durable add: the disk's durable write (dd ${Math.round(totalMb)} MB bs=1M conv=fdatasync, MB/s) against sha256sum -P2`,
    mbs(ddSync),
    mbs(two),
    "MB/s",
    mbs(ddSync) / mbs(two),
    {
      note: "dd's figure, not Tandem's: no copy that is durable when it returns goes faster",
      ...cpuFields(ddSync, two),
    },
  );
  emit(
    `the disk's page-cache write (dd ${Math.round(totalMb)} MB bs=1M, no sync, MB/s) against sha256sum -P2`,
    mbs(ddCache),
    mbs(two),
    "MB/s",
    mbs(ddCache) / mbs(two),
    { note: "dd's figure, not Tandem's", ...cpuFields(ddCache, two) },
  );

  const again = tandem(["data", "add", big, "--name", "big", "--json"]);
  if (again.json.created !== false) throw new Error("re-add made a new version");
  emit(`re-add unchanged ${what}, process start included (s)`, again.wall, null, "s", null, {
    goal: { max: 0.5, unit: "s" },
    ...cpuFields(again),
  });
  rmSync(big, { recursive: true, force: true });

  // The issue's headline: an unchanged 10 000-file directory.
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
  // Node 20 reads and parses every certificate of NODE_EXTRA_CA_CERTS as it starts, before any of
  // Tandem's code: with the system bundle (~140 certificates) that was 410 M of the 1.46 G
  // instructions of this re-add (callgrind) and 40 ms of CPU of `node -e 0`'s 120 (load 10). Where
  // the variable is set (build machines behind a proxy), the same re-add without it says how much
  // of the line above is Node's start in this environment rather than Tandem's.
  if (process.env.NODE_EXTRA_CA_CERTS) {
    const bare = tandem(["data", "add", small, "--name", "small", "--json"], { NODE_EXTRA_CA_CERTS: "" });
    if (bare.json.created !== false) throw new Error("re-add without NODE_EXTRA_CA_CERTS made a new version");
    emit(
      `re-add unchanged ${SMALL}-file tree, process start included, NODE_EXTRA_CA_CERTS unset (s; set here: Node parses its certificates as it starts)`,
      bare.wall,
      null,
      "s",
      null,
      { note: "the same re-add without the environment's extra certificates", ...cpuFields(bare) },
    );
  }

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
