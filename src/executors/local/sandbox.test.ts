import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { hiddenMounts, sandboxArgv } from "./sandbox.js";

describe("sandboxArgv", () => {
  const root = mkdtempSync(join(tmpdir(), "tandem-sandbox-argv-"));
  const home = join(root, "home");
  const work = join(root, "work");
  const step = join(work, "run1", "step-1");
  mkdirSync(join(home, "artifacts"), { recursive: true });
  mkdirSync(step, { recursive: true });
  writeFileSync(join(root, "tandem.db"), "");
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("hides directories under tmpfs and files under /dev/null, then mounts the step's own directory back", () => {
    const argv = sandboxArgv({
      command: ["/bin/bash", "-c", "echo hi"],
      workdir: step,
      hide: [home, join(home, "artifacts"), join(root, "tandem.db"), join(root, "missing"), work],
    });
    expect(argv).toEqual([
      "bwrap",
      "--bind",
      "/",
      "/",
      "--dev",
      "/dev",
      "--tmpfs",
      home,
      "--tmpfs",
      work,
      "--ro-bind",
      "/dev/null",
      join(root, "tandem.db"),
      "--bind",
      step,
      step,
      "--unshare-pid",
      "--proc",
      "/proc",
      "--die-with-parent",
      "--chdir",
      step,
      "--",
      "/bin/bash",
      "-c",
      "echo hi",
    ]);
  });

  it("drops paths that do not exist or sit inside another hidden directory", () => {
    expect(hiddenMounts([join(home, "artifacts"), home, join(root, "nope")])).toEqual([{ path: home, kind: "dir" }]);
  });
});
