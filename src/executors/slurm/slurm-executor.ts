/**
 * Runs steps as Slurm batch jobs. Each attempt is one `sbatch` whose script (given on stdin, so the
 * step's secrets are on no command line and in no file other users can read) runs `tandem step-agent`
 * on the node: the agent materialises inputs and uploads outputs through the server's API with the
 * run's token, and runs the step with the local executor's code. State comes from one shared poller
 * (job-watcher.ts); output streams from the job's files under a directory nodes share.
 *
 * Restart: the job id is reported through onSubmitted before waiting; given `remoteJob`, run()
 * attaches to that job. A job of the same name and attempt that the controller still knows is
 * adopted instead of submitted again (a crash between sbatch and storing its id).
 */
import { execFile } from "node:child_process";
import { chmod, chown, mkdir, open, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { released, type Executor, type JobResult, type StepJob, type StepProcess } from "../../core/pipelines/ports.js";
import { agentJobFor, parseSignedResultLine } from "../agent/agent-job.js";
import { ReportSigning } from "../agent/report-signing.js";
import { JobWatcher, type JobUpdate, type JobWatcherOptions } from "./job-watcher.js";
import { OutputTail } from "./output-tail.js";
import { TailState } from "./tail-state.js";
import { sbatchFlags, slurmJobName, type SbatchDefaults } from "./sbatch-args.js";
import { HOPELESS_REASONS, jobsNamed, sbatch, scancel, type AccountingEntry } from "./slurm-cli.js";

export interface SlurmExecutorOptions {
  /** A directory every node sees at the same path: job output and step directories (TANDEM_SLURM_DIR). */
  dir: string;
  defaults: SbatchDefaults;
  /** The user steps run as (a root server only: sbatch --uid/--gid); null runs them as the server's user. */
  stepUser: string | null;
  /** How the node starts the agent: [node, …/dist/executors/agent/main.js] (this Node, this checkout). */
  agentArgv: string[];
  /** Keys the agent's report, so it is the same after a restart (derived from the server's secret key). */
  reportKey: Buffer;
  /** (default 500 ms) */
  pollMs?: number;
  /** Bounds on waiting for a job's state (job-watcher.ts; TANDEM_SLURM_SACCT_GRACE_MS, _LOST_AFTER_MS). */
  watch?: Pick<JobWatcherOptions, "sacctGraceMs" | "lostAfterMs">;
  /** Why steps cannot work from here (server not reachable from nodes…), or null. */
  problem?: () => Promise<string | null>;
}

const REASON_HELP: Record<string, string> = {
  PartitionConfig: "the request exceeds what the partition's nodes have (CPUs, memory or GPUs)",
  PartitionTimeLimit: "the time limit (timeout:) exceeds the partition's MaxTime",
  PartitionNodeLimit: "the request needs more nodes than the partition allows",
  BadConstraints: "no node matches the job's constraints",
};

function userIds(name: string): Promise<{ uid: number; gid: number }> {
  const id = (flag: string) =>
    new Promise<number>((resolve, reject) =>
      execFile("id", [flag, name], (error, out) =>
        error
          ? reject(new Error(`step user ${name} does not exist here (TANDEM_STEP_USER)`))
          : resolve(Number(out.trim())),
      ),
    );
  return Promise.all([id("-u"), id("-g")]).then(([uid, gid]) => {
    if (uid === 0) throw new Error("steps never run as root (TANDEM_STEP_USER)");
    return { uid, gid };
  });
}

/** How much of a job's output end is searched for its report: the report line is its last. */
const REPORT_TAIL_BYTES = 1 << 20;

/** The last line of `path`'s final MiB that `parse` accepts, or null. */
async function lastReport(path: string, parse: (line: string) => JobResult | null): Promise<JobResult | null> {
  const handle = await open(path, "r");
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, REPORT_TAIL_BYTES);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    const lines = buffer.toString("utf8").split("\n");
    for (let i = lines.length - 1; i >= 0; i--) {
      const found = parse(lines[i]!);
      if (found) return found;
    }
    return null;
  } finally {
    await handle.close();
  }
}

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export class SlurmExecutor implements Executor {
  readonly name = "slurm";
  private readonly watcher: JobWatcher;
  private readonly signing: ReportSigning;

  private constructor(private readonly options: SlurmExecutorOptions) {
    this.signing = new ReportSigning(options.reportKey);
    this.watcher = new JobWatcher({ pollMs: options.pollMs ?? 500, ...options.watch });
  }

  static async create(options: SlurmExecutorOptions): Promise<SlurmExecutor> {
    // Step users pass through (never list) these directories to reach their run's own, 0700 one.
    for (const dir of [options.dir, join(options.dir, "jobs"), join(options.dir, "work")]) {
      await mkdir(dir, { recursive: true, mode: 0o711 });
      if ((await stat(dir)).uid === process.getuid?.()) await chmod(dir, 0o711);
    }
    // The servers' own: how far each job's output is in the step log (never the step user's).
    await mkdir(join(options.dir, "state"), { recursive: true, mode: 0o700 });
    return new SlurmExecutor(options);
  }

  async problem(): Promise<string | null> {
    return (await this.dirProblem()) ?? (await this.options.problem?.()) ?? null;
  }

  /**
   * A step user other than the server's must pass through every parent of the directory to open its
   * job output; without that, slurmd fails the job with nothing but "signal 53".
   */
  private async dirProblem(): Promise<string | null> {
    if (!this.options.stepUser) return null;
    for (let dir = this.options.dir; ; dir = dirname(dir)) {
      const info = await stat(dir);
      if ((info.mode & 0o001) === 0)
        return `the step user ${this.options.stepUser} cannot enter ${dir} (mode ${(info.mode & 0o777).toString(8)}), so it cannot reach ${this.options.dir} (TANDEM_SLURM_DIR): chmod o+x ${dir}`;
      if (dirname(dir) === dir) return null;
    }
  }

  private user: Promise<{ uid: number; gid: number } | null> | undefined;

  /** The step user's ids, looked up once (`id`), or null when steps run as the server's user. */
  private stepUser(): Promise<{ uid: number; gid: number } | null> {
    const name = this.options.stepUser;
    this.user ??= name ? userIds(name) : Promise.resolve(null);
    return this.user;
  }

  private runDir(kind: "jobs" | "work", runId: string): string {
    return join(this.options.dir, kind, runId);
  }

  workdir(runId: string, stepId: string, attempt: number): string {
    return join(this.runDir("work", runId), `${stepId}-${attempt}`);
  }

  /** The step user's private directory for a run (made by the server, handed to that user). */
  private async ownedDir(path: string): Promise<void> {
    await mkdir(path, { recursive: true, mode: 0o700 });
    const user = await this.stepUser();
    if (user) await chown(path, user.uid, user.gid);
  }

  private nonce(job: StepJob): string {
    return this.signing.nonce(job);
  }

  /** The key that signs this attempt's report: never in the script, which the step can read. */
  private signingKey(job: StepJob): Buffer {
    return this.signing.key(job);
  }

  private tailState(job: StepJob): TailState {
    return new TailState(join(this.options.dir, "state", `${job.runId}-${job.stepId}-${job.attempt}.json`));
  }

  /**
   * The batch script names the file that holds the agent's job, never the job itself: Slurm hands
   * a job's script to every process of its user (`scontrol write batch_script`), and the steps of
   * every run share that user.
   */
  private script(jobFile: string): string {
    const argv = [...this.options.agentArgv, jobFile].map(shellQuote).join(" ");
    return [
      "#!/bin/bash",
      // --export=NONE: the server's environment (its credentials) does not reach the node.
      `export PATH=${shellQuote(process.env.PATH ?? "/usr/bin:/bin")}`,
      `exec ${argv}`,
      "",
    ].join("\n");
  }

  /** The attempt's files for its agent: the report key and the job, both read and deleted by the agent. */
  private agentFiles(job: StepJob): { keyFile: string; jobFile: string } {
    const base = join(this.runDir("jobs", job.runId), `${job.stepId}-${job.attempt}`);
    return { keyFile: `${base}.key`, jobFile: `${base}.job` };
  }

  /**
   * Writes a file only the step user (and root) can read. One left by a driver that died before
   * sbatch is replaced: the attempt goes on under its number (a non-root server cannot write over
   * its own 0400 file).
   */
  private async privateFile(path: string, text: string): Promise<void> {
    await rm(path, { force: true });
    await writeFile(path, text, { mode: 0o400 });
    const user = await this.stepUser();
    if (user) await chown(path, user.uid, user.gid);
  }

  private async submit(job: StepJob, jobName: string, out: string, err: string): Promise<string> {
    const comment = `tandem:${job.stepId}:${job.attempt}`;
    const known = (await jobsNamed(jobName)).find((j) => j.comment === comment);
    if (known) return known.id;
    await this.ownedDir(this.runDir("work", job.runId));
    const user = await this.stepUser();
    // The agent reads these files and deletes them before the step starts (agent-job.ts, main.ts).
    // Its step's sandbox hides the whole directory of every run but its own step directory.
    const { keyFile, jobFile } = this.agentFiles(job);
    await this.privateFile(keyFile, this.signingKey(job).toString("hex"));
    const agentJob = agentJobFor(job, this.nonce(job), job.env, keyFile, [this.options.dir]);
    await this.privateFile(jobFile, JSON.stringify(agentJob));
    const flags = [
      ...sbatchFlags({
        jobName,
        resources: job.resources,
        timeoutMs: job.timeoutMs,
        step: job.execution.slurm,
        defaults: this.options.defaults,
      }),
      `--comment=${comment}`,
      "--export=NONE",
      `--chdir=${this.runDir("work", job.runId)}`,
      `--output=${out}`,
      `--error=${err}`,
      // Tandem retries a step itself: a job Slurm requeued (node failure) would run the step twice.
      "--no-requeue",
      ...(user ? [`--uid=${user.uid}`, `--gid=${user.gid}`] : []),
    ];
    return sbatch(flags, this.script(jobFile));
  }

  async run(job: StepJob): Promise<JobResult> {
    const failed = (error: string): JobResult => ({ outcome: "failed", exitCode: null, outputs: {}, error });
    if (!job.env.TANDEM_URL || !job.env.TANDEM_TOKEN)
      return failed("a Slurm step needs the server's API (TANDEM_URL) for its inputs and outputs; none is set");
    const jobName = slurmJobName(job.project, job.pipeline, job.stepName, job.runId);
    const jobsDir = this.runDir("jobs", job.runId);
    const out = join(jobsDir, `${job.stepId}-${job.attempt}.out`);
    const err = join(jobsDir, `${job.stepId}-${job.attempt}.err`);
    let id = job.remoteJob ?? null;
    if (!id) {
      const blocked = await this.dirProblem();
      if (blocked) return failed(blocked);
      try {
        await this.ownedDir(jobsDir);
        id = await this.submit(job, jobName, out, err);
      } catch (error) {
        return failed(`sbatch refused the job: ${(error as Error).message}`);
      }
      await job.onSubmitted?.(id);
    }
    return this.follow(job, id, out, err);
  }

  private async follow(job: StepJob, id: string, out: string, err: string): Promise<JobResult> {
    const nonce = this.nonce(job);
    const key = this.signingKey(job);
    let report: JobResult | null = null;
    // A reattached (or adopted) job's output is read from where the previous server left it, not
    // logged again; a new attempt has no saved offsets.
    const state = this.tailState(job);
    const from = await state.load();
    const stdout = new OutputTail(
      out,
      (lines) => {
        for (const line of lines) {
          const parsed = parseSignedResultLine(nonce, key, line);
          if (parsed) report = parsed;
          else job.onOutput("stdout", line);
        }
      },
      from.out,
    );
    const stderr = new OutputTail(err, (lines) => job.onOutput("stderr", lines.join("")), from.err);
    const save = () => state.save({ out: stdout.delivered, err: stderr.delivered });
    const read = async (final = false) => {
      await stdout.read(final);
      await stderr.read(final);
      await save();
    };
    const drain = () => read(true);
    const letGo: JobResult = {
      outcome: "cancelled",
      exitCode: null,
      outputs: {},
      error: `Slurm job ${id} left running for the server that takes the run over`,
    };
    if (released(job.signal)) return letGo;

    return new Promise<JobResult>((resolve) => {
      let stopping: "cancelled" | "timed_out" | "hopeless" | null = null;
      let hopeless = "";
      let waiting: string | null | undefined;
      let startedAt: number | null = null;
      let done = false;
      const cancel = (why: "cancelled" | "timed_out" | "hopeless") => {
        if (stopping) return;
        stopping = why;
        scancel(id).catch(() => undefined);
      };
      // Cancelled: scancel. Let go (this server stops, or another took the run): the job runs on
      // and the next driver reattaches to it, continuing its output where this one saved it.
      const onAbort = () => (released(job.signal) ? void finish(letGo, false) : cancel("cancelled"));
      job.signal.addEventListener("abort", onAbort, { once: true });
      if (job.signal.aborted) cancel("cancelled");
      // Slurm's --time is whole minutes; the step's own timeout is enforced here too (plus a grace
      // for the agent, which stops the step itself and reports timed_out).
      let reading = false;
      const tailTimer = setInterval(() => {
        if (!reading) {
          reading = true;
          void read()
            .catch(() => undefined)
            .finally(() => (reading = false));
        }
        if (job.timeoutMs !== undefined && startedAt !== null && Date.now() - startedAt > job.timeoutMs + 10_000)
          cancel("timed_out");
      }, this.options.pollMs ?? 500);

      const finish = async (result: JobResult, ended = true) => {
        if (done) return;
        done = true;
        unwatch();
        clearInterval(tailTimer);
        job.signal.removeEventListener("abort", onAbort);
        if (ended) {
          await drain().catch(() => undefined);
          await state.remove().catch(() => undefined);
          // A job that never started (cancelled while pending) left its agent's files behind.
          const { keyFile, jobFile } = this.agentFiles(job);
          await Promise.all([rm(keyFile, { force: true }), rm(jobFile, { force: true })]).catch(() => undefined);
        }
        resolve(result);
      };

      const unwatch = this.watcher.watch(id, (update: JobUpdate) => {
        if (update.kind === "queued") {
          const reason =
            update.state === "PENDING"
              ? `waiting for Slurm${update.reason && update.reason !== "None" ? `: ${update.reason}` : ""}`
              : update.state === "RUNNING"
                ? null
                : undefined;
          if (update.state === "RUNNING" && startedAt === null) startedAt = Date.now();
          if (reason !== undefined && reason !== waiting) {
            waiting = reason;
            job.onWaiting?.(reason);
          }
          if (update.state === "PENDING" && HOPELESS_REASONS.has(update.reason)) {
            hopeless = update.reason;
            cancel("hopeless");
          }
          return;
        }
        if (update.kind === "unknown") {
          // The step fails; the job, if it still runs somewhere, must not go on beside a retry.
          scancel(id).catch(() => undefined);
          return void finish({ outcome: "failed", exitCode: null, outputs: {}, error: update.error });
        }
        void (async () => {
          await drain().catch(() => undefined);
          // A previous driver may have read the report line (and saved its offset past it) before it
          // died: the report is looked for again in the file's end, never taken as missing.
          report ??= await lastReport(out, (line) => parseSignedResultLine(nonce, key, line)).catch(() => null);
          void finish(this.outcome(update.accounting, report, stopping, hopeless, job));
        })();
      });
    });
  }

  private outcome(
    a: AccountingEntry,
    report: JobResult | null,
    stopping: "cancelled" | "timed_out" | "hopeless" | null,
    hopeless: string,
    job: StepJob,
  ): JobResult {
    const base = { outputs: {}, exitCode: a.signal ? null : a.exitCode };
    if (stopping === "hopeless")
      return {
        ...base,
        outcome: "failed",
        error: `Slurm cannot run this job: ${hopeless}${REASON_HELP[hopeless] ? ` (${REASON_HELP[hopeless]})` : ""}`,
      };
    if (stopping === "cancelled") return { ...base, outcome: "cancelled", error: "cancelled (scancel)" };
    if (a.state === "TIMEOUT" || stopping === "timed_out")
      return { ...base, outcome: "timed_out", error: `timed out after ${job.timeoutMs} ms (Slurm state ${a.state})` };
    if (report && a.state === "COMPLETED") return report;
    if (report && report.outcome !== "succeeded") return report;
    if (a.state === "OUT_OF_MEMORY")
      return { ...base, outcome: "failed", error: "Slurm killed the job: out of memory" };
    if (a.state === "COMPLETED")
      return { ...base, outcome: "failed", error: "the step agent ended without reporting (see the job's output)" };
    const why = a.signal ? `killed by signal ${a.signal}` : `exited with code ${a.exitCode}`;
    return {
      ...base,
      outcome: "failed",
      error: `Slurm job ${a.state}: ${why}${a.reason && a.reason !== "None" ? ` (${a.reason})` : ""}`,
    };
  }

  killOrphan(info: StepProcess): Promise<string> {
    return Promise.resolve(`slurm job ${info.pid} left to Slurm`);
  }
}
