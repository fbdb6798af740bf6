/**
 * The audit head file (TANDEM_AUDIT_HEAD, on a volume several servers share) is hidden from local
 * steps by a bind mount of /dev/null onto its path in their bubblewrap sandbox. Attacked here while
 * the server writes new heads, as every audited action does:
 *  - a step that waits for the next audit write must still read nothing, and write nothing, there
 *    (a head replaced by a rename drops the mount in every sandbox, and the step reads and rewrites
 *    the real head);
 *  - steps started while heads are being written must all start (bwrap failed with "Can't bind mount
 *    /oldroot/dev/null on …/audit.head" and exit 1 when a rename came while it mounted: the chaos
 *    test's failure of a local step 20 ms after it started).
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { probeSandbox, sandboxArgv } from "../../src/executors/local/sandbox.js";
import { createAuditHeadFile, FileAuditHeadKeeper } from "../../src/stores/files/audit-head-file.js";

const sandbox = probeSandbox();
if (!sandbox.isolated && process.env.CI) throw new Error(`CI must be able to isolate steps: ${sandbox.reason}`);
if (!sandbox.isolated) console.warn(`audit head sandbox tests skipped: ${sandbox.reason}`);

const hash = (n: number) => n.toString(16).padStart(64, "0");

/** Starts `script` in a step's sandbox that hides `head`; stdout is collected, stdin stays open. */
function sandboxed(root: string, head: string, script: string) {
  const workdir = mkdtempSync(join(root, "step-"));
  const argv = sandboxArgv({ command: ["/bin/bash", "-c", script, "step", head], workdir, hide: [head] });
  const child = spawn(argv[0]!, argv.slice(1), { cwd: workdir, stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr.on("data", (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((r) => child.on("close", (code) => r(code)));
  return { child, exited, output: () => out };
}

describe.skipIf(!sandbox.isolated)("the audit head stays hidden from steps while the server writes it", () => {
  const root = mkdtempSync(join(tmpdir(), "tandem-audit-sandbox-"));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("a step that waits for the next audit write reads nothing and writes nothing there", async () => {
    mkdirSync(join(root, "shared"));
    const keeper = new FileAuditHeadKeeper(join(root, "shared", "audit.head"));
    expect(await keeper.compareAndSet(null, { seq: 1, hash: hash(1) })).toBe(true);
    const step = sandboxed(
      root,
      keeper.location,
      `echo ready; read go
       if head -c 200 "$1" > seen 2> /dev/null; then echo "seen:$(cat seen)"; else echo unreadable; fi
       if (echo "9 ${hash(9)}" > "$1") 2> /dev/null; then echo wrote; else echo refused; fi`,
    );
    await new Promise<void>((resolve, reject) => {
      step.child.stdout.on("data", () => step.output().includes("ready") && resolve());
      void step.exited.then(() => reject(new Error(`the step ended before it was ready: ${step.output()}`)));
    });
    // The server writes the next head while the step runs.
    const before = await keeper.read();
    expect(await keeper.compareAndSet(before!.version, { seq: 2, hash: hash(2) })).toBe(true);
    step.child.stdin.end("go\n");
    expect(await step.exited, step.output()).toBe(0);
    // The /dev/null mounted there is empty, or unreadable (a device node on a nodev mount): either way no head.
    expect(step.output()).toMatch(/^ready\n(seen:|unreadable)\nrefused\n$/);
    expect((await keeper.read())?.head).toEqual({ seq: 2, hash: hash(2) });
  });

  it("a step started before the first audit write does not read the head written after", async () => {
    // The sandbox hides only paths that exist when a step starts: wirePipelines creates the file first.
    const keeper = new FileAuditHeadKeeper(join(root, "fresh", "audit.head"));
    await createAuditHeadFile(keeper.location);
    expect(await keeper.read()).toBeNull();
    const step = sandboxed(
      root,
      keeper.location,
      `echo ready; read go
       if head -c 200 "$1" > seen 2> /dev/null; then echo "seen:$(cat seen)"; else echo unreadable; fi`,
    );
    await new Promise<void>((resolve, reject) => {
      step.child.stdout.on("data", () => step.output().includes("ready") && resolve());
      void step.exited.then(() => reject(new Error(`the step ended before it was ready: ${step.output()}`)));
    });
    expect(await keeper.compareAndSet(null, { seq: 1, hash: hash(1) })).toBe(true);
    step.child.stdin.end("go\n");
    expect(await step.exited, step.output()).toBe(0);
    expect(step.output()).toMatch(/^ready\n(seen:|unreadable)\n$/);
    // An existing head is left as it is.
    await createAuditHeadFile(keeper.location);
    expect((await keeper.read())?.head).toEqual({ seq: 1, hash: hash(1) });
  });

  it("steps started while heads are written all start", async () => {
    mkdirSync(join(root, "busy"));
    const keeper = new FileAuditHeadKeeper(join(root, "busy", "audit.head"));
    expect(await keeper.compareAndSet(null, { seq: 1, hash: hash(1) })).toBe(true);
    let writing = true;
    // Another server appending audit events, as fast as it can, for as long as the steps start.
    const writer = (async () => {
      for (let seq = 2; writing; seq++) {
        const current = await keeper.read();
        await keeper.compareAndSet(current!.version, { seq, hash: hash(seq) });
      }
    })();
    const failures: string[] = [];
    try {
      for (let i = 0; i < 60; i++) {
        const step = sandboxed(root, keeper.location, "true");
        step.child.stdin.end();
        if ((await step.exited) !== 0) failures.push(step.output());
      }
    } finally {
      writing = false;
      await writer;
    }
    expect(failures).toEqual([]);
  });
});
