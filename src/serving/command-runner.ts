/**
 * Command-served models: a directory with a MODEL.json whose `command` serves HTTP (any language).
 * Tandem materialises the directory, starts the command with `PORT` set to a free port, waits for its
 * health check, proxies predictions to it, and restarts it when it exits (with a back-off).
 *
 * MODEL.json keys Serving reads (others are the Registry's):
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
import type { ServableVersion } from "../core/serving/ports.js";
import type { ModelRunner } from "../core/serving/runtime.js";
import type { ModelSignature } from "../core/training/signature.js";

export interface CommandManifestServing {
  command: string | string[];
  health?: string;
  predict?: string;
  startup_timeout_s?: number;
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
    private readonly manifest: CommandManifestServing,
  ) {
    this.signature = model.signature;
  }

  static async create(model: ServableVersion, dir: string): Promise<CommandRunner> {
    const manifest = JSON.parse(await readFile(join(dir, "MODEL.json"), "utf8")) as CommandManifestServing;
    const runner = new CommandRunner(model, dir, manifest);
    await runner.start();
    return runner;
  }

  private get base(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  private async start(): Promise<void> {
    this.port = await freePort();
    this.healthy = false;
    const env = { ...process.env, PORT: String(this.port), TANDEM_MODEL: `${this.model.model}@${this.model.version}` };
    const cmd = this.manifest.command;
    const child = Array.isArray(cmd)
      ? spawn(cmd[0]!, cmd.slice(1), { cwd: this.dir, env, stdio: ["ignore", "ignore", "pipe"], detached: true })
      : spawn("/bin/sh", ["-c", cmd], { cwd: this.dir, env, stdio: ["ignore", "ignore", "pipe"], detached: true });
    this.child = child;
    child.stderr?.on(
      "data",
      (chunk: Buffer) => (this.stderrTail = (this.stderrTail + chunk.toString("utf8")).slice(-2000)),
    );
    child.on("exit", () => {
      if (this.child !== child) return;
      this.healthy = false;
      this.child = null;
      if (!this.stopping) void this.restart();
    });
    const deadline = Date.now() + (this.manifest.startup_timeout_s ?? 30) * 1000;
    while (Date.now() < deadline) {
      if (this.child !== child)
        throw new Error(
          `model command exited during startup: ${this.stderrTail.trim().split("\n").slice(-3).join(" | ")}`,
        );
      if (await this.checkHealth()) {
        this.healthy = true;
        return;
      }
      await sleep(100);
    }
    killGroup(child, "SIGKILL");
    throw new Error(
      `model command did not answer ${this.manifest.health ?? "/health"} within ${this.manifest.startup_timeout_s ?? 30} s`,
    );
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
      const res = await fetch(this.base + (this.manifest.health ?? "/health"), { signal: AbortSignal.timeout(2000) });
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
    this.inFlight++;
    try {
      const res = await fetch(this.base + (this.manifest.predict ?? "/predict"), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ instances }),
        signal: AbortSignal.timeout(30_000),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`the model's process answered HTTP ${res.status}: ${text.slice(0, 200)}`);
      const body = JSON.parse(text) as { predictions?: unknown[] };
      if (!Array.isArray(body.predictions) || body.predictions.length !== instances.length) {
        throw new Error(`the model's process must answer {"predictions": [...]} with one per instance`);
      }
      const features = instances.map((i) =>
        i !== null && typeof i === "object" && !Array.isArray(i) ? (i as Record<string, unknown>) : { values: i },
      );
      return { predictions: body.predictions, features };
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
    if (child && child.exitCode === null) {
      killGroup(child, "SIGTERM");
      const timer = setTimeout(() => killGroup(child, "SIGKILL"), 3000);
      await once(child, "exit").catch(() => undefined);
      clearTimeout(timer);
    }
  }
}
