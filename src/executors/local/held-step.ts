/**
 * A local step made ready while it waits for a free slot of its run (Executor.prepare): its
 * directory, and its sandbox held just before the step's command (bwrap --block-fd). When the slot
 * opens, only the step's running row and one message to the spawner stand between it and its
 * command.
 *
 * Why: making the sandbox (bwrap's exec, its namespaces and mounts, its init) is most of the time
 * from one step's end to the next one's start. A held sandbox then started `true` in 7-11 ms where a
 * new one took 24-33 ms (bwrap from CPython, 15 rounds each, alternated, load 10, issue 18). It costs
 * no CPU more: the same work, done while the steps before it run.
 *
 * Its CPU is what is left: about 14 ms per sandboxed start over a bare one here (bwrap 17 ms,
 * `true` posix_spawned 3 ms; medians of 3 rounds of 60, load 13-15, issue 18), of which bwrap's own
 * exec and minimal namespace (`bwrap --bind / / true`) are 11 of 14 and its ~70 mount calls the
 * rest. A per-run namespace holder in CPython that forks each step, unshares its mount and pid
 * namespaces, mounts its hiding tmpfs, its directory and /proc, and forks the pid-1 reaper that
 * posix_spawns the command, measured 23 ms (a clone(2) through ctypes instead of os.fork: 15):
 * a fork of CPython costs about 4 ms here against 1.3 for a small C program, its child's copied
 * pages being written at once. The same steps in C (clone with the two namespaces, four mounts, a
 * reaper that posix_spawns `true`) took 6 ms: the floor is a native launcher, which Tandem does not
 * ship.
 *
 * A held process is let go (`release`) or dropped (its group killed) exactly once; the spawner
 * reports its events to whoever released it, in order, those from before the release first.
 */
import type { JobResult, StepJob } from "../../core/pipelines/ports.js";
import type { SpawnHandle, SpawnHandlers, SpawnRequest } from "./spawner.js";
import { StepSpawner } from "./spawner.js";

/** How a step's command is started: its argv and environment, and whether in the sandbox. */
export interface Launch {
  argv: string[];
  env: Record<string, string>;
  isolated: boolean;
}

export class HeldProcess {
  private handlers: SpawnHandlers | null = null;
  private readonly early: Array<(handlers: SpawnHandlers) => void> = [];
  private readonly handle: SpawnHandle;
  /** Its pid (leading its process group) and start time, once the spawner has reported them. */
  started: { pid: number; startTime: string | null } | null = null;

  /** Starts `launch` held: `request.gate` indexes its `--block-fd` argument. */
  constructor(
    readonly launch: Launch,
    request: SpawnRequest,
  ) {
    const deliver = (call: (handlers: SpawnHandlers) => void) =>
      this.handlers ? call(this.handlers) : this.early.push(call);
    this.handle = StepSpawner.shared().spawn(request, {
      started: (pid, startTime) => {
        this.started = { pid, startTime };
        deliver((h) => h.started(pid, startTime));
      },
      output: (stream, text) => deliver((h) => h.output(stream, text)),
      ended: (code, signal) => deliver((h) => h.ended(code, signal)),
      failed: (message) => deliver((h) => h.failed(message)),
    });
  }

  /** Lets the step's command start; its events (those so far first) go to `handlers`. */
  release(handlers: SpawnHandlers): void {
    this.handlers = handlers;
    for (const call of this.early.splice(0)) call(handlers);
    this.handle.go();
  }

  /** Kills the held sandbox: the step's command never starts. */
  drop(): void {
    this.handle.drop();
  }
}

/** A step made ready ahead (LocalExecutor.prepare), taken by its `run`. */
export interface HeldStep {
  /** The job it was made ready for: `run` lets it go only for one that starts the same (sameStart). */
  job: StepJob;
  /** Settles once the directory is made (a failed result if it could not be) and the process is held. */
  ready: Promise<{ failed: JobResult | null; process: HeldProcess | null }>;
  /** Set when the step will not run: a process held after that is dropped at once. */
  dropped: boolean;
  /** The held process once `ready` has settled with one (heldProcess reads it without waiting). */
  process?: HeldProcess | null;
}

/**
 * Whether two jobs of one step directory start the same process in the same directory: command,
 * environment, workspace, inputs and outputs. A step held before its dependencies ended (the
 * engine's speculate.ts) was made from what its attempt was expected to be; this is what lets it go.
 */
export function sameStart(a: StepJob, b: StepJob): boolean {
  if (a.workdir !== b.workdir || a.workspace !== b.workspace || a.script !== b.script) return false;
  if (Boolean(a.inProcess) !== Boolean(b.inProcess)) return false;
  const same = (x: unknown, y: unknown) => JSON.stringify(x) === JSON.stringify(y);
  if (!same(a.inputs, b.inputs) || !same(a.outputs, b.outputs)) return false;
  const keys = Object.keys(a.env);
  if (keys.length !== Object.keys(b.env).length) return false;
  return keys.every((k) => Object.hasOwn(b.env, k) && a.env[k] === b.env[k]);
}
