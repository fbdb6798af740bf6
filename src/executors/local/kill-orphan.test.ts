/**
 * A takeover kills the step's leftover processes only when the pid still names the process that was
 * recorded: a stranger that reuses the pid (after a reboot, or once pids wrap) is left alone.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { hostname, tmpdir } from "node:os";
import { afterEach, describe, expect, it } from "vitest";
import { FsArtifactStore } from "../../stores/artifacts/fs-artifact-store.js";
import { LocalExecutor } from "./local-executor.js";
import { processIdentity } from "./process-identity.js";
import { mkdtempSync } from "node:fs";
import { join } from "node:path";

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe.runIf(processIdentity(process.pid) !== null)("killOrphan", () => {
  const children: ChildProcess[] = [];
  afterEach(() => {
    for (const c of children.splice(0)) if (c.pid && alive(c.pid)) process.kill(-c.pid, "SIGKILL");
  });

  async function executor() {
    const root = mkdtempSync(join(tmpdir(), "tandem-orphan-"));
    return LocalExecutor.create({
      root: join(root, "work"),
      artifacts: await FsArtifactStore.create({ root: join(root, "artifacts") }),
    });
  }

  function stranger(): number {
    const child = spawn("sleep", ["300"], { detached: true, stdio: "ignore" });
    children.push(child);
    return child.pid!;
  }

  it("kills the recorded process when its start time matches", async () => {
    const pid = stranger();
    const said = await (await executor()).killOrphan({ pid, host: hostname(), startTime: processIdentity(pid) });
    expect(said).toMatch(/killed with its process group/);
    await new Promise((r) => setTimeout(r, 200));
    expect(alive(pid)).toBe(false);
  });

  it("leaves a process alone whose start time differs, and says so", async () => {
    const pid = stranger();
    const recorded = `${processIdentity(pid)!.split(":")[0]}:1`; // the same boot, started long before
    const said = await (await executor()).killOrphan({ pid, host: hostname(), startTime: recorded });
    expect(said).toMatch(new RegExp(`process ${pid} on .* left alone: that pid now belongs to another process`));
    expect(alive(pid)).toBe(true);
    // Unknown start time (a step recorded before start times were): also left alone.
    expect(await (await executor()).killOrphan({ pid, host: hostname(), startTime: null })).toMatch(/left alone/);
    expect(alive(pid)).toBe(true);
  });

  it("leaves other hosts' processes alone", async () => {
    const pid = stranger();
    expect(await (await executor()).killOrphan({ pid, host: "elsewhere", startTime: processIdentity(pid) })).toMatch(
      /left alone: it is on another host/,
    );
    expect(alive(pid)).toBe(true);
  });
});
