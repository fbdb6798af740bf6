/**
 * The sandbox around a local step: a mount and pid namespace made by bubblewrap (Debian's
 * `bubblewrap`), in which the whole filesystem is visible, read-only (step-writes.ts), except the server's own files
 * (its home with admin.token, tandem.db, secret.key and artifacts; every other step's directory),
 * which are replaced by empty ones. The step keeps its own directory, and sees only its own
 * processes, so it cannot reach the server's files through /proc/<server pid>/root or its open
 * descriptors either.
 *
 * It is a wrapper around a spawn: `sandboxArgv` turns a command, a working directory and the paths
 * to hide into an argv. The local executor and `tandem step-agent` (remote executors) both use it.
 */
import { execFile, spawnSync } from "node:child_process";
import { accessSync, constants, lstatSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, isAbsolute, join, resolve, sep } from "node:path";
import { deviceMounts } from "./step-devices.js";
import { socketMounts } from "./step-sockets.js";
import { rootMounts } from "./step-writes.js";

export const BWRAP = "bwrap";

const onPath = new Map<string, string>();

/**
 * The full path of `program` on this process's PATH (looked up once), else `program` itself. A
 * step's spawn then execs it at once: by name, the forked child tries each PATH entry in turn
 * (nine here), while the driver's event loop waits for the exec.
 */
export function programPath(program: string): string {
  if (isAbsolute(program)) return program;
  let found = onPath.get(program);
  if (found === undefined) {
    found = program;
    for (const dir of (process.env.PATH ?? "").split(delimiter)) {
      if (!isAbsolute(dir)) continue;
      const candidate = join(dir, program);
      try {
        accessSync(candidate, constants.X_OK);
        if (!statSync(candidate).isFile()) continue;
        found = candidate;
        break;
      } catch {
        // Not here.
      }
    }
    onPath.set(program, found);
  }
  return found;
}

export interface SandboxSpec {
  /** The program and its arguments, run inside the sandbox. */
  command: string[];
  /**
   * The step's own directory: visible and writable inside, and the working directory (default: none,
   * and the working directory is /: the server's git, git-sandbox.ts).
   */
  workdir?: string;
  /**
   * The working directory is seen read-only: a served model's files, unpacked once per artifact and
   * shared by every endpoint that serves them (default false: a step writes its own directory).
   */
  readOnlyWorkdir?: boolean;
  /** Directories and files the step must not read (hidden under an empty tmpfs or /dev/null). */
  hide: string[];
  /** Folders the step may write besides its own and the temporary ones (TANDEM_STEP_WRITABLE). */
  writable?: readonly string[];
  /**
   * Folders inside a hidden one that the step sees again, writable: its run's checkout of a commit,
   * among the hidden checkouts of every run (default none; one outside every hidden folder is left as
   * the root mounts show it).
   */
  show?: readonly string[];
  /** More of what the server runs, read-only even inside a writable folder (pythonEnvironment). */
  code?: readonly string[];
  /** The bwrap binary (default "bwrap" on PATH). */
  bwrap?: string;
  /**
   * `--block-fd`: the sandbox is made, then waits until this descriptor (its number, as the step's
   * spawner will set it) can be read before the command starts (default: starts at once).
   */
  blockFd?: string;
  /**
   * Whether bwrap runs as uid 0 (default: this process's uid is 0). bwrap then keeps every
   * capability for the step unless told otherwise, so the step is given ROOT_STEP_CAPS and read-only
   * kernel knobs (see sandboxArgv).
   */
  asRoot?: boolean;
}

const inside = (path: string, dir: string) => path === dir || path.startsWith(dir.endsWith(sep) ? dir : dir + sep);

/**
 * Drops paths that do not exist and paths inside another hidden one (hiding the outer one hides
 * them, and bwrap could not mount onto a path the outer tmpfs has already removed).
 */
export function hiddenMounts(hide: string[]): Array<{ path: string; kind: "dir" | "file" }> {
  const paths = [...new Set(hide.map((p) => resolve(p)))].sort((a, b) => a.length - b.length);
  const kept: Array<{ path: string; kind: "dir" | "file" }> = [];
  for (const path of paths) {
    if (kept.some((k) => k.kind === "dir" && inside(path, k.path))) continue;
    let kind: "dir" | "file";
    try {
      kind = lstatSync(path).isDirectory() ? "dir" : "file";
    } catch {
      continue;
    }
    kept.push({ path, kind });
  }
  return kept;
}

/**
 * What a step keeps of root's capabilities when the server runs as root: Podman's default set
 * (a container's root: own and chown files, override file permissions, signal its own processes,
 * switch uid). Left out are CAP_SYS_ADMIN (with it a step unmounts the tmpfs over the home and reads
 * admin.token), CAP_DAC_READ_SEARCH (open_by_handle_at reaches files under the hiding mounts),
 * CAP_SYS_PTRACE, CAP_SYS_MODULE, CAP_SYS_RAWIO, CAP_MKNOD, CAP_NET_ADMIN and the rest.
 */
