/**
 * The CLI as a user runs it: a real `tandem` process, its stdout/stderr and exit codes.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const BIN = join(process.cwd(), "bin", "tandem.js");

function tandem(args: string[], env: Record<string, string>) {
  const res = spawnSync(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, encoding: "utf8" });
  return { code: res.status, stdout: res.stdout, stderr: res.stderr };
}

describe("tandem CLI", () => {
  const home = mkdtempSync(join(tmpdir(), "tandem-cli-"));
  const env = { TANDEM_HOME: home, TANDEM_URL: "", TANDEM_TOKEN: "" };

  it("writes the first admin token, mode 0600, on first use of an empty store", () => {
    const res = tandem(["users", "ls", "--json"], env);
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout).map((u: { name: string }) => u.name)).toEqual(["admin", "system"]);
    const tokenFile = join(home, "admin.token");
    expect(readFileSync(tokenFile, "utf8")).toMatch(/^tdm_[A-Za-z0-9_-]+\n$/);
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
  });

  it("prints a created token alone on stdout", () => {
    const res = tandem(["tokens", "create", "--name", "ci"], env);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^tdm_[A-Za-z0-9_-]+\n$/);
  });

  it("names a capped token after its caps without --name, and warns for a project that does not exist", () => {
    const res = tandem(["tokens", "create", "--role", "viewer", "--project", "flights", "--json"], env);
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({ name: "viewer@flights", role: "viewer", project: "flights" });
    expect(res.stderr).toContain("warning: project flights does not exist (yet)");
    expect(res.stderr).toContain("projects you see: default");
    const known = tandem(["tokens", "create", "--role", "viewer", "--project", "default"], env);
    expect(known.code).toBe(0);
    expect(known.stderr).toBe("");
  });

  it("ends quietly, exit 0, when the reader closes its stdout early (| head, | grep -q)", () => {
    // `true` exits before tandem has started, so every write of tandem's meets a closed pipe (EPIPE).
    const script = (args: string) => `"${process.execPath}" "${BIN}" ${args} | true; echo "rc=\${PIPESTATUS[0]}"`;
    for (const args of ["schema", "users ls", "tokens ls --json"]) {
      const res = spawnSync("bash", ["-c", script(args)], { env: { ...process.env, ...env }, encoding: "utf8" });
      expect({ args, stdout: res.stdout, stderr: res.stderr }).toEqual({ args, stdout: "rc=0\n", stderr: "" });
    }
  });

  it("uses the exit codes of DESIGN.md", () => {
    expect(tandem(["users", "add", "bad name!"], env).code).toBe(2);
    expect(tandem(["tokens", "revoke", "nope"], env).code).toBe(4);
    expect(tandem(["users", "ls"], { ...env, TANDEM_TOKEN: "tdm_wrong" }).code).toBe(3);
    expect(tandem(["no-such-command"], env).code).toBe(2);
    const badConfig = tandem(["users", "ls"], { ...env, TANDEM_PORT: "x" });
    expect(badConfig.code).toBe(2);
    expect(badConfig.stderr).toMatch(/TANDEM_PORT/);
    expect(badConfig.stderr).not.toMatch(/\n\s+at /);
  });

  it("reports a broken tandem.yaml the same way from validate, apply and run: file:line:col lines, exit 2", () => {
    const dir = mkdtempSync(join(tmpdir(), "tandem-spec-"));
    const specs = {
      // A plain scalar with ": " inside: a YAML error, not a schema one.
      "tandem.yaml": "project: demo\npipelines:\n  train:\n    steps:\n      a:\n        run: echo hi: there\n",
      "typo.yaml": "project: demo\npipelines:\n  train:\n    steps:\n      a:\n        runn: echo\n",
    };
    for (const [name, text] of Object.entries(specs)) writeFileSync(join(dir, name), text);
    const inDir = (args: string[]) => {
      const res = spawnSync(process.execPath, [BIN, ...args], {
        cwd: dir,
        env: { ...process.env, ...env, TANDEM_HOME: join(dir, "home") },
        encoding: "utf8",
      });
      return { code: res.status, stderr: res.stderr };
    };
    const yamlError = {
      code: 2,
      stderr:
        "tandem.yaml:6:14: (yaml): Nested mappings are not allowed in compact mappings\nerror: tandem.yaml: 1 problem\n",
    };
    expect(inDir(["validate"])).toEqual(yamlError);
    expect(inDir(["apply"])).toEqual(yamlError);
    expect(inDir(["run", "train"])).toEqual(yamlError);
    const typo = inDir(["validate", "typo.yaml"]);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/^typo\.yaml:6:9: pipelines\.train\.steps\.a\.runn: unknown key "runn"\n/);
    expect(typo.stderr).toMatch(/\nerror: typo\.yaml: 2 problems\n$/);
    expect(inDir(["apply", "typo.yaml"])).toEqual(typo);
    expect(inDir(["run", "train", "--file", "typo.yaml"])).toEqual(typo);
  });

  it("exits 5 on an internal error (naming the request id in the log) and 6 when nothing answers", async () => {
    expect(tandem(["users", "ls"], env).code).toBe(0);
    const { default: Database } = await import("better-sqlite3");
    const rename = (from: string, to: string) => {
      const db = new Database(join(home, "tandem.db"));
      db.exec(`alter table ${from} rename to ${to}`);
      db.close();
    };
    rename("tracking_experiments", "tracking_experiments_gone");
    try {
      const internal = tandem(["experiments", "ls"], env);
      expect(internal.code).toBe(5);
      expect(internal.stderr).toMatch(
        /^error: the server failed: internal error \(request id [0-9a-f]{32}: its log has the details\)$/m,
      );
    } finally {
      rename("tracking_experiments_gone", "tracking_experiments");
    }
    const noServer = tandem(["users", "ls"], { ...env, TANDEM_URL: "http://127.0.0.1:59999" });
    expect(noServer).toMatchObject({ code: 6 });
    expect(noServer.stderr).toMatch(
      /cannot reach the server at http:\/\/127\.0\.0\.1:59999 \(TANDEM_URL\): ECONNREFUSED/,
    );
    const noStore = tandem(["users", "ls"], {
      ...env,
      TANDEM_DATABASE_URL: "postgres://tandem:s3cret-pw@127.0.0.1:59999/tandem",
    });
    expect(noStore.code).toBe(6);
    expect(noStore.stderr).toMatch(/cannot reach the metadata store at postgres:\/\/tandem:\*\*\*@127\.0\.0\.1:59999/);
    expect(noStore.stderr).not.toContain("s3cret-pw");
  });

  it("verifies the audit chain (exit 0) and catches a deleted newest event (exit 1)", async () => {
    expect(tandem(["audit", "verify"], env).code).toBe(0);
    const { default: Database } = await import("better-sqlite3");
    const db = new Database(join(home, "tandem.db"));
    db.prepare("delete from audit_events where seq = (select max(seq) from audit_events)").run();
    db.close();
    const res = tandem(["audit", "verify"], env);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/newest events were removed/);
  });

  it("`tandem server --port 0` prints `listening on http://HOST:PORT` first and serves", async () => {
    const serverHome = mkdtempSync(join(tmpdir(), "tandem-cli-server-"));
    const child = spawn(process.execPath, [BIN, "server", "--port", "0"], {
      env: { ...process.env, TANDEM_HOME: serverHome, TANDEM_URL: "" },
    });
    try {
      const firstLine = await new Promise<string>((resolve, reject) => {
        let buffer = "";
        child.stdout.on("data", (chunk: Buffer) => {
          buffer += chunk.toString();
          const nl = buffer.indexOf("\n");
          if (nl >= 0) resolve(buffer.slice(0, nl));
        });
        child.on("exit", (code) => reject(new Error(`server exited ${code}`)));
      });
      expect(firstLine).toMatch(/^listening on http:\/\/127\.0\.0\.1:\d+$/);
      const url = firstLine.replace("listening on ", "");
      expect(await (await fetch(`${url}/healthz`)).json()).toEqual({ status: "ok" });
      const write = await fetch(`${url}/api/v1/users`, {
        method: "POST",
        body: "{}",
        headers: { "content-type": "application/json" },
      });
      expect(write.status).toBe(401);
    } finally {
      child.kill("SIGTERM");
    }
  });
});
