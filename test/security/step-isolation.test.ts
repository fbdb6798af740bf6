/**
 * Step isolation as an attacker tries it: a pipeline step whose script holds the server home's
 * absolute path (steps are not told it) tries to read admin.token, tandem.db, secret.key and the
 * artifacts, directly, through /proc/<pid>/root of every process it can see and, as root, by unmounting
 * what hides them (rootAttacks). Run on a real server
 * over HTTP, from a project inside a 0700 temporary folder (what `mktemp -d` makes). The same step
 * without the sandbox reads them all, which proves the probe can tell.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { probeSandbox } from "../../src/executors/local/sandbox.js";
import { serverCode } from "../../src/executors/local/step-writes.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { freshDatabase, postgresAvailable, STORE_KINDS, type StoreKind } from "../helpers/stores.js";
import { startCli } from "../pipelines/cli.js";
import { applySpec, runLogs, runPipeline } from "./pipeline-http.js";

const sandbox = probeSandbox();
if (!sandbox.isolated && process.env.CI) throw new Error(`CI must be able to isolate steps: ${sandbox.reason}`);
const describeIsolated = sandbox.isolated ? describe : describe.skip;
if (!sandbox.isolated) console.warn(`step isolation tests skipped: ${sandbox.reason}`);

/** A step that reports, line by line, which of the server's files it could read. */
function probeSpec(home: string, databaseFile: string | null, throughProc: boolean): string {
  const targets = [join(home, "admin.token"), join(home, "secret.key"), ...(databaseFile ? [databaseFile] : [])];
  return `project: iso
pipelines:
  probe:
    steps:
      peek:
        run: |
          # Ordinary tools work: /dev/null (a bind mount without devices made it EACCES) and a child
          # process whose stdio is ignored (node opens /dev/null for it).
          echo probe > /dev/null && echo "DEVNULL ok"
          node -e 'require("child_process").spawn("true", { stdio: "ignore" }).on("exit", (c) => console.log("SPAWN " + c))'
          # Probe results go to files in the step's own folder, never to /dev/null: a broken /dev/null
          # would make every read "fail" and the check pass without testing anything.
          for f in ${targets.map((f) => `"${f}"`).join(" ")}; do
            if head -c 64 "$f" > probe.out 2> probe.err; then echo "READ $f"; else echo "HIDDEN $f"; fi
          done
          if [ -n "$(ls -A "${join(home, "artifacts")}" 2> probe.err)" ]; then echo "READ artifacts"; else echo "HIDDEN artifacts"; fi
          ${writeAttacks()}
          ${throughProc ? rootAttacks(home) : ""}
          for p in ${throughProc ? "/proc/[0-9]*" : ""}; do
            if head -c 64 "$p/root${join(home, "admin.token")}" > probe.out 2> probe.err; then echo "READ through $p/root"; fi
            for fd in "$p"/fd/*; do
              case "$(readlink "$fd" 2> probe.err)" in ${home}*) echo "READ through $fd";; esac
            done
          done
          echo "project file: $(cat notes.txt)"
          echo done > "$TANDEM_OUTPUT_OUT"
        outputs: { out: file }
`;
}

/**
 * What a step of a server run as root (as here and in CI) tries on top: unmount the tmpfs over the
 * home and read admin.token again, hold the capabilities that reach hidden files another way
 * (open_by_handle_at, ptrace, mount), or write a kernel knob that runs a program of its choosing as
 * root outside the sandbox (uid 0 may write sysctls by their mode bits alone). As another user every
 * line is a no-op: bwrap then gives the step a user namespace and no capabilities.
 */