export const ROOT_STEP_CAPS = [
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_FOWNER",
  "CAP_FSETID",
  "CAP_KILL",
  "CAP_NET_BIND_SERVICE",
  "CAP_SETFCAP",
  "CAP_SETGID",
  "CAP_SETPCAP",
  "CAP_SETUID",
  "CAP_SYS_CHROOT",
];

/**
 * The argv that runs `command` in the sandbox:
 *   bwrap <root mounts> --dev /dev --tmpfs <hidden dir> --ro-bind /dev/null <hidden file> --bind <workdir> <workdir>
 *         --unshare-pid --proc /proc --die-with-parent --chdir <workdir> -- command…
 * The root mounts (step-writes.ts) show the filesystem read-only but for the temporary folders and
 * the operator's writable ones, and never the server's own code writable. `--bind` mounts without device access, so /dev gets a fresh minimal devtmpfs (null, zero, random,
 * urandom, tty, pts, shm): without it opening /dev/null fails with EACCES, and with it every
 * `> /dev/null` and every child process started with ignored stdio.
 * Order matters: the hidden paths are covered first, then the step's own directory is mounted back
 * (it may sit below a hidden one). A new pid namespace with its own /proc keeps the server's
 * processes (and their /proc/<pid>/root, cwd and fd links) out of sight; --die-with-parent ends the
 * step when the process that started it dies, so nothing is left behind.
 *
 * As root, bwrap leaves the step all of root's capabilities (it drops them only for other users, whose
 * steps get a user namespace), and uid 0 may write sysctls and many /sys files by their mode bits
 * alone, without any capability: a step could unmount what hides the home, or set
 * kernel.core_pattern to a program of its own that the kernel then runs as root outside every
 * namespace. So a root step keeps only ROOT_STEP_CAPS, and /sys and /proc/sys are read-only to it
 * (bwrap's own cover of /proc/sys is skipped: access(W_OK) on the 0555 directory fails even for
 * root). Measured free: bwrap's CPU per start is the same within noise (20.9 vs 21.0 ms, issue 18).
 *
 * Where a start's CPU goes (issue 18; bench/sandbox, 14.6 ms over a bare spawn at load 11): making
 * processes, not mounts. bwrap's exec and its namespace child are ~9 ms, the pid namespace's init
 * (a fork of bwrap) ~4 ms, and all mounts past `--bind / /` (--dev, --proc, the hidden paths) ~2 ms,
 * so fewer or cheaper mounts (symlinks, a smaller /dev) measured within noise. --as-pid-1 would save
 * the init but makes the command pid 1 of its namespace, which changes results: `kill $$` and a TERM
 * it does not handle are ignored (a stopped step would wait out its grace period), abort() ends in
 * SIGSEGV rather than SIGABRT, and nothing reaps orphans of a command that is not a shell.
 */
export function sandboxArgv(spec: SandboxSpec): string[] {
  const workdir = spec.workdir === undefined ? null : resolve(spec.workdir);
  const asRoot = spec.asRoot ?? process.getuid?.() === 0;
  const argv = [spec.bwrap ?? BWRAP];
  if (asRoot) {
    argv.push("--cap-drop", "ALL");
    for (const cap of ROOT_STEP_CAPS) argv.push("--cap-add", cap);
  }
  argv.push(...rootMounts(spec.writable, spec.code));
  if (asRoot) argv.push("--ro-bind-try", "/sys", "/sys");
  argv.push("--dev", "/dev", ...deviceMounts(), ...socketMounts());
  const hidden = hiddenMounts(spec.hide);
  for (const { path, kind } of hidden) {
    if (path === workdir) continue;
    if (kind === "dir") argv.push("--tmpfs", path);
    else argv.push("--ro-bind", "/dev/null", path);
  }
  for (const dir of spec.show ?? []) {
    const shown = resolve(dir);
    if (hidden.some((h) => h.kind === "dir" && h.path !== shown && inside(shown, h.path)))
      argv.push("--bind", shown, shown);
  }
  if (workdir) argv.push(spec.readOnlyWorkdir ? "--ro-bind" : "--bind", workdir, workdir);
  argv.push("--unshare-pid", "--proc", "/proc");
  if (asRoot) argv.push("--ro-bind", "/proc/sys", "/proc/sys");
  argv.push("--die-with-parent", "--chdir", workdir ?? "/");
  if (spec.blockFd !== undefined) argv.push("--block-fd", spec.blockFd);
  argv.push("--", ...spec.command);
  return argv;
}

export type SandboxMode = "auto" | "bwrap" | "none";

export type SandboxStatus = { isolated: true; how: string } | { isolated: false; reason: string };

