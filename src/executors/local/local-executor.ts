/**
 * Runs steps as local child processes. Each attempt gets a private directory under
 * `<work dir>/<run>/<step>-<attempt>` (outside the server's home): the project's top-level entries appear in it as symlinks (so
 * `node steps/train.js` works as in the project folder), inputs are materialised under
 * `_tandem/inputs/` (every file verified against its hash), outputs are written under
 * `_tandem/outputs/`, and files a step writes for itself (metrics.json) stay private to it.
 *
 * A step is a process group of its own: a timeout or a cancel signals the whole group (children
 * included), SIGTERM first and SIGKILL after a grace period; whatever is left of the group when the
 * shell exits is killed too, so no step leaves processes behind.
 *
 * Where bubblewrap can run, each step runs in a sandbox (sandbox.ts) that hides the server's own
 * files and every other step's directory, and shows the step only its own processes.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { lstat, mkdir, readFile, stat } from "node:fs/promises";
import { hostname } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import type { ArtifactStore } from "../../core/artifacts/ports.js";
import type { Executor, JobResult, StepJob, StepProcess } from "../../core/pipelines/ports.js";
import { materializeTree, putTree } from "../../stores/artifacts/tree.js";
import { directCommand } from "./direct-command.js";
import { processIdentity } from "./process-identity.js";
import { BWRAP, programPath, sandboxArgv, sandboxForAsync, type SandboxMode, type SandboxStatus } from "./sandbox.js";
import { stepEnvironment } from "./step-env.js";
import { stepCaches } from "./step-writes.js";
import { terminateInsideSandbox } from "./sandbox-stop.js";
import { killGroup, StepSpawner, type SpawnHandlers } from "./spawner.js";
import { DirectorySweeper } from "./sweeper.js";
import { HeldProcess, sameStart, type HeldStep, type Launch } from "./held-step.js";

export interface LocalExecutorOptions {
  /** Where step directories go (config.workDir; made 0700, and refused if someone else owns it). */
  root: string;
  artifacts: ArtifactStore;
  /** Time between SIGTERM and SIGKILL on timeout or cancel (default 3000 ms). */
  killGraceMs?: number;
  /** Keep step directories after success, for debugging (default false; failed ones are always kept). */
  keepWorkdirs?: boolean;
  /** `auto`: bubblewrap when it runs here; `bwrap`: required; `none`: plain child processes (default "auto"). */
  sandbox?: SandboxMode;
  /** Paths no step may read: the server's home and files (serverPrivatePaths). The root is added. */
  hide?: string[];
  /** Folders a sandboxed step may write besides its own and the temporary ones (TANDEM_STEP_WRITABLE). */
  writable?: string[];
  /** More of what the server runs, read-only to steps even inside a writable folder (TANDEM_PYTHON's venv). */
  code?: string[];
}

/** bash where present (as DESIGN.md says), else sh. Looked up once per process. */
function findShell(): { path: string; args: string[] } {
  for (const candidate of ["/bin/bash", "/usr/bin/bash", "/usr/local/bin/bash"]) {
    if (existsSync(candidate)) return { path: candidate, args: ["--noprofile", "--norc", "-eo", "pipefail", "-c"] };
  }
  const which = spawnSync("sh", ["-c", "command -v bash"], { encoding: "utf8" });
  const found = which.stdout?.trim();
  if (which.status === 0 && found) return { path: found, args: ["--noprofile", "--norc", "-eo", "pipefail", "-c"] };
  return { path: "/bin/sh", args: ["-e", "-c"] };
}

let shell: { path: string; args: string[] } | undefined;

/**
 * The first part of `relativePath` below `root` that is a symbolic link, or null. Outputs are stored
 * by the server, outside the step's sandbox: a link planted by the step would make the server read
 * what the step itself cannot (its home, the database). Checked after the step has ended.
 */
async function linkOnTheWay(root: string, relativePath: string): Promise<string | null> {
  let current = root;
  for (const part of relativePath.split("/").filter(Boolean)) {
    current = join(current, part);
    const info = await lstat(current).catch(() => null);
    if (!info) return null;
    if (info.isSymbolicLink()) return relative(root, current);
  }
  return null;
}