function rootAttacks(home: string): string {
  const token = join(home, "admin.token");
  const caps: Array<[number, string]> = [
    [2, "CAP_DAC_READ_SEARCH"],
    [16, "CAP_SYS_MODULE"],
    [17, "CAP_SYS_RAWIO"],
    [19, "CAP_SYS_PTRACE"],
    [21, "CAP_SYS_ADMIN"],
  ];
  return [
    `umount "${home}" 2> probe.err || umount -l "${home}" 2> probe.err || true`,
    `if head -c 64 "${token}" > probe.out 2> probe.err; then echo "READ after umount"; fi`,
    `eff=$((16#$(awk '/^CapEff/ { print $2 }' /proc/self/status)))`,
    ...caps.map(([bit, name]) => `if (( (eff >> ${bit}) & 1 )); then echo "ESCAPE holds ${name}"; fi`),
    `for f in /proc/sys/kernel/core_pattern /proc/sys/kernel/modprobe /sys/kernel /sys/fs/cgroup; do`,
    `  if [ -e "$f" ] && [ -w "$f" ]; then echo "ESCAPE writable $f"; fi`,
    `done`,
    `echo "root attacks tried"`,
  ].join("\n          ");
}

/** Files a step writes to take over the server later: its code, and as root the host's loader. */
const WRITE_TARGETS = [
  join(serverCode().at(-1)!, ".tandem-step-write-probe"),
  ...(process.getuid?.() === 0 ? ["/etc/tandem-step-write-probe", "/usr/lib/tandem-step-write-probe"] : []),
];

/**
 * What a step tries in order to run code as the server later (it cannot read the home now): write
 * Tandem's own package (run at the server's next start) and, as root, the host's files (such as
 * /etc/ld.so.preload, loaded by the next program the server starts). It may still write the
 * temporary folder.
 */
function writeAttacks(): string {
  return [
    `for f in ${WRITE_TARGETS.map((f) => `"${f}"`).join(" ")}; do`,
    `  if touch "$f" 2> probe.err; then echo "WROTE $f"; else echo "PROTECTED $f"; fi`,
    `done`,
    `t=$(mktemp /tmp/step-temp-XXXXXX) && echo "TEMP writable" && rm -f "$t"`,
  ].join("\n          ");
}

const removeWriteProbes = () => WRITE_TARGETS.forEach((f) => rmSync(f, { force: true }));

/** `throughProc`: also walk /proc (only sensible in the sandbox: outside it sees every process of the machine). */
async function probeOnce(t: TestServer, dbFile: string | null, throughProc = true) {
  const workspace = mkdtempSync(join(tmpdir(), "tandem-private-project-"));
  try {
    expect(statSync(workspace).mode & 0o777).toBe(0o700);
    writeFileSync(join(workspace, "notes.txt"), "visible to the step\n");
    await applySpec(t, "iso", probeSpec(t.home, dbFile, throughProc), workspace);
    const run = await runPipeline(t, "iso", "probe");
    return { run, logs: await runLogs(t, "iso", run.id) };
  } finally {
    rmSync(workspace, { recursive: true, force: true });
  }
}

describeIsolated("a local step cannot read the server's files", () => {
  const servers: TestServer[] = [];
  afterAll(async () => {
    removeWriteProbes();
    for (const s of servers) await s.stop();
  });

  for (const store of STORE_KINDS) {
    const run = store === "postgres" && !postgresAvailable() ? it.skip : it;
    run(`hides the home, the database and other processes' views of them [${store}]`, async () => {
      const t = await startTestServer({ store: store as StoreKind });
      servers.push(t);
      const adminToken = readFileSync(join(t.home, "admin.token"), "utf8").trim();
      const dbFile = store === "sqlite" ? t.server.opened.services.config.database : null;
      const file = dbFile && dbFile.kind === "sqlite" ? dbFile.file : null;
      for (const f of ["admin.token", "secret.key"]) expect(existsSync(join(t.home, f))).toBe(true);
      const { run: result, logs } = await probeOnce(t, file);
      expect(result.status, logs).toBe("succeeded");
      expect(logs).toContain("DEVNULL ok");
      expect(logs).toContain("SPAWN 0");
      expect(logs).toContain(`HIDDEN ${join(t.home, "admin.token")}`);
      expect(logs).toContain(`HIDDEN ${join(t.home, "secret.key")}`);
      if (file) expect(logs).toContain(`HIDDEN ${file}`);
      expect(logs).toContain("HIDDEN artifacts");
      expect(logs).not.toMatch(/^READ/m);
      expect(logs).toContain("root attacks tried");
      expect(logs).not.toMatch(/^ESCAPE/m);
      expect(logs).not.toContain(adminToken);
      for (const f of WRITE_TARGETS) expect(logs).toContain(`PROTECTED ${f}`);
      expect(logs).toContain("TEMP writable");
      // The step still sees its project, though it sits in a folder only its owner may enter.
      expect(logs).toContain("project file: visible to the step");
    });
  }

  it("reads them all without the sandbox (the probe can tell)", async () => {
    const t = await startTestServer({ env: { TANDEM_STEP_SANDBOX: "none" } });
    servers.push(t);
    const db = t.server.opened.services.config.database;
    const { run, logs } = await probeOnce(t, db.kind === "sqlite" ? db.file : null, false);
    expect(run.status, logs).toBe("succeeded");
    expect(logs).toContain(`READ ${join(t.home, "admin.token")}`);
    expect(logs).toContain(`READ ${join(t.home, "secret.key")}`);
    for (const f of WRITE_TARGETS) expect(logs).toContain(`WROTE ${f}`);
    removeWriteProbes();
  });
});

