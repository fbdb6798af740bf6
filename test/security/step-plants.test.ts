/**
 * What a step writes to run code as the server later, outside the sandbox and with the home the
 * sandbox hides (step-writes.ts), tried on a real `tandem server` run as a user other than root (the
 * test drops to `nobody` when it runs as root, as in CI): ~/.gitconfig whose core.fsmonitor the
 * server's next `git status` runs (a manual run describes its git workspace), the workspace's own
 * .git/config, ~/.ssh/authorized_keys, shell rc files, Node's and Python's per-user folders,
 * ~/.local/bin, systemd user units. The fsmonitor command copies admin.token, which the step cannot
 * read, into the server user's home: if that copy appears, the server ran the step's command.
 */
import { spawn, spawnSync } from "node:child_process";
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { homedir, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { probeSandbox } from "../../src/executors/local/sandbox.js";
import { jsonApi, type TestServer } from "../helpers/server.js";
import { freshDatabase, postgresAvailable, STORE_KINDS } from "../helpers/stores.js";
import { BIN } from "../pipelines/cli.js";
import { applySpec, runLogs, runPipeline, type RunWire } from "./pipeline-http.js";
import { loadConfig } from "../../src/config.js";

const sandbox = probeSandbox();
const describeIsolated = sandbox.isolated ? describe : describe.skip;

/** The server's user: `nobody` when the tests run as root (root's steps were always read-only). */
const asRoot = process.getuid?.() === 0;
const uid = asRoot ? 65534 : process.getuid!();
const gid = asRoot ? 65534 : process.getgid!();

/**
 * A new folder the server's user owns, in the temporary folder (`temporary`) or outside every folder
 * a step may always write (the server user's home, an operator's listed folder).
 */
function ownedFolder(prefix: string, temporary = true): string {
  const dir = mkdtempSync(join(temporary ? tmpdir() : asRoot ? "/var/lib" : homedir(), prefix));
  if (asRoot) chownSync(dir, uid, gid);
  return dir;
}

/** `args` run as the server's user in `cwd` (git refuses a repository another user owns); its stdout. */
function runAs(args: string[], cwd: string): string {
  const env = { ...process.env, HOME: cwd };
  const done = spawnSync(args[0]!, args.slice(1), { cwd, uid, gid, encoding: "utf8", env });
  if (done.status !== 0) throw new Error(`${args.join(" ")}: ${done.stderr}`);
  return done.stdout;
}

/** A git repository with one commit, owned by the server's user (git refuses another user's). */
function gitWorkspace(): string {
  const dir = ownedFolder("tandem-plant-project-");
  writeFileSync(join(dir, "notes.txt"), "tracked\n");
  if (asRoot) chownSync(join(dir, "notes.txt"), uid, gid);
  const git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"];
  runAs(["git", "init", "-q"], dir);
  runAs(["git", "add", "notes.txt"], dir);
  runAs([...git, "commit", "-qm", "one"], dir);
  return dir;
}

interface PlainServer extends Pick<TestServer, "api" | "url" | "home"> {
  /** The server user's $HOME, where the attacks plant their files. */
  userHome: string;
  stop(): Promise<void>;
}

/** `tandem server` as the server's user, with its own $HOME, and `env` on top. */
async function startServerAs(env: Record<string, string>): Promise<PlainServer> {
  const userHome = ownedFolder("tandem-user-home-", false);
  const home = join(userHome, ".tandem");
  const clean: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith("TANDEM_")) clean[k] = v;
  const child = spawn(process.execPath, [BIN, "server", "--port", "0"], {
    cwd: userHome,
    uid,
    gid,
    env: { ...clean, HOME: userHome, TANDEM_HOME: home, TANDEM_LOG_LEVEL: "error", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr.on("data", (c: Buffer) => (out += c.toString()));
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  const until = Date.now() + 60_000;
  let url: string | undefined;
  while (!(url = /listening on (http:\S+)/.exec(out)?.[1]) && child.exitCode === null && Date.now() < until)
    await new Promise((r) => setTimeout(r, 100));
  if (!url) {
    // Not left behind (as nobody, with its home in /var/lib) by a test that fails here.
    child.kill("SIGKILL");
    rmSync(userHome, { recursive: true, force: true });
    throw new Error(`the server did not start: ${out}`);
  }
  const token = readFileSync(join(home, "admin.token"), "utf8").trim();
  return {
    url,
    home,
    userHome,
    api: jsonApi(url, token),
    async stop() {
      child.kill("SIGTERM");
      await exited;
      rmSync(userHome, { recursive: true, force: true });
    },
  };
}

/** A shell command that copies admin.token to `stolen` (in the server user's home): run by the server's git. */
const steal = (t: PlainServer, stolen: string) =>
  `"cat ${join(t.home, "admin.token")} > ${join(t.userHome, stolen)}; false"`;

/** Files in the server user's home that run as it later, and what the step writes there. */
function homePlants(t: PlainServer): Array<[string, string]> {
  const fsmonitor = `[core]\\n\\tfsmonitor = ${steal(t, "stolen-by-home-gitconfig")}\\n`;
  return [
    [".gitconfig", fsmonitor],
    [".config/git/config", fsmonitor],
    [".ssh/authorized_keys", "ssh-ed25519 AAAA planted\\n"],
    [".bashrc", "echo planted\\n"],
    [".profile", "echo planted\\n"],
    [".npmrc", "script-shell=/tmp/planted\\n"],
    [".node_modules/pg-native/index.js", "console.log('planted')\\n"],
    [".node_libraries/pg-native.js", "console.log('planted')\\n"],
    [".local/bin/git", "#!/bin/sh\\necho planted\\n"],
    [".local/lib/python3/site-packages/planted.pth", "import os\\n"],
    [".config/systemd/user/planted.service", "[Service]\\nExecStart=/tmp/planted\\n"],
  ];
}

/** A step that writes each plant and says whether it could, then writes `writable`'s probe, then runs `extra`. */
function plantSpec(plants: ReadonlyArray<readonly [string, string]>, writable: string, extra = ""): string {
  const lines = plants.flatMap(([file, text]) => [
    `mkdir -p "$(dirname "${file}")" 2> probe.err || true`,
    `if printf '${text}' >> "${file}" 2> probe.err; then echo "WROTE ${file}"; else echo "PROTECTED ${file}"; fi`,
  ]);
  return `project: plants
pipelines:
  plant:
    steps:
      write:
        run: |
          ${lines.join("\n          ")}
          if touch "${writable}/written-by-step" 2> probe.err; then echo "WROTE listed"; else echo "PROTECTED listed"; fi
          ${extra}
`;
}

describeIsolated("a step of a server run as another user cannot plant what the server later runs", () => {
  const cleanups: Array<() => unknown> = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  for (const store of STORE_KINDS) {
    const run = store === "postgres" && !postgresAvailable() ? it.skip : it;
    run(`its home stays unwritten and the server's git runs nothing of it [${store}]`, async () => {
      const env: Record<string, string> = {};
      if (store === "postgres") {
        const db = await freshDatabase("postgres");
        cleanups.push(db.cleanup);
        if (db.database.kind === "postgres") env.TANDEM_DATABASE_URL = db.database.url;
      }
      // A folder the operator lets steps write, outside the temporary folders (which steps always may).
      const listed = ownedFolder("tandem-step-writable-", false);
      cleanups.push(() => rmSync(listed, { recursive: true, force: true }));
      const t = await startServerAs({ ...env, TANDEM_STEP_WRITABLE: listed });
      cleanups.push(() => t.stop());
      const workspace = gitWorkspace();
      cleanups.push(() => rmSync(workspace, { recursive: true, force: true }));
      const plants = homePlants(t);
      const homeFiles = plants.map(([file, text]) => [join(t.userHome, file), text] as const);
      await applySpec(t, "plants", plantSpec(homeFiles, listed), workspace);
      const first = await runPipeline(t, "plants", "plant");
      const logs = await runLogs(t, "plants", first.id);
      // The next manual run has the server describe the workspace with `git status`.
      const second = await runPipeline(t, "plants", "plant");
      expect(second.status).toBe("succeeded");
      // First: before the fix, this is where the step's command ran as the server with its home.
      expect(existsSync(join(t.userHome, "stolen-by-home-gitconfig"))).toBe(false);
      expect(first.status, logs).toBe("succeeded");
      for (const [file] of homeFiles) {
        expect(logs).toContain(`PROTECTED ${file}`);
        expect(existsSync(file), file).toBe(false);
      }
      expect(logs).toContain("WROTE listed");
      expect(existsSync(join(listed, "written-by-step"))).toBe(true);
    });
  }

  it("the workspace's own .git, which a step may write in a temporary folder, runs nothing as the server", async () => {
    const t = await startServerAs({});
    cleanups.push(() => t.stop());
    const workspace = gitWorkspace();
    cleanups.push(() => rmSync(workspace, { recursive: true, force: true }));
    const head = runAs(["git", "rev-parse", "HEAD"], workspace).trim();
    // Through the link to the workspace's .git in the step's directory: core.fsmonitor, and a clean
    // filter that `git status` runs on a touched file (no -c setting turns off every such command).
    const config =
      `[core]\\n\\tfsmonitor = ${steal(t, "stolen-by-fsmonitor")}\\n` +
      `[filter "planted"]\\n\\tclean = ${steal(t, "stolen-by-filter")}\\n`;
    const plants: Array<[string, string]> = [
      [".git/config", config],
      [".git/info/attributes", "* filter=planted\\n"],
    ];
    // Same content, newer time: `git status` must read the file again, through the filter.
    await applySpec(t, "plants", plantSpec(plants, "/nonexistent", "sleep 1 && touch notes.txt"), workspace);
    const first = await runPipeline(t, "plants", "plant");
    const logs = await runLogs(t, "plants", first.id);
    expect(first.status, logs).toBe("succeeded");
    for (const [file] of plants) expect(logs).toContain(`WROTE ${file}`);
    // The next manual run has the server describe the workspace: git still answers, in the sandbox.
    const second = await runPipeline(t, "plants", "plant");
    expect(second.status).toBe("succeeded");
    const described = await t.api<{ commit: string | null; dirty: boolean | null; changed_paths: string[] }>(
      "GET",
      `/api/v1/projects/plants/pipeline-runs/${second.id}`,
    );
    expect(described.body).toMatchObject({ commit: head, dirty: false, changed_paths: [] });
    expect(existsSync(join(t.userHome, "stolen-by-fsmonitor"))).toBe(false);
    expect(existsSync(join(t.userHome, "stolen-by-filter"))).toBe(false);
  });

  it("the Python the server deploys MLflow models with (TANDEM_PYTHON), a venv in a temporary folder, is read-only", async () => {
    const venv = join(ownedFolder("tandem-server-python-"), "venv");
    runAs(["python3", "-m", "venv", "--without-pip", venv], tmpdir());
    const lib = join(venv, "lib");
    // Loaded by that Python at its start, without -I: `mlflow models serve` would run it as the server.
    const pth = join(lib, readdirSync(lib)[0]!, "site-packages", "planted.pth");
    const t = await startServerAs({ TANDEM_PYTHON: join(venv, "bin", "python") });
    cleanups.push(() => t.stop());
    cleanups.push(() => rmSync(dirname(venv), { recursive: true, force: true }));
    const workspace = ownedFolder("tandem-plant-project-");
    cleanups.push(() => rmSync(workspace, { recursive: true, force: true }));
    await applySpec(t, "plants", plantSpec([[pth, "import os\\n"]], "/nonexistent"), workspace);
    const run = await runPipeline(t, "plants", "plant");
    const logs = await runLogs(t, "plants", run.id);
    expect(run.status, logs).toBe("succeeded");
    expect(logs).toContain(`PROTECTED ${pth}`);
    expect(existsSync(pth)).toBe(false);
  });

  it("reaches neither the agent of the admin who started the server nor the user's runtime folder (its bus)", async () => {
    const sockets = ownedFolder("tandem-agent-");
    cleanups.push(() => rmSync(sockets, { recursive: true, force: true }));
    // The admin's ssh-agent, holding a key: a step that reached it would log in wherever the admin may.
    const agent = join(sockets, "agent.sock");
    const agentProcess = spawn("ssh-agent", ["-D", "-a", agent], { uid, gid, stdio: "ignore" });
    let agentFailed: Error | null = null;
    agentProcess.on("error", (error) => (agentFailed = error));
    cleanups.push(() => agentProcess.kill());
    runAs(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", join(sockets, "key")], sockets);
    for (const until = Date.now() + 10_000; !existsSync(agent) && !agentFailed && Date.now() < until;)
      await new Promise((r) => setTimeout(r, 50));
    expect(agentFailed, "ssh-agent (openssh-client) must run here").toBeNull();
    expect(existsSync(agent)).toBe(true);
    spawnSync("ssh-add", [join(sockets, "key")], { uid, gid, env: { ...process.env, SSH_AUTH_SOCK: agent } });
    // $XDG_RUNTIME_DIR/bus: the user's D-Bus, through which systemd --user runs any command asked.
    const runtime = ownedFolder("tandem-runtime-");
    cleanups.push(() => rmSync(runtime, { recursive: true, force: true }));
    const bus = createServer(() => undefined).listen(join(runtime, "bus"));
    await new Promise((r) => bus.once("listening", r));
    chmodSync(join(runtime, "bus"), 0o777);
    cleanups.push(() => bus.close());
    const t = await startServerAs({ SSH_AUTH_SOCK: agent, XDG_RUNTIME_DIR: runtime });
    cleanups.push(() => t.stop());
    const workspace = ownedFolder("tandem-plant-project-");
    cleanups.push(() => rmSync(workspace, { recursive: true, force: true }));
    const tries = [
      'if ssh-add -l > probe.out 2> probe.err; then echo "AGENT reached"; else echo "AGENT unreachable"; fi',
      `node -e 'require("net").connect(process.argv[1]).on("connect", () => { console.log("BUS reached"); process.exit() }).on("error", () => console.log("BUS unreachable"))' "$XDG_RUNTIME_DIR/bus"`,
    ];
    await applySpec(t, "plants", plantSpec([], "/nonexistent", tries.join("\n          ")), workspace);
    const run = await runPipeline(t, "plants", "plant");
    const logs = await runLogs(t, "plants", run.id);
    expect(run.status, logs).toBe("succeeded");
    expect(logs).toContain("AGENT unreachable");
    expect(logs).toContain("BUS unreachable");
  });

  it("sees no other run's checkout of a commit, which that run's steps run", async () => {
    const t = await startServerAs({});
    cleanups.push(() => t.stop());
    const checkouts = `${loadConfig({ TANDEM_HOME: t.home }).workDir}-checkouts`;
    // The victim: a run of a commit, its step still running while the attacker's runs.
    const repo = gitWorkspace();
    cleanups.push(() => rmSync(repo, { recursive: true, force: true }));
    const victimSpec =
      "project: victim\npipelines:\n  slow:\n    steps:\n      wait:\n        run: sleep 4 && cat notes.txt\n";
    writeFileSync(join(repo, "tandem.yaml"), victimSpec);
    if (asRoot) chownSync(join(repo, "tandem.yaml"), uid, gid);
    runAs(["git", "add", "tandem.yaml"], repo);
    runAs(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "spec"], repo);
    const sha = runAs(["git", "rev-parse", "HEAD"], repo).trim();
    await applySpec(t, "victim", victimSpec, repo);
    const started = await t.api<{ id: string }>("POST", "/api/v1/projects/victim/pipelines/slow/runs", { at: sha });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    for (const until = Date.now() + 30_000; Date.now() < until;) {
      const run = await t.api<RunWire>("GET", `/api/v1/projects/victim/pipeline-runs/${started.body.id}`);
      if (run.body.steps.some((step) => step.status === "running")) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const attacker = ownedFolder("tandem-plant-project-");
    cleanups.push(() => rmSync(attacker, { recursive: true, force: true }));
    const tries = [
      `for d in ${checkouts}/*/; do if touch "$d/planted" 2> probe.err; then echo "WROTE $d"; fi; done`,
      `echo "checkouts seen: $(ls ${checkouts} 2> probe.err | wc -l)"`,
    ];
    await applySpec(t, "plants", plantSpec([], "/nonexistent", tries.join("\n          ")), attacker);
    const run = await runPipeline(t, "plants", "plant");
    const logs = await runLogs(t, "plants", run.id);
    expect(run.status, logs).toBe("succeeded");
    expect(logs).toContain("checkouts seen: 0");
    expect(logs).not.toMatch(/^WROTE/m);
    // The victim's own step still sees its checkout.
    let victim: RunWire | undefined;
    for (const until = Date.now() + 60_000; Date.now() < until; await new Promise((r) => setTimeout(r, 200))) {
      victim = (await t.api<RunWire>("GET", `/api/v1/projects/victim/pipeline-runs/${started.body.id}`)).body;
      if (!["queued", "running"].includes(victim.status)) break;
    }
    expect(victim?.status, JSON.stringify(victim)).toBe("succeeded");
  });
});
