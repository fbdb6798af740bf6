import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  hiddenMounts,
  probeSandbox,
  probeSandboxAsync,
  resetSandboxProbe,
  ROOT_STEP_CAPS,
  sandboxArgv,
  sandboxForAsync,
} from "./sandbox.js";
import { deviceMounts, gpuDevices } from "./step-devices.js";
import { hostSockets, socketMounts } from "./step-sockets.js";
import { rootMounts, serverCode, stepCaches, tempFolders } from "./step-writes.js";

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
      asRoot: false,
    });
    expect(argv).toEqual([
      "bwrap",
      ...rootMounts(),
      "--dev",
      "/dev",
      ...socketMounts(),
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

  it("as root, keeps only ROOT_STEP_CAPS and makes /sys and /proc/sys read-only", () => {
    const argv = sandboxArgv({ command: ["true"], workdir: step, hide: [home], asRoot: true });
    expect(argv).toEqual([
      "bwrap",
      "--cap-drop",
      "ALL",
      ...ROOT_STEP_CAPS.flatMap((cap) => ["--cap-add", cap]),
      ...rootMounts(),
      "--ro-bind-try",
      "/sys",
      "/sys",
      "--dev",
      "/dev",
      ...socketMounts(),
      "--tmpfs",
      home,
      "--bind",
      step,
      step,
      "--unshare-pid",
      "--proc",
      "/proc",
      "--ro-bind",
      "/proc/sys",
      "/proc/sys",
      "--die-with-parent",
      "--chdir",
      step,
      "--",
      "true",
    ]);
    expect(ROOT_STEP_CAPS).not.toContain("CAP_SYS_ADMIN");
    expect(ROOT_STEP_CAPS).not.toContain("CAP_DAC_READ_SEARCH");
  });

  it("shows the filesystem read-only, root or not, but for the temporary and listed folders, and never the server's code", () => {
    const code = serverCode();
    expect(code).toContain(realpathSync(process.execPath));
    // This checkout runs the tests: its package (with its node_modules) is the server's code.
    expect(code.some((path) => existsSync(join(path, "package.json")))).toBe(true);
    const protectedCode = code.flatMap((path) => ["--ro-bind", path, path]);
    expect(tempFolders()).toContain("/tmp");
    const temporary = tempFolders().flatMap((dir) => ["--bind", dir, dir]);
    expect(rootMounts()).toEqual(["--ro-bind", "/", "/", ...temporary, ...protectedCode]);
    // A listed folder that does not exist is left out: bwrap would refuse to start every step.
    expect(rootMounts([home, join(root, "missing")])).toEqual([
      "--ro-bind",
      "/",
      "/",
      ...temporary,
      "--bind",
      home,
      home,
      ...protectedCode,
    ]);
    expect(sandboxArgv({ command: ["true"], workdir: step, hide: [], writable: [home], asRoot: false })).toEqual(
      expect.arrayContaining(["--bind", home, home]),
    );
  });

  it("without a step directory (the server's git), binds nothing writable of its own and starts in /", () => {
    const argv = sandboxArgv({ command: ["git", "status"], hide: [home], asRoot: false });
    expect(argv.slice(argv.indexOf("--die-with-parent"))).toEqual([
      "--die-with-parent",
      "--chdir",
      "/",
      "--",
      "git",
      "status",
    ]);
    expect(argv.slice(rootMounts().length + 1)).not.toContain("--bind");
  });

  it("covers the environment's agent and bus sockets and its runtime folder, where they exist", () => {
    writeFileSync(join(root, "agent"), "");
    writeFileSync(join(root, "bus"), "");
    const env = {
      SSH_AUTH_SOCK: join(root, "agent"),
      DBUS_SESSION_BUS_ADDRESS: `unix:path=${join(root, "bus")},guid=1`,
      XDG_RUNTIME_DIR: home,
    };
    expect(hostSockets(env)).toEqual(expect.arrayContaining([home, join(root, "agent"), join(root, "bus")]));
    expect(hostSockets({ SSH_AUTH_SOCK: join(root, "gone"), XDG_RUNTIME_DIR: join(root, "gone") })).not.toContain(
      join(root, "gone"),
    );
  });

  it("shows again a folder inside a hidden one (a run's checkout), and leaves one outside as it is", () => {
    const checkout = join(home, "artifacts");
    const argv = sandboxArgv({ command: ["true"], workdir: step, hide: [home], show: [checkout, root], asRoot: false });
    expect(argv.slice(argv.indexOf(home) - 1, argv.indexOf(home) + 4)).toEqual([
      "--tmpfs",
      home,
      "--bind",
      checkout,
      checkout,
    ]);
    expect(argv.join(" ")).not.toContain(`--bind ${root} ${root}`);
  });

  it("sends tools' caches to the step's directory unless they are set", () => {
    expect(stepCaches({ PATH: "/bin" }, step)).toEqual({
      PATH: "/bin",
      XDG_CACHE_HOME: join(step, "_tandem", "cache"),
      npm_config_cache: join(step, "_tandem", "cache", "npm"),
    });
    expect(stepCaches({ NPM_CONFIG_CACHE: "/srv/npm", XDG_CACHE_HOME: "/srv/cache" }, step)).toEqual({
      NPM_CONFIG_CACHE: "/srv/npm",
      XDG_CACHE_HOME: "/srv/cache",
    });
  });

  it("gives a step the host's GPU device nodes, and no other device", () => {
    const dev = join(root, "dev");
    mkdirSync(join(dev, "dri"), { recursive: true });
    mkdirSync(join(dev, "nvidia-caps"));
    for (const name of ["nvidia0", "nvidiactl", "nvidia-uvm", "kfd", "sda", "nvme0n1", "mem", "vnvidia"])
      writeFileSync(join(dev, name), "");
    const gpus = ["dri", "kfd", "nvidia-caps", "nvidia-uvm", "nvidia0", "nvidiactl"].map((name) => join(dev, name));
    expect(gpuDevices(dev)).toEqual(gpus);
    expect(deviceMounts(dev)).toEqual(gpus.flatMap((path) => ["--dev-bind", path, path]));
    // This machine's own: whatever it has follows --dev in every step's argv.
    const argv = sandboxArgv({ command: ["true"], workdir: step, hide: [home] });
    expect(argv.slice(argv.indexOf("--dev"), argv.indexOf("--dev") + 2 + deviceMounts().length)).toEqual([
      "--dev",
      "/dev",
      ...deviceMounts(),
    ]);
  });

  it("drops paths that do not exist or sit inside another hidden directory", () => {
    expect(hiddenMounts([join(home, "artifacts"), home, join(root, "nope")])).toEqual([{ path: home, kind: "dir" }]);
  });
});

