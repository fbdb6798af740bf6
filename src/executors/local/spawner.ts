/**
 * Starts local steps from a small helper process (spawner-process.mjs) instead of the driving
 * process itself. Node starts a child with fork + exec, and the event loop that drives the run waits
 * until the child has exec'd. Forking a process of ~200 MB (the server or an embedded `tandem run`,
 * with its stores, routes and V8 heap) copies its page tables and write-protects all of its pages:
 * the fork itself, then a page fault on every page the driver writes afterwards. A profile of a
 * 200-step run of `true` steps (perf, load 10-12) put about 30% of the driving thread's CPU there
 * (fork 8.5%, page faults 17.7%), and the loop stood still for 50-70 ms per step while the child
 * waited for a core to exec on. The helper holds a few MB of heap, forks cheaply on the other core,
 * and the driver only sends and receives messages.
 *
 * One helper per process, started on first use and shared by every LocalExecutor in it. It does not
 * keep the process alive while no step runs. If it dies, the steps it started are reported failed
 * (their process groups killed) and the next step starts a new one.
 */
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { assertNever } from "../../core/errors.js";

export interface SpawnRequest {
  /** The program (an absolute path) and its arguments. */
  file: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
}

export interface SpawnHandlers {
  /** The step's process started (its pid leads its own process group). */
  started(pid: number, startTime: string | null): void;
  output(stream: "stdout" | "stderr", text: string): void;
  /** It exited with this code or signal and its output has all been delivered. */
  ended(code: number | null, signal: NodeJS.Signals | null): void;
  /** It could not be started, or the spawner died while it ran. */
  failed(message: string): void;
}

type FromSpawner =
  | { t: "started"; id: number; pid: number; startTime: string | null }
  | { t: "out"; id: number; stream: "stdout" | "stderr"; text: string }
  | { t: "end"; id: number; code: number | null; signal: NodeJS.Signals | null }
  | { t: "error"; id: number; message: string };

interface Pending {
  handlers: SpawnHandlers;
  pid: number | null;
}

const HELPER = fileURLToPath(new URL("./spawner-process.mjs", import.meta.url));

export class StepSpawner {
  private static instance: StepSpawner | undefined;
  private helper: ChildProcess | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  /** The process's spawner. */
  static shared(): StepSpawner {
    StepSpawner.instance ??= new StepSpawner();
    return StepSpawner.instance;
  }

  /** Starts the helper ahead of the first step, so that step does not wait for Node to start. */
  warm(): void {
    this.ensureHelper();
  }

  /**
   * Ends the helper when no step runs, and waits for it: its CPU (and its steps') is then counted in
   * this process's children, as a step's was when this process started it (GNU time, the benches).
   * A later step starts a new helper.
   */
  async close(): Promise<void> {
    const helper = this.helper;
    if (!helper || this.pending.size > 0) return;
    this.helper = null;
    if (helper.exitCode !== null || helper.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => helper.once("exit", () => resolve()));
    helper.ref(); // an unreferenced child would let the loop end before its exit is seen
    if (helper.connected) helper.disconnect();
    else helper.kill("SIGTERM");
    await exited;
  }

  spawn(request: SpawnRequest, handlers: SpawnHandlers): void {
    const helper = this.ensureHelper();
    const id = this.nextId++;
    this.pending.set(id, { handlers, pid: null });
    this.holdOpen(true);
    helper.send({ t: "spawn", id, ...request }, (error: Error | null) => {
      if (error) this.settle(id, (h) => h.failed(`the step spawner could not be reached: ${error.message}`));
    });
  }

  private ensureHelper(): ChildProcess {
    if (this.helper && this.helper.connected) return this.helper;
    const helper = fork(HELPER, [], {
      // Nothing of this process's flags (--cpu-prof, --import loaders, inspector) or NODE_OPTIONS:
      // the helper runs Node's own modules only. Each step's environment comes with its request.
      execArgv: [],
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
      stdio: ["ignore", "ignore", "inherit", "ipc"],
      serialization: "json",
    });
    helper.on("message", (message: FromSpawner) => this.receive(message));
    helper.on("exit", (code, signal) => {
      if (this.helper === helper) this.helper = null;
      const why = `the step spawner exited (${signal ?? `code ${code}`}) while the step ran`;
      for (const id of [...this.pending.keys()]) {
        const entry = this.pending.get(id)!;
        if (entry.pid !== null) killGroup(entry.pid, "SIGKILL");
        this.settle(id, (h) => h.failed(why));
      }
    });
    helper.on("error", () => undefined); // an exit follows
    this.helper = helper;
    this.holdOpen(this.pending.size > 0);
    return helper;
  }

  /** The helper keeps this process alive only while a step runs. */
  private holdOpen(hold: boolean): void {
    const helper = this.helper;
    if (!helper) return;
    if (hold) {
      helper.ref();
      helper.channel?.ref();
    } else {
      helper.unref();
      helper.channel?.unref();
    }
  }

  private settle(id: number, call: (handlers: SpawnHandlers) => void): void {
    const entry = this.pending.get(id);
    if (!entry) return;
    this.pending.delete(id);
    if (this.pending.size === 0) this.holdOpen(false);
    call(entry.handlers);
  }

  private receive(message: FromSpawner): void {
    const entry = this.pending.get(message.id);
    if (!entry) return;
    switch (message.t) {
      case "started":
        entry.pid = message.pid;
        entry.handlers.started(message.pid, message.startTime);
        return;
      case "out":
        entry.handlers.output(message.stream, message.text);
        return;
      case "end":
        this.settle(message.id, (h) => h.ended(message.code, message.signal));
        return;
      case "error":
        this.settle(message.id, (h) => h.failed(message.message));
        return;
      default:
        assertNever(message, "message from the step spawner");
    }
  }
}

export function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}
