/**
 * Rough edges of a newcomer's first day, each found by walking README → quickstart → own pipeline →
 * a server for a team, and kept fixed here with the real binary:
 * - `tandem server` on a home that does not exist yet (the README's `npx tandem server` in a fresh
 *   clone) starts, instead of failing on the SQLite server lock beside a database not yet made;
 * - `tandem run` without a pipeline name says which pipelines tandem.yaml has;
 * - the server starts without a Node warning on stderr.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BIN, cli } from "../pipelines/cli.js";

const root = mkdtempSync(join(tmpdir(), "tandem-first-day-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("a newcomer's first day", () => {
  it("tandem server starts on a home that does not exist yet, and answers with the token it wrote", async () => {
    const home = join(root, "new", "home");
    const child = spawn(process.execPath, [BIN, "server", "--port", "0"], {
      env: { ...process.env, TANDEM_HOME: home, TANDEM_URL: "", TANDEM_TOKEN: "", TANDEM_DATABASE_URL: "" },
    });
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = "";
        child.stdout.on("data", (c: Buffer) => {
          out += c.toString();
          const m = /^listening on (\S+)$/m.exec(out);
          if (m) resolve(m[1]!);
        });
        child.on("exit", (code) => reject(new Error(`tandem server exited ${code}: ${stderr}`)));
      });
      expect(await (await fetch(`${url}/readyz`)).json()).toEqual({ status: "ready" });
      const token = readFileSync(join(home, "admin.token"), "utf8").trim();
      const me = await fetch(`${url}/api/v1/projects`, { headers: { authorization: `Bearer ${token}` } });
      expect(me.status).toBe(200);
      // No Node warning at start (a dozen background loops on one stop signal printed
      // MaxListenersExceededWarning, which reads like a leak).
      expect(stderr).not.toMatch(/Warning/);
    } finally {
      child.kill("SIGTERM");
    }
  });

  it("tandem run without a pipeline names the pipelines tandem.yaml has", async () => {
    const dir = join(root, "project");
    const home = join(root, "run-home");
    mkdirSync(dir);
    writeFileSync(
      join(dir, "tandem.yaml"),
      "project: mine\npipelines:\n  build:\n    steps:\n      a: { run: 'true' }\n  ship:\n    steps:\n      b: { run: 'true' }\n",
    );
    const res = await cli(["run"], { cwd: dir, env: { TANDEM_HOME: home } });
    expect(res.stderr).toBe("error: name the pipeline to run: build, ship (from tandem.yaml), or --resume RUN_ID\n");
    expect(res.code).toBe(2);
    const elsewhere = await cli(["run"], { cwd: root, env: { TANDEM_HOME: home } });
    expect(elsewhere.stderr).toBe("error: name the pipeline to run (or --resume RUN_ID)\n");
    expect(existsSync(join(dir, ".tandem"))).toBe(false);
  });
});
