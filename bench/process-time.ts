/**
 * Timing a command the way a user runs it: its own process, start-up included. Wall time is what the
 * user waits; CPU time (user + system, from GNU time) is printed beside it because on a shared machine
 * it barely moves with the load, where wall time does (the 1-minute load average is recorded too).
 */
import { spawnSync, type SpawnSyncOptions } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";

export interface TimedRun {
  status: number | null;
  stdout: string;
  stderr: string;
  /** Seconds from spawn to exit. */
  wall: number;
  /** User + system CPU seconds of the command and its children; null without /usr/bin/time. */
  cpu: number | null;
  /** The 1-minute load average when the command ended. */
  load: number;
}

const GNU_TIME = "/usr/bin/time";

/** Run `command args…` to its end and time it. */
export function timedRun(command: string, args: string[], options: SpawnSyncOptions = {}): TimedRun {
  const withTime = existsSync(GNU_TIME);
  const dir = mkdtempSync(join(tmpdir(), "tandem-bench-time-"));
  const timesFile = join(dir, "times");
  try {
    const start = performance.now();
    const res = withTime
      ? spawnSync(GNU_TIME, ["-f", "%U %S", "-o", timesFile, command, ...args], {
          maxBuffer: 256 * 1024 * 1024,
          ...options,
        })
      : spawnSync(command, args, { maxBuffer: 256 * 1024 * 1024, ...options });
    const wall = (performance.now() - start) / 1000;
    if (res.error) throw res.error;
    let cpu: number | null = null;
    if (withTime && existsSync(timesFile)) {
      // GNU time writes "Command exited with non-zero status N" before the times when the exit isn't 0.
      const last = readFileSync(timesFile, "utf8").trim().split("\n").pop() ?? "";
      const [user, system] = last.split(" ").map(Number);
      if (Number.isFinite(user) && Number.isFinite(system)) cpu = user! + system!;
    }
    return {
      status: res.status,
      stdout: res.stdout?.toString() ?? "",
      stderr: res.stderr?.toString() ?? "",
      wall,
      cpu,
      load: loadavg()[0]!,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The CPU figures printed beside a wall-time line: both runs' CPU seconds, their ratio (null when
 * either is unknown) and the higher of the two load averages.
 */
export function cpuBeside(
  tandem: TimedRun,
  baseline: TimedRun | null,
): { tandem_cpu_s: number | null; baseline_cpu_s: number | null; cpu_ratio: number | null; load_1m: number } {
  return {
    tandem_cpu_s: tandem.cpu,
    baseline_cpu_s: baseline?.cpu ?? null,
    cpu_ratio: baseline?.cpu && tandem.cpu ? tandem.cpu / baseline.cpu : null,
    load_1m: Math.max(tandem.load, baseline?.load ?? 0),
  };
}