/**
 * Makes a step's directory: one mkdir(2) once its run's directory exists. A recursive mkdir of
 * `<step>/_tandem/outputs` for every step was five (two failing) and a fifth of the driving thread's
 * file system time per `true` step (--cpu-prof, 200 steps, load 8; issue 18). `_tandem/` and its
 * folders are made by what puts something there (inputs, declared outputs).
 */
function makeStepDirectory(workdir: string): void {
  try {
    mkdirSync(workdir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EEXIST") {
      // Made ahead for this attempt by a driver that died before the attempt was recorded (held
      // steps, held-step.ts): no process runs in it, and its links would clash with the new ones,
      // so the resumed run failed the step ("EEXIST ... symlink"). Recorded attempts never come
      // back here: a resume gives a step that was running the next attempt number.
      rmSync(workdir, { recursive: true, force: true });
      mkdirSync(workdir);
    } else if (code === "ENOENT")
      mkdirSync(workdir, { recursive: true }); // the run's first step
    else throw error;
  }
}

export class LocalExecutor implements Executor {
  readonly name = "local";

  private isolation: Promise<SandboxStatus> | undefined;
  private readonly sweeper = new DirectorySweeper();
  /** Steps made ready ahead (prepare), by directory, until their run takes them. */
  private readonly held = new Map<string, HeldStep>();

  private constructor(private readonly options: LocalExecutorOptions) {}

  static async create(options: LocalExecutorOptions): Promise<LocalExecutor> {
    const root = resolve(options.root);
    await mkdir(root, { recursive: true, mode: 0o700 });
    // The default root is in the shared temp folder: refuse one another user made (or a symlink
    // planted there), which could read or swap what steps write.
    const info = await lstat(root);
    if (!info.isDirectory() || (process.getuid && info.uid !== process.getuid()))
      throw new Error(`step directory root ${root} is not a directory owned by this user (set TANDEM_WORK_DIR)`);
    const executor = new LocalExecutor({ ...options, root });
    // Probing bwrap is a process start (30-130 ms at load 10-17): made now, it overlaps the rest
    // of the process's start-up (an embedded `tandem run` builds its app meanwhile) instead of
    // delaying the first step.
    void executor.stepIsolation().catch(() => undefined);
    return executor;
  }

  /**
   * Whether steps run sandboxed, probed once without stopping the event loop. Rejects in `bwrap`
   * mode where bwrap cannot run (each step then fails with that message).
   */
  stepIsolation(): Promise<SandboxStatus> {
    this.isolation ??= sandboxForAsync(this.options.sandbox ?? "auto");
    return this.isolation;
  }

  workdir(runId: string, stepId: string, attempt: number): string {
    return join(this.options.root, runId, `${stepId}-${attempt}`);
  }

  private linkWorkspace(workspace: string, workdir: string): void {
    const root = this.options.root;
    for (const entry of readdirSync(workspace)) {
      const full = join(workspace, entry);
      // Never expose Tandem's own home (./.tandem by default) or clash with the step's own files.
      if (entry === "_tandem" || entry === ".tandem" || root === full || root.startsWith(`${full}/`)) continue;
      symlinkSync(full, join(workdir, entry));
    }
  }

