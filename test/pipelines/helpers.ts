/** A fresh embedded Tandem (SQLite, fs artifacts) in a temp home, and a project folder to run in. */
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { loadConfig } from "../../src/config.js";
import { createServices, type OpenedServices } from "../../src/main.js";
import type { RunWithSteps } from "../../src/core/pipelines/service.js";

export interface Sandbox {
  home: string;
  workspace: string;
  opened: OpenedServices;
  write(path: string, content: string): void;
  apply(source: string): Promise<void>;
  run(
    pipeline: string,
    options?: { params?: Record<string, unknown>; noCache?: boolean; concurrency?: number },
  ): Promise<RunWithSteps>;
  close(): Promise<void>;
}

export async function sandbox(env: Record<string, string> = {}): Promise<Sandbox> {
  const root = mkdtempSync(join(tmpdir(), "tandem-pipe-"));
  const home = join(root, "home");
  const workspace = join(root, "project");
  mkdirSync(workspace, { recursive: true });
  const opened = await createServices(loadConfig({ TANDEM_HOME: home, TANDEM_CONCURRENCY: "2", ...env }));
  const p = opened.services.pipelines;
  const box: Sandbox = {
    home,
    workspace,
    opened,
    write(path, content) {
      mkdirSync(dirname(join(workspace, path)), { recursive: true });
      writeFileSync(join(workspace, path), content);
    },
    async apply(source) {
      box.write("tandem.yaml", source);
      await p.specs.apply("admin", "default", { source, workspace, role: "admin" });
    },
    async run(pipeline, options = {}) {
      const run = await p.startRun("admin", "default", { pipeline, ...options });
      if (!run) throw new Error("run skipped");
      await p.settled(run.id);
      return p.getRun("default", run.id);
    },
    async close() {
      await opened.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
  return box;
}

export const byName = (run: RunWithSteps) => Object.fromEntries(run.steps.map((s) => [s.name, s]));