const probed = new Map<string, SandboxStatus>();
const probing = new Map<string, Promise<SandboxStatus>>();

/** A hidden directory with a marker file and a work directory, and the argv that checks both in bwrap. */
function probeSetup(bwrap: string): { dir: string; argv: string[] } {
  const dir = mkdtempSync(join(tmpdir(), "tandem-sandbox-probe-"));
  const hidden = join(dir, "hidden");
  const work = join(dir, "work");
  mkdirSync(hidden);
  mkdirSync(work);
  writeFileSync(join(hidden, "marker"), "");
  const argv = sandboxArgv({
    command: ["/bin/sh", "-c", 'test ! -e "$0/marker" && test -d "$1" && echo ok > /dev/null', hidden, work],
    workdir: work,
    hide: [hidden],
    bwrap,
  });
  return { dir, argv };
}

/** What the probe's run says: bwrap missing, refused, or working. */
function probeVerdict(error: Error | null | undefined, status: number | null, stderr: string): SandboxStatus {
  if (error) {
    const missing = (error as NodeJS.ErrnoException).code === "ENOENT";
    return {
      isolated: false,
      reason: missing ? "bubblewrap (bwrap) is not installed" : `bwrap could not start: ${error.message}`,
    };
  }
  if (status !== 0) {
    const said = (stderr || "").trim().split("\n")[0] || `exit code ${status}`;
    return { isolated: false, reason: `bwrap cannot create namespaces here: ${said}` };
  }
  return { isolated: true, how: "bubblewrap (mount and pid namespaces)" };
}

/**
 * Whether bwrap can make the sandbox here (installed, and allowed to create namespaces: as root, or
 * with unprivileged user namespaces). Tried once per process with a real hidden directory.
 */
export function probeSandbox(bwrap = BWRAP): SandboxStatus {
  const known = probed.get(bwrap);
  if (known) return known;
  const { dir, argv } = probeSetup(bwrap);
  let status: SandboxStatus;
  try {
    const run = spawnSync(argv[0]!, argv.slice(1), { encoding: "utf8", timeout: 10_000 });
    status = probeVerdict(run.error, run.status, run.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  probed.set(bwrap, status);
  return status;
}

/**
 * probeSandbox without stopping the event loop: bwrap making its namespaces took 30-130 ms at load
 * 10-17, during which a run's driver answered nothing (issue 18). Never rejects.
 */
export function probeSandboxAsync(bwrap = BWRAP): Promise<SandboxStatus> {
  const known = probed.get(bwrap);
  if (known) return Promise.resolve(known);
  let started = probing.get(bwrap);
  if (!started) {
    started = new Promise<SandboxStatus>((resolve) => {
      let setup: { dir: string; argv: string[] };
      try {
        setup = probeSetup(bwrap);
      } catch (error) {
        resolve({ isolated: false, reason: `the sandbox probe could not start: ${(error as Error).message}` });
        return;
      }
      execFile(setup.argv[0]!, setup.argv.slice(1), { encoding: "utf8", timeout: 10_000 }, (error, _out, stderr) => {
        rmSync(setup.dir, { recursive: true, force: true });
        // execFile reports a non-zero exit as an error with a numeric code; probeVerdict wants the status.
        const exit = error && typeof (error as NodeJS.ErrnoException).code === "number" ? Number(error.code) : null;
        const status = probeVerdict(exit === null ? error : null, error ? exit : 0, stderr);
        probed.set(bwrap, probed.get(bwrap) ?? status);
        probing.delete(bwrap);
        resolve(probed.get(bwrap)!);
      });
    });
    probing.set(bwrap, started);
  }
  return started;
}

/** For tests: forget the probe's answer. */
export function resetSandboxProbe(): void {
  probed.clear();
  probing.clear();
}

/** What a mode means here: isolate with bwrap, or run steps as plain child processes (and why). */
export function sandboxFor(mode: SandboxMode, bwrap = BWRAP): SandboxStatus {
  if (mode === "none") return { isolated: false, reason: "TANDEM_STEP_SANDBOX=none" };
  return required(mode, probeSandbox(bwrap));
}

/** sandboxFor without stopping the event loop (probeSandboxAsync). */
export async function sandboxForAsync(mode: SandboxMode, bwrap = BWRAP): Promise<SandboxStatus> {
  if (mode === "none") return { isolated: false, reason: "TANDEM_STEP_SANDBOX=none" };
  return required(mode, await probeSandboxAsync(bwrap));
}

/** `bwrap` mode refuses to run steps without the sandbox. */
function required(mode: SandboxMode, status: SandboxStatus): SandboxStatus {
  if (!status.isolated && mode === "bwrap")
    throw new Error(`TANDEM_STEP_SANDBOX=bwrap, but steps cannot be isolated: ${status.reason}`);
  return status;
}
