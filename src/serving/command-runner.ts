/**
 * Command-served models: a process that serves HTTP (any language). Tandem materialises the model's
 * directory, starts the command with `PORT` set to a free port, waits for its health check, proxies
 * predictions to it, and restarts it when it exits (with a back-off). Two kinds use it:
 * - a directory with a MODEL.json (its keys below; others are the Registry's), spoken to in Tandem's
 *   own `{"instances"}` → `{"predictions"}` shape;
 * - an MLflow model, run by MLflow's scoring server (mlflow-serve.ts), spoken to in MLflow's
 *   `/invocations` format.
 *
 * MODEL.json keys Serving reads:
 *   command   string (run by /bin/sh in the model directory) or argv array       (required)
 *   health    GET path answering 2xx when ready                                  (default "/health")
 *   predict   POST path taking {"instances": [...]} → {"predictions": [...]}     (default "/predict")
 *   startup_timeout_s  how long the first health check may take                  (default 30)
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { UserCodeLauncher } from "../core/ports.js";
import type { ServableVersion } from "../core/serving/ports.js";
import { unsandboxedUserCode } from "../executors/local/user-code-sandbox.js";
import { terminateInsideSandbox } from "../executors/local/sandbox-stop.js";
import type { ModelRunner } from "../core/serving/runtime.js";
import type { ModelSignature } from "../core/training/signature.js";

export interface CommandManifestServing {
  command: string | string[];
  health?: string;
  predict?: string;
  startup_timeout_s?: number;
}

/** How requests and answers look on the wire of a model's process. */
export interface PredictProtocol {
  /** The request body for these instances, and each instance keyed by feature name for the log. */
  request(instances: unknown[]): { body: unknown; features: Array<Record<string, unknown>> };
  /** One prediction per instance from the process's answer; throws with the process's reason otherwise. */
  response(status: number, text: string, rows: number): unknown[];
}

export interface CommandSpec {
  /** A string (run by /bin/sh in the model directory) or an argv array. */
  command: string | string[];
  /** GET path answering 2xx when ready. */
  health: string;
  /** POST path of predictions. */
  predict: string;
  /** How long the first health check may take, seconds. */
  startupTimeoutS: number;
  /** Extra environment for the process (besides PORT and TANDEM_MODEL; the server's own settings are never passed on). */
  env?: Record<string, string>;
  protocol: PredictProtocol;
}

/** Tandem's own shape: `{"instances": [...]}` → `{"predictions": [...]}`, one per instance. */
export const TANDEM_PROTOCOL: PredictProtocol = {
  request: (instances) => ({
    body: { instances },
    features: instances.map((i) =>
      i !== null && typeof i === "object" && !Array.isArray(i) ? (i as Record<string, unknown>) : { values: i },
    ),
  }),
  response(status, text, rows) {
    if (status < 200 || status >= 300)
      throw new Error(`the model's process answered HTTP ${status}: ${text.slice(0, 200)}`);
    const body = JSON.parse(text) as { predictions?: unknown[] };
    if (!Array.isArray(body.predictions) || body.predictions.length !== rows) {
      throw new Error(`the model's process must answer {"predictions": [...]} with one per instance`);
    }
    return body.predictions;
  },
};

/** The spec of a MODEL.json directory. */
export function commandSpecOf(manifest: CommandManifestServing): CommandSpec {
  return {
    command: manifest.command,
    health: manifest.health ?? "/health",
    predict: manifest.predict ?? "/predict",
    startupTimeoutS: manifest.startup_timeout_s ?? 30,
    protocol: TANDEM_PROTOCOL,
  };
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  await new Promise((r) => server.close(r));
  return port;
}

