/**
 * The Python helper (spawner-process.py) against the Node one (spawner-process.mjs), the oracle:
 * the same requests give the same output, exit codes, signals, errors and process groups.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { processIdentity } from "./process-identity.js";
import { StepSpawner, type SpawnRequest } from "./spawner.js";

interface Outcome {
  stdout: string;
  stderr: string;
  code: number | null;
  signal: string | null;
  failed: string | null;
  startedIdentityMatches: boolean | null;
}

function run(spawner: StepSpawner, request: SpawnRequest, onStarted?: (pid: number) => void): Promise<Outcome> {
  return new Promise((resolve) => {
    const out: Outcome = {
      stdout: "",
      stderr: "",
      code: null,
      signal: null,
      failed: null,
      startedIdentityMatches: null,
    };
    spawner.spawn(request, {
      started: (pid, startTime) => {
        const now = processIdentity(pid);
        out.startedIdentityMatches = now === null || now === startTime;
        onStarted?.(pid);
      },
      output: (stream, text) => {
        out[stream] += text;
      },
      ended: (code, signal) => resolve({ ...out, code, signal }),
      failed: (message) => resolve({ ...out, failed: message }),
    });
  });
}

const hasPython = ["/usr/bin/python3", "/usr/local/bin/python3"].some((p) => existsSync(p));

describe.runIf(hasPython)("the Python step spawner", () => {
  const python = new StepSpawner("python");
  const node = new StepSpawner("node");
  afterAll(async () => {
    await python.close();
    await node.close();
  });
  const dir = mkdtempSync(join(tmpdir(), "tandem-spawner-"));
  const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", LANG: "C.UTF-8", ODD: "a\nb=c ü" };
  const bash = (script: string, extra: Partial<SpawnRequest> = {}): SpawnRequest => ({
    file: "/bin/bash",
    args: ["-c", script],
    cwd: dir,
    env,
    ...extra,
  });
  const both = async (request: SpawnRequest) => {
    const [p, n] = await Promise.all([run(python, request), run(node, request)]);
    expect(python.helperKind()).toBe("python");
    expect(p).toEqual(n);
    return p;
  };

  it("gives the same output, bytes split anywhere and invalid UTF-8 included", async () => {
    writeFileSync(
      join(dir, "bytes"),
      Buffer.from([0x61, 0xe2, 0x82, 0xac, 0xff, 0xc3, 0x28, 0xed, 0xa0, 0x80, 0xf0, 0x9f]),
    );
    const got = await both(
      bash(
        'printf "h\\xc3"; sleep 0.05; printf "\\xa9llo\\n"; cat bytes; echo err >&2; printf "\\xe2\\x82" >&2; env | grep -c ODD; pwd; echo "$ODD"',
      ),
    );
    expect(got.stdout).toContain("héllo\n");
    expect(got.stderr.startsWith("err\n")).toBe(true);
    const big = await both(bash("head -c 300000 /dev/zero | tr '\\0' 'x'; echo; seq 1 20000 >&2"));
    expect(big.stdout.length).toBe(300001);
  });

  it("gives the same exit codes and signals", async () => {
    for (const script of [
      "exit 0",
      "exit 3",
      "kill -TERM $$",
      "kill -KILL $$",
      "kill -ABRT $$",
      "kill -SEGV $$",
      "kill -IO $$",
    ])
      await both(bash(script));
  });

  it("fails the same way for a missing program or working directory", async () => {
    const missing = await both({ file: join(dir, "nope"), args: [], cwd: dir, env });
    expect(missing.failed).toBe(`spawn ${join(dir, "nope")} ENOENT`);
    await both(bash("true", { cwd: join(dir, "gone") }));
    writeFileSync(join(dir, "plain"), "not executable");
    await both({ file: join(dir, "plain"), args: [], cwd: dir, env });
  });

  it("finds a bare command on the step's PATH, and ends what the step left running in its group", async () => {
    await both({ file: "true", args: [], cwd: dir, env });
    // The background sleep holds the pipes open: without the group's kill the step would last 30 s.
    const started = Date.now();
    await both(bash("sleep 30 & echo left"));
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("starts each step in a process group of its own", async () => {
    let pid = 0;
    const got = await run(python, bash("ps -o pgid= -p $$ | tr -d ' '"), (p) => (pid = p));
    expect(got.stdout.trim()).toBe(String(pid));
    expect(got.startedIdentityMatches).toBe(true);
  });

  it("adopts and reaps what a step leaves behind outside its group (its CPU then counts in the run's)", async () => {
    const pidFile = join(dir, "orphan");
    await run(python, bash(`setsid sh -c 'sleep 0.3; ps -o ppid= -p $$ > ${pidFile}' & sleep 0.1; exit 0`));
    const helper = python.helperPid()!;
    for (let i = 0; i < 100 && !existsSync(pidFile); i++) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 300));
    expect(readFileSync(pidFile, "utf8").trim()).toBe(String(helper));
    // Reaped: no zombie child of the helper is left.
    const children = readFileSync(`/proc/${helper}/task/${helper}/children`, "utf8").trim();
    for (const pid of children.split(" ").filter(Boolean))
      expect(readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.startsWith("Z")).toBe(false);
  });

  it("hands the waiting steps to the Node helper when Python cannot run it", async () => {
    const broken = new StepSpawner("python", "/bin/false");
    const got = await run(broken, bash("echo fine"));
    expect(got.stdout).toBe("fine\n");
    expect(got.code).toBe(0);
    expect(broken.helperKind()).toBe("node");
    await broken.close();
  });
});