describe("tandem server says at start whether steps are isolated", () => {
  /** Starts `tandem server --port 0`, waits for its first lines (or its exit), then stops it. */
  async function serverStart(env: Record<string, string>, args: string[] = []) {
    const home = mkdtempSync(join(tmpdir(), "tandem-start-"));
    const server = startCli(["server", "--port", "0", ...args], { cwd: home, env: { TANDEM_HOME: home, ...env } });
    const until = Date.now() + 60_000;
    let exited: number | null | undefined;
    void server.done.then((r) => (exited = r.code));
    while (exited === undefined && !/steps: |WARNING: steps/.test(server.output().stderr) && Date.now() < until)
      await new Promise((r) => setTimeout(r, 100));
    const running = exited === undefined;
    if (running) server.child.kill("SIGTERM");
    // A server that does not stop on SIGTERM is a bug of its own: name it, with the output, rather than
    // let the test time out saying nothing.
    const stopped = await Promise.race([server.done, new Promise<null>((r) => setTimeout(() => r(null), 30_000))]);
    if (!stopped) server.child.kill("SIGKILL");
    const result = stopped ?? { ...(await server.done), code: "did not stop on SIGTERM" };
    rmSync(home, { recursive: true, force: true });
    return { ...result, code: running && stopped ? "running" : result.code };
  }

  it.runIf(sandbox.isolated)("announces the sandbox when bubblewrap works", async () => {
    const started = await serverStart({});
    expect(started.code).toBe("running");
    expect(started.stdout).toMatch(/^listening on http:/);
    expect(started.stderr).toMatch(/steps: isolated with bubblewrap/);
  });

  it("warns on a single-user SQLite store, and refuses Postgres unless --allow-shared-user", async () => {
    const laptop = await serverStart({ TANDEM_STEP_SANDBOX: "none" });
    expect(laptop.code, laptop.stderr).toBe("running");
    expect(laptop.stderr).toMatch(/WARNING: steps are not isolated \(TANDEM_STEP_SANDBOX=none\).*admin\.token/);
    if (!postgresAvailable()) return;
    const db = await freshDatabase("postgres");
    try {
      const url = db.database.kind === "postgres" ? db.database.url : "";
      const refused = await serverStart({ TANDEM_STEP_SANDBOX: "none", TANDEM_DATABASE_URL: url });
      expect(refused.code, refused.stderr).toBe(2);
      expect(refused.stdout).toBe("");
      expect(refused.stderr).toMatch(/steps cannot be isolated here.*Postgres.*--allow-shared-user/s);
      const allowed = await serverStart({ TANDEM_STEP_SANDBOX: "none", TANDEM_DATABASE_URL: url }, [
        "--allow-shared-user",
      ]);
      expect(allowed.code, allowed.stderr).toBe("running");
      expect(allowed.stderr).toMatch(/WARNING: steps are not isolated/);
    } finally {
      await db.cleanup();
    }
  });
});