/** The command runs in its own process group (detached) so a shell's children stop with it. */
function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (child.pid) process.kill(-child.pid, signal);
  } catch {
    child.kill(signal);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class CommandRunner implements ModelRunner {
  private child: ChildProcess | null = null;
  /** Whether `child` is bwrap's outer process around the model's (stopped as sandbox-stop.ts says). */
  private sandboxed = false;
  private port = 0;
  private healthy = false;
  private stopping = false;
  private inFlight = 0;
  private restarts = 0;
  /** Last lines of the process's stderr, for error messages. */
  private stderrTail = "";

  readonly signature: ModelSignature | null;

  private constructor(
    readonly model: ServableVersion,
    private readonly dir: string,
    private readonly spec: CommandSpec,
    private readonly launcher: UserCodeLauncher,
  ) {
    this.signature = model.signature;
  }

  /**
   * Starts the process through `launcher` (the sandbox, user-code-sandbox.ts; default: none, the
   * environment scrubbed) and waits for its health check; throws with its last stderr lines when it
   * cannot start.
   */
  static async create(
    model: ServableVersion,
    dir: string,
    spec?: CommandSpec,
    launcher: UserCodeLauncher = unsandboxedUserCode,
  ): Promise<CommandRunner> {
    const runner = new CommandRunner(
      model,
      dir,
      spec ?? commandSpecOf(JSON.parse(await readFile(join(dir, "MODEL.json"), "utf8")) as CommandManifestServing),
      launcher,
    );
    try {
      await runner.start();
    } catch (error) {
      // Never started: it must not linger, restarting in the background, behind a load that failed.
      await runner.close();
      throw error;
    }
    return runner;
  }

  private get base(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  private async start(): Promise<void> {
    this.port = await freePort();
    this.healthy = false;
    const cmd = this.spec.command;
    const launch = await this.launcher({
      command: Array.isArray(cmd) ? cmd : ["/bin/sh", "-c", cmd],
      dir: this.dir,
      readOnlyDir: true,
      env: { ...this.spec.env, PORT: String(this.port), TANDEM_MODEL: `${this.model.model}@${this.model.version}` },
    });
    const child = spawn(launch.argv[0]!, launch.argv.slice(1), {
      cwd: this.dir,
      env: launch.env,
      stdio: ["ignore", "ignore", "pipe"],
      detached: true,
    });
    this.child = child;
    this.sandboxed = launch.sandboxed;
    child.stderr?.on(
      "data",
      (chunk: Buffer) => (this.stderrTail = (this.stderrTail + chunk.toString("utf8")).slice(-2000)),
    );
    const gone = () => {
      if (this.child !== child) return;
      this.healthy = false;
      this.child = null;
      if (!this.stopping) void this.restart();
    };
    // A command that cannot be spawned at all (missing program, missing directory) is an exit, not a crash of Tandem.
    child.on("error", (error) => {
      this.stderrTail += `\n${error.message}`;
      gone();
    });
    child.on("exit", gone);
    const deadline = Date.now() + this.spec.startupTimeoutS * 1000;
    while (Date.now() < deadline) {
      if (this.child !== child) throw new Error(`model command exited during startup: ${this.lastStderrLines()}`);
      if (await this.checkHealth()) {
        this.healthy = true;
        return;
      }
      await sleep(100);
    }
    killGroup(child, "SIGKILL");
    throw new Error(
      `model command did not answer ${this.spec.health} within ${this.spec.startupTimeoutS} s: ${this.lastStderrLines()}`,
    );
  }

  /** The process's last meaningful stderr lines (a Python traceback ends with the exception). */
  private lastStderrLines(): string {
    const lines = this.stderrTail
      .split("\n")
      .map((l) => l.trim())
      .filter(Boolean);
    return lines.slice(-3).join(" | ") || "(no output on stderr)";
  }

  private async restart(): Promise<void> {
    // Back-off: 0.2 s, 0.4 s, … capped at 10 s, so a crash loop does not eat the CPU.
    const delay = Math.min(10_000, 200 * 2 ** Math.min(this.restarts, 6));
    this.restarts++;
    await sleep(delay);
    if (this.stopping) return;
    try {
      await this.start();
      this.restarts = 0;
    } catch {
      if (!this.stopping && !this.child) void this.restart();
    }
  }

  async checkHealth(): Promise<boolean> {
    try {
      const res = await fetch(this.base + this.spec.health, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      return res.ok;
    } catch {
      return false;
    }
  }

  ready(): boolean {
    return this.healthy;
  }

  async predict(instances: unknown[]): Promise<{ predictions: unknown[]; features: Array<Record<string, unknown>> }> {
    if (!this.healthy) throw new Error("the model's process is not running (restarting)");
    const { body, features } = this.spec.protocol.request(instances);
    this.inFlight++;
    try {
      const res = await fetch(this.base + this.spec.predict, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      });
      const text = await res.text();
      return { predictions: this.spec.protocol.response(res.status, text, instances.length), features };
    } finally {
      this.inFlight--;
    }
  }

  /** The process id (tests kill it to check the restart). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  async close(): Promise<void> {
    while (this.inFlight > 0) await sleep(5);
    this.stopping = true;
    const child = this.child;
    this.child = null;
    if (child?.pid && child.exitCode === null && child.signalCode === null) {
      // In the sandbox a TERM to the group would end bwrap first, and with it the model, at once.
      if (this.sandboxed) terminateInsideSandbox(child.pid);
      else killGroup(child, "SIGTERM");
      const timer = setTimeout(() => killGroup(child, "SIGKILL"), 3000);
      await once(child, "exit").catch(() => undefined);
      clearTimeout(timer);
    }
  }
}
