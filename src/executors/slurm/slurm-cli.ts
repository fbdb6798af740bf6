/**
 * Slurm's own commands, parsed: `sbatch --parsable`, `squeue -t all -O …` (state and PENDING reason of
 * every job the controller knows; filtered here),
 * `sacct -P` (exit codes: squeue's `exit_code` is a raw wait status and `sacct --json` reports 0 for a
 * job that exited 3) and `scancel`.
 */
import { execFile, spawn } from "node:child_process";

export interface QueueEntry {
  state: string;
  reason: string;
  /** The raw wait status of an ended job (code << 8 | signal), which squeue reports as exit_code. */
  waitStatus: number | null;
}

export interface AccountingEntry {
  /** COMPLETED, FAILED, CANCELLED (the " by <uid>" suffix removed), TIMEOUT, OUT_OF_MEMORY, … */
  state: string;
  exitCode: number;
  signal: number;
  reason: string;
}

/** States after which a job never runs again. */
export const FINAL_STATES = new Set([
  "COMPLETED",
  "FAILED",
  "CANCELLED",
  "TIMEOUT",
  "OUT_OF_MEMORY",
  "NODE_FAIL",
  "BOOT_FAIL",
  "DEADLINE",
  "PREEMPTED",
  "REVOKED",
]);

/**
 * PENDING reasons no amount of waiting cures: the request exceeds what the partition, node or
 * limits allow (more CPUs than any node → PartitionConfig; --time over the partition's MaxTime →
 * PartitionTimeLimit). Such a job is cancelled and the step fails with the reason.
 */
export const HOPELESS_REASONS = new Set([
  "PartitionConfig",
  "PartitionTimeLimit",
  "PartitionNodeLimit",
  "BadConstraints",
  "InvalidAccount",
  "InvalidQOS",
  "QOSUsageThreshold",
  "DependencyNeverSatisfied",
  "AccountNotAllowed",
  "QOSMaxCpuPerJobLimit",
  "QOSMaxGRESPerJob",
  "QOSMaxMemoryPerJob",
  "AssocMaxCpuPerJobLimit",
  "AssocMaxGRESPerJob",
]);

export class SlurmCommandError extends Error {
  constructor(
    readonly command: string,
    message: string,
  ) {
    super(message);
    this.name = "SlurmCommandError";
  }
}

function run(
  command: string,
  args: string[],
  options: { input?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = options.input !== undefined ? "pipe" : "ignore";
    const child = spawn(command, args, { stdio: [stdin, "pipe", "pipe"], env: options.env ?? process.env });
    let out = "";
    let err = "";
    child.stdout!.setEncoding("utf8").on("data", (d: string) => (out += d));
    child.stderr!.setEncoding("utf8").on("data", (d: string) => (err += d));
    child.on("error", (e) => reject(new SlurmCommandError(command, `${command} could not start: ${e.message}`)));
    child.on("close", (code) => {
      if (code === 0) resolve(out);
      else
        reject(
          new SlurmCommandError(
            command,
            err.trim().replace(/^\w+: error: /gm, "") || `${command} exited with code ${String(code)}`,
          ),
        );
    });
    // A command that exits without reading its stdin (squeue, or sbatch refusing a flag) closes the
    // pipe: that is its answer, not an error of ours.
    child.stdin?.on("error", () => undefined);
    child.stdin?.end(options.input);
  });
}

/** Submits a batch script given on stdin (never a file: it holds the step's secrets); returns the job id. */
export async function sbatch(flags: string[], script: string): Promise<string> {
  const out = await run("sbatch", ["--parsable", ...flags], { input: script });
  const id = out.trim().split(";")[0]!;
  if (!/^\d+$/.test(id)) throw new SlurmCommandError("sbatch", `sbatch answered ${JSON.stringify(out.trim())}`);
  return id;
}

/**
 * Every job the controller knows, ended ones included (-t all): state, reason and raw wait status.
 * Text (-O), not --json: the controller keeps ended jobs MinJobAge (often 300-600 s), and Slurm
 * 22.05's JSON is about 4 KB a job (790 KB for 203 jobs, which --jobs does not cut: --json ignores
 * it), where these four fields are 22 bytes. Polled twice a second beside a hundred running steps,
 * the JSON was most of the server's CPU (bench/executors). `exit_code` here is the same raw wait
 * status as the JSON's.
 */
export async function squeueAll(): Promise<Map<string, QueueEntry>> {
  const out = await run("squeue", ["-h", "-t", "all", "-O", "JobID:|,State:|,Reason:|,exit_code:|"]);
  const jobs = new Map<string, QueueEntry>();
  for (const line of out.split("\n")) {
    const [id, state, reason, exit] = line.split("|");
    if (!id || !state) continue;
    const status = Number(exit);
    jobs.set(id.trim(), {
      state: state.trim(),
      reason: (reason ?? "").trim(),
      waitStatus: exit !== undefined && exit.trim() !== "" && Number.isFinite(status) ? status : null,
    });
  }
  return jobs;
}

/** Jobs with this name that the controller still knows (for "never submit twice"). */
export async function jobsNamed(name: string): Promise<Array<{ id: string; state: string; comment: string }>> {
  const out = await run("squeue", ["-h", "-t", "all", `--name=${name}`, "-o", "%i|%T|%k"]);
  return out
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const [id = "", state = "", comment = ""] = line.split("|");
      return { id, state, comment };
    });
}

/** `sacct -P` rows of the given jobs (allocations only, -X); a job sacct does not know yet is absent. */
export async function sacct(ids: string[]): Promise<Map<string, AccountingEntry>> {
  if (!ids.length) return new Map();
  const out = await run("sacct", ["-P", "-n", "-X", "-j", ids.join(","), "-o", "JobID,State,ExitCode,Reason"]);
  const result = new Map<string, AccountingEntry>();
  for (const line of out.split("\n")) {
    const [id, state, exit, reason] = line.split("|");
    if (!id || !state || !exit) continue;
    const [code, signal] = exit.split(":").map(Number);
    result.set(id, { state: state.split(" ")[0]!, exitCode: code ?? 0, signal: signal ?? 0, reason: reason ?? "" });
  }
  return result;
}

/**
 * What squeue says of an ended job, in sacct's terms: the fallback when sacct cannot answer
 * (slurmdbd or its database down). The controller keeps an ended job MinJobAge seconds.
 */
export function accountingFromQueue(q: QueueEntry): AccountingEntry | null {
  if (!FINAL_STATES.has(q.state) || q.waitStatus === null) return null;
  return { state: q.state, exitCode: (q.waitStatus >> 8) & 0xff, signal: q.waitStatus & 0x7f, reason: q.reason };
}

export async function scancel(id: string): Promise<void> {
  await run("scancel", [id]);
}

/** Whether the Slurm client commands answer here (sinfo reaches a controller); the reason when not. */
export function slurmProblem(): Promise<string | null> {
  return new Promise((resolve) => {
    execFile("sinfo", ["-h", "-o", "%P"], { timeout: 10_000 }, (error, _out, err) => {
      if (!error) return resolve(null);
      const code = (error as NodeJS.ErrnoException).code;
      resolve(code === "ENOENT" ? "sbatch and sinfo are not installed here" : `sinfo failed: ${String(err).trim()}`);
    });
  });
}

/** The cluster's node names (`sinfo -N`), for "can the nodes reach the server?". */
export async function nodeNames(): Promise<string[]> {
  const out = await run("sinfo", ["-h", "-N", "-o", "%N"]).catch(() => "");
  return [...new Set(out.split("\n").filter(Boolean))];
}