  /**
   * Makes a step that waits for a slot ready to start (held-step.ts): its directory, and its
   * process held in its sandbox. Its `run` then starts it; the answer drops it if run never comes.
   */
  prepare(job: StepJob): () => void {
    if (job.inProcess || this.held.has(job.workdir)) return () => undefined;
    StepSpawner.shared().warm();
    const entry: HeldStep = { job, ready: null!, dropped: false };
    entry.ready = this.prepareDirectory(job).then(async (failed) => {
      if (failed || entry.dropped) return { failed, process: null };
      // Not sandboxed: there is nothing to hold a process in, and run makes the step's launch (its
      // command's PATH lookup and environment) once, instead of here and there again.
      const isolated = await this.stepIsolation().then(
        (status) => status.isolated,
        () => false,
      );
      if (!isolated) return { failed: null, process: null };
      const launch = await this.launchOf(job, true);
      // It cannot start: run says why.
      if ("outcome" in launch) return { failed: null, process: null };
      const { argv, env } = launch;
      const process = new HeldProcess(launch, {
        file: argv[0]!,
        args: argv.slice(1),
        cwd: job.workdir,
        env,
        gate: argv.indexOf("--block-fd"), // args[i] is argv[i + 1]: the descriptor's number
      });
      if (entry.dropped) process.drop();
      entry.process = process;
      return { failed: null, process };
    });
    this.held.set(job.workdir, entry);
    return () => {
      if (this.held.get(job.workdir) !== entry) return; // its run took it
      this.held.delete(job.workdir);
      // Not after a stop (the driver stops, or lost its lease): the step is left pending, and the
      // driver that carries on may make this very directory again, here or in another process.
      this.drop(entry, !job.signal.aborted);
    };
  }

  /**
   * The process held for `job`, if it has started and `run(job)` would let it go: the step's
   * running write records it with the step's other fields (Executor.heldProcess). One write less
   * per held step than recording it when it is let go, and no moment where the step shows as
   * running without the process a takeover would kill.
   */
  heldProcess(job: StepJob): StepProcess | null {
    const entry = this.held.get(job.workdir);
    const started = entry?.process?.started;
    if (!entry || entry.dropped || !started || !sameStart(entry.job, job)) return null;
    return { pid: started.pid, host: hostname(), startTime: started.startTime };
  }

  /**
   * Gives up a held step: its process is killed, and its directory removed when the step will not
   * run (`sweep`): no process of it ever ran there.
   */
  private drop(entry: HeldStep, sweep: boolean): void {
    entry.dropped = true;
    void entry.ready.then(({ failed, process }) => {
      process?.drop();
      if (sweep && !failed && !this.options.keepWorkdirs) this.sweeper.add(entry.job.workdir);
    });
  }

  async run(job: StepJob): Promise<JobResult> {
    const { workdir } = job;
    let entry = this.held.get(workdir);
    this.held.delete(workdir);
    if (entry && !sameStart(entry.job, job)) {
      // Held for a start that is not this one (speculate.ts): its directory is made again.
      this.drop(entry, false);
      await entry.ready;
      entry = undefined;
    }
    // The spawner's own start overlaps the preparation of the step's directory.
    if (!job.inProcess) StepSpawner.shared().warm();
    const { failed, process } = entry ? await entry.ready : { failed: await this.prepareDirectory(job), process: null };
    if (failed || job.signal.aborted) {
      process?.drop();
      return failed ?? { outcome: "cancelled", exitCode: null, outputs: {} };
    }

    const result = job.inProcess ? await this.runInProcess(job) : await this.spawnJob(job, process);
    if (result.outcome !== "succeeded") return result;

    const outputs: Record<string, string> = {};
    for (const output of job.outputs) {
      const path = join(workdir, output.path);
      const link = await linkOnTheWay(workdir, output.path);
      if (link)
        return {
          ...result,
          outcome: "failed",
          error: `declared output "${output.name}" is not stored: ${link} is a symbolic link (an output must be a real file or folder; links inside a folder are left out)`,
        };
      const info = await stat(path).catch(() => null);
      if (!info || (output.kind === "file" ? !info.isFile() : !info.isDirectory())) {
        return {
          ...result,
          outcome: "failed",
          error: `declared output "${output.name}" (${output.kind}) was not written to $TANDEM_OUTPUT_${output.name.toUpperCase()}`,
        };
      }
      outputs[output.name] = (await putTree(this.options.artifacts, path)).manifest;
    }
    let metricsText: string | undefined;
    if (job.metricsFile) {
      const link = await linkOnTheWay(workdir, job.metricsFile);
      if (link)
        return {
          ...result,
          outcome: "failed",
          error: `metrics file "${job.metricsFile}" is not read: ${link} is a symbolic link`,
        };
      metricsText = await readFile(join(workdir, job.metricsFile), "utf8").catch(() => undefined);
      if (metricsText === undefined)
        return { ...result, outcome: "failed", error: `declared metrics file "${job.metricsFile}" was not written` };
    }
    // Cleaning up is not on the critical path of the DAG: directories go in batches (sweeper.ts).
    if (!this.options.keepWorkdirs) this.sweeper.add(workdir);
    return { ...result, outputs, metricsText };
  }

