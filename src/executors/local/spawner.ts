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
 * (their process groups killed) and the next step starts a new one. *
 * The helper is spawner-process.py where the machine has a system python3 (CPython starts a child
 * with vfork, where Node forks: about 8 ms of CPU less per step, spawner-process.py says how it was
 * measured), else spawner-process.mjs. Both speak the same messages; steps wait for the helper's
 * "ready", and a Python helper that dies before it is replaced by the Node one for good.
 */
import { fork, spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { StringDecoder } from "node:string_decoder";
import { fileURLToPath } from "node:url";
import { assertNever } from "../../core/errors.js";

export interface SpawnRequest {
  /** The program (an absolute path) and its arguments. */
  file: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  /**
   * A held start: `args[gate]` is replaced by the number of a descriptor the process inherits, which
   * stays unreadable until `go()` (bwrap's --block-fd). Without it the process starts at once.
   */
  gate?: number;
}

/** A spawned request: `go` lets a held one (SpawnRequest.gate) begin, `drop` kills it instead. */
export interface SpawnHandle {
  go(): void;
  drop(): void;
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
  | { t: "ready" }
  | { t: "started"; id: number; pid: number; startTime: string | null }
  // The Node helper sends text it decoded; the Python one the bytes (base64), decoded here the same way.
  | { t: "out"; id: number; stream: "stdout" | "stderr"; text?: string; data?: string }
  | { t: "end"; id: number; code: number | null; signal: NodeJS.Signals | null }
  | { t: "error"; id: number; message: string };

type SpawnMessage = ({ t: "spawn"; id: number } & SpawnRequest) | { t: "go" | "drop"; id: number };

interface Pending {
  handlers: SpawnHandlers;
  pid: number | null;
  decoders?: { stdout: StringDecoder; stderr: StringDecoder };
}

/** Which helper starts the steps: Python where a system python3 is, else Node (default "auto"). */
export type SpawnerKind = "auto" | "python" | "node";

const NODE_HELPER = fileURLToPath(new URL("./spawner-process.mjs", import.meta.url));
const PYTHON_HELPER = fileURLToPath(new URL("./spawner-process.py", import.meta.url));
/**
 * The system's interpreter only, never one found on PATH: a version manager's shim (pyenv) takes
 * up to seconds to start, and the helper runs with the server's rights outside any sandbox.
 */
const SYSTEM_PYTHONS = ["/usr/bin/python3", "/usr/local/bin/python3"];

let systemPython: string | null | undefined;
function findSystemPython(): string | null {
  systemPython ??= SYSTEM_PYTHONS.find((path) => existsSync(path)) ?? null;
  return systemPython;
}

export class StepSpawner {
  private static instance: StepSpawner | undefined;
  private helper: ChildProcess | null = null;
  private helperIsPython = false;
  private ready = false;
  private pythonFailed = false;
  /** Requests sent before the helper said it was ready. */
  private queued: SpawnMessage[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  /**
   * @param kind which helper (default "auto")
   * @param python the interpreter for the Python helper (default: the system's, SYSTEM_PYTHONS)
   */
  constructor(
    private readonly kind: SpawnerKind = "auto",
    private readonly python?: string,
  ) {}

  /** The process's spawner. */
  static shared(): StepSpawner {
    StepSpawner.instance ??= new StepSpawner();
    return StepSpawner.instance;
  }

  /** Which helper runs now (for tests): "python", "node" or null. */
  helperKind(): "python" | "node" | null {
    return this.helper ? (this.helperIsPython ? "python" : "node") : null;
  }

  /** The helper's pid (for tests), or null. */
  helperPid(): number | null {
    return this.helper?.pid ?? null;
  }

  /** Starts the helper ahead of the first step, so that step does not wait for its start. */
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

  spawn(request: SpawnRequest, handlers: SpawnHandlers): SpawnHandle {
    this.ensureHelper();
    const id = this.nextId++;
    this.pending.set(id, { handlers, pid: null });
    this.holdOpen(true);
    this.post({ t: "spawn", id, ...request });
    // Only while the step is pending: a helper that died has failed it, and a new one has other ids.
    const control = (t: "go" | "drop") => () => void (this.pending.has(id) && this.post({ t, id }));
    return { go: control("go"), drop: control("drop") };
  }

  private post(message: SpawnMessage): void {
    if (this.ready) this.send(message);
    else this.queued.push(message);
  }

  private send(message: SpawnMessage): void {
    this.helper!.send(message, (error: Error | null) => {
      if (error) this.settle(message.id, (h) => h.failed(`the step spawner could not be reached: ${error.message}`));
    });
  }

  private usePython(): string | null {
    if (this.kind === "node" || this.pythonFailed) return null;
    return this.python ?? findSystemPython();
  }

  private ensureHelper(): ChildProcess {
    if (this.helper && this.helper.connected) return this.helper;
    const python = this.usePython();
    const options = {
      // Nothing of this process's flags (--cpu-prof, --import loaders, inspector), NODE_OPTIONS or
      // PYTHON* variables: the helper runs its runtime's own modules only. Each step's environment
      // comes with its request.
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
      stdio: ["ignore", "ignore", "inherit", "ipc"] as ("ignore" | "inherit" | "ipc")[],
      serialization: "json" as const,
    };
    const helper = python
      ? // -I: no PYTHON* variables, user site or working directory on the path; -S: no site
        // packages; -B: no bytecode written beside the script.
        spawn(python, ["-I", "-S", "-B", PYTHON_HELPER], options)
      : fork(NODE_HELPER, [], { ...options, execArgv: [] });
    this.helperIsPython = python !== null;
    // The Node helper is ready at once (Node buffers what is sent before it listens); the Python
    // one says so, and until then requests wait here, so that they can go to the Node helper if
    // Python cannot run the script.
    this.ready = python === null;
    helper.on("message", (message: FromSpawner) => this.receive(helper, message));
    helper.on("exit", (code, signal) => this.helperExited(helper, code, signal));
    helper.on("error", () => undefined); // an exit follows
    this.helper = helper;
    this.holdOpen(this.pending.size > 0);
    return helper;
  }

  private helperExited(helper: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.helper !== helper) return;
    this.helper = null;
    if (this.helperIsPython && !this.ready) {
      // Python is there but cannot run the helper (too old, broken): the Node helper takes over,
      // with the requests that waited.
      this.pythonFailed = true;
      const waiting = this.queued;
      this.queued = [];
      if (this.pending.size === 0) return;
      this.ensureHelper();
      for (const message of waiting) this.send(message);
      return;
    }
    const why = `the step spawner exited (${signal ?? `code ${code}`}) while the step ran`;
    this.queued = [];
    for (const id of [...this.pending.keys()]) {
      const entry = this.pending.get(id)!;
      if (entry.pid !== null) killGroup(entry.pid, "SIGKILL");
      this.settle(id, (h) => h.failed(why));
    }
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

  private receive(helper: ChildProcess, message: FromSpawner): void {
    if (message.t === "ready") {
      if (this.helper !== helper) return;
      this.ready = true;
      const waiting = this.queued;
      this.queued = [];
      for (const queued of waiting) this.send(queued);
      return;
    }
    const entry = this.pending.get(message.id);
    if (!entry) return;
    switch (message.t) {
      case "started":
        entry.pid = message.pid;
        entry.handlers.started(message.pid, message.startTime);
        return;
      case "out": {
        if (message.text !== undefined) return entry.handlers.output(message.stream, message.text);
        entry.decoders ??= { stdout: new StringDecoder("utf8"), stderr: new StringDecoder("utf8") };
        const text = entry.decoders[message.stream].write(Buffer.from(message.data ?? "", "base64"));
        if (text) entry.handlers.output(message.stream, text);
        return;
      }
      case "end":
        for (const stream of ["stdout", "stderr"] as const) {
          const rest = entry.decoders?.[stream].end();
          if (rest) entry.handlers.output(stream, rest);
        }
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