describe("probeSandboxAsync", () => {
  afterAll(() => resetSandboxProbe());

  it("answers what the synchronous probe answers, here and for a bwrap that is not there", async () => {
    resetSandboxProbe();
    const asked = await probeSandboxAsync();
    resetSandboxProbe();
    expect(asked).toEqual(probeSandbox());
    const missing = join(tmpdir(), "no-such-dir", "bwrap");
    resetSandboxProbe();
    expect(await probeSandboxAsync(missing)).toEqual({
      isolated: false,
      reason: "bubblewrap (bwrap) is not installed",
    });
    resetSandboxProbe();
    expect(probeSandbox(missing)).toEqual({ isolated: false, reason: "bubblewrap (bwrap) is not installed" });
  });

  it("tells a bwrap that runs and fails from a working one, and bwrap mode refuses to run without it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tandem-fake-bwrap-"));
    const fake = join(dir, "bwrap");
    writeFileSync(fake, "#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n", {
      mode: 0o755,
    });
    try {
      resetSandboxProbe();
      const refused = {
        isolated: false,
        reason: "bwrap cannot create namespaces here: bwrap: No permissions to create new namespace",
      };
      expect(await probeSandboxAsync(fake)).toEqual(refused);
      resetSandboxProbe();
      expect(probeSandbox(fake)).toEqual(refused);
      await expect(sandboxForAsync("bwrap", fake)).rejects.toThrow(
        /TANDEM_STEP_SANDBOX=bwrap, but steps cannot be isolated/,
      );
      expect(await sandboxForAsync("auto", fake)).toEqual(refused);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