  /** Makes the step's directory: null when done, else the failed result to return. */
  private async prepareDirectory(job: StepJob): Promise<JobResult | null> {
    const { workdir } = job;
    try {
      // Each attempt has a directory of its own (the attempt number is in its name): only one made
      // ahead by a driver that died is there already (makeStepDirectory). The directory and its
      // links are made synchronously: a few system calls of microseconds each, where each call
      // through the thread pool is a round trip on the loop that drives the run (about 5 ms per
      // step between a step's running write and its spawn at load 10, on the critical path of every
      // step; issue 18). Inputs are copied asynchronously: they can be large.
      makeStepDirectory(workdir);
      if (job.workspace) this.linkWorkspace(job.workspace, workdir);
      for (const input of job.inputs)
        await materializeTree(this.options.artifacts, input.manifest, join(workdir, input.path));
      for (const output of job.outputs) {
        const path = join(workdir, output.path);
        mkdirSync(output.kind === "dir" ? path : dirname(path), { recursive: true });
      }
      return null;
    } catch (error) {
      return {
        outcome: "failed",
        exitCode: null,
        outputs: {},
        error: `preparing the step directory failed: ${(error as Error).message}`,
      };
    }
  }

  private async runInProcess(job: StepJob): Promise<JobResult> {
    const controller = new AbortController();
    const onAbort = () => controller.abort();
    job.signal.addEventListener("abort", onAbort, { once: true });
    let timedOut = false;
    const timer = job.timeoutMs
      ? setTimeout(() => {
          timedOut = true;
          controller.abort();
        }, job.timeoutMs)
      : undefined;
    try {
      await job.inProcess!(job.workdir, controller.signal);
      if (timedOut)
        return { outcome: "timed_out", exitCode: null, outputs: {}, error: `timed out after ${job.timeoutMs} ms` };
      if (job.signal.aborted) return { outcome: "cancelled", exitCode: null, outputs: {}, error: "cancelled" };
      return { outcome: "succeeded", exitCode: 0, outputs: {} };
    } catch (error) {
      if (timedOut)
        return { outcome: "timed_out", exitCode: null, outputs: {}, error: `timed out after ${job.timeoutMs} ms` };
      if (job.signal.aborted) return { outcome: "cancelled", exitCode: null, outputs: {}, error: "cancelled" };
      return { outcome: "failed", exitCode: 1, outputs: {}, error: (error as Error).message };
    } finally {
      if (timer) clearTimeout(timer);
      job.signal.removeEventListener("abort", onAbort);
    }
  }

  /**
   * The step's argv and environment, in the sandbox where steps are isolated, or the failed result.
   * `held`: the sandbox waits for its spawner's go (--block-fd, its number set by the spawner).
   */
  private async launchOf(job: StepJob, held: boolean): Promise<Launch | JobResult> {
    shell ??= findShell();
    const sh = shell;
    let isolated: boolean;
    try {
      isolated = (await this.stepIsolation()).isolated;
    } catch (error) {
      return { outcome: "failed", exitCode: null, outputs: {}, error: (error as Error).message };
    }
    const hide = [...(this.options.hide ?? []), this.options.root];
    let env = stepEnvironment(job.env);
    // The home is read-only in the sandbox: tools' caches go to the step's directory (step-writes.ts).
    if (isolated) env = stepCaches(env, job.workdir);
    // One simple command runs without bash, which would exec it in its place anyway (direct-command.ts).
    const direct = sh.path.endsWith("/bash")
      ? directCommand({ script: job.script, env, workdir: job.workdir, hidden: isolated ? hide : [] })
      : null;
    let argv = direct ? direct.argv : [sh.path, ...sh.args, job.script];
    if (direct) env = direct.env;
    if (isolated) {
      const blockFd = held ? { blockFd: "-1" } : {};
      argv = sandboxArgv({
        command: argv,
        workdir: job.workdir,
        hide,
        writable: this.options.writable,
        show: job.workspace ? [job.workspace] : [],
        code: this.options.code,
        bwrap: programPath(BWRAP),
        ...blockFd,
      });
    }
    return { argv, env, isolated };
  }

  /** Runs the step's process: the one held for it (prepare), else a new one. */
  private async spawnJob(job: StepJob, held: HeldProcess | null): Promise<JobResult> {
    const launch = held?.launch ?? (await this.launchOf(job, false));
    if ("outcome" in launch) return launch;
    const { argv, env, isolated } = launch;
    return new Promise((resolvePromise) => {
      let pid: number | null = null;
      let stopping: "timed_out" | "cancelled" | null = null;
      let graceTimer: NodeJS.Timeout | undefined;
      const signalGroup = () => {
        if (pid === null || !stopping) return;
        // In the sandbox the group's leader is the outer bwrap, whose death would cut the grace short.
        if (isolated) terminateInsideSandbox(pid);
        else killGroup(pid, "SIGTERM");
        const group = pid;
        graceTimer = setTimeout(() => killGroup(group, "SIGKILL"), this.options.killGraceMs ?? 3000);
      };
      // A stop asked for before the spawner has reported the pid is carried out when it does.
      const stop = (why: "timed_out" | "cancelled") => {
        if (stopping) return;
        stopping = why;
        signalGroup();
      };
      const timer = job.timeoutMs ? setTimeout(() => stop("timed_out"), job.timeoutMs) : undefined;
      const onAbort = () => stop("cancelled");
      job.signal.addEventListener("abort", onAbort, { once: true });
      const done = (result: JobResult) => {
        if (timer) clearTimeout(timer);
        if (graceTimer) clearTimeout(graceTimer);
        job.signal.removeEventListener("abort", onAbort);
        resolvePromise(result);
      };
      const handlers: SpawnHandlers = {
        started: (startedPid, startTime) => {
          pid = startedPid;
          job.onStarted?.({ pid: startedPid, host: hostname(), startTime });
          signalGroup();
        },
        output: (stream, text) => job.onOutput(stream, text),
        failed: (message) =>
          done({
            outcome: "failed",
            exitCode: null,
            outputs: {},
            error: pid === null ? `could not start ${argv[0]}: ${message}` : message,
          }),
        ended: (code, signal) => {
          if (stopping === "timed_out")
            return done({
              outcome: "timed_out",
              exitCode: code,
              outputs: {},
              error: `timed out after ${job.timeoutMs} ms`,
            });
          if (stopping === "cancelled")
            return done({ outcome: "cancelled", exitCode: code, outputs: {}, error: "cancelled" });
          if (code === 0) return done({ outcome: "succeeded", exitCode: 0, outputs: {} });
          const why = code === null ? `killed by ${signal ?? "a signal"}` : `exited with code ${code}`;
          done({ outcome: "failed", exitCode: code, outputs: {}, error: why });
        },
      };
      if (held) held.release(handlers);
      else StepSpawner.shared().spawn({ file: argv[0]!, args: argv.slice(1), cwd: job.workdir, env }, handlers);
    });
  }

  settle(): Promise<void> {
    return this.sweeper.flush();
  }

  /** Ends the step spawner once no step runs (spawner.ts). */
  close(): Promise<void> {
    return StepSpawner.shared().close();
  }

  async killOrphan(info: StepProcess): Promise<string> {
    const what = `process ${info.pid} on ${info.host}`;
    if (info.host !== hostname()) return `${what} left alone: it is on another host`;
    if (info.startTime === null)
      return `${what} left alone: its start time was not recorded, so it may not be the step's`;
    const now = processIdentity(info.pid);
    if (now === null) return `${what} has already exited`;
    if (now !== info.startTime)
      return `${what} left alone: that pid now belongs to another process (started ${now}, the step's started ${info.startTime})`;
    killGroup(info.pid, "SIGKILL");
    return `${what} (the step's, started ${info.startTime}) killed with its process group`;
  }
}
