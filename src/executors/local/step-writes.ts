/**
 * Where a sandboxed step may write, as bwrap's first mounts (sandbox.ts adds the hidden paths and the
 * step's own directory after them).
 *
 * Every step sees the host read-only, like a container's read-only root, whatever user the server
 * runs as, except its own directory, the temporary folders and the paths the operator lists
 * (TANDEM_STEP_WRITABLE). A step that could write what the server's user may write would run code
 * as the server later, outside the sandbox and with the home it cannot read: ~/.gitconfig's
 * core.fsmonitor runs at the server's next `git status`, ~/.ssh/authorized_keys is a login,
 * ~/.bashrc, ~/.local/bin, ~/.node_modules, ~/.config/systemd/user run at the admin's next shell,
 * node or login; as root, /etc/ld.so.preload is loaded by the very next program the server starts.
 * The code the server itself runs (node, Tandem's package) stays read-only even where it sits in a
 * writable folder (a clone in /tmp).
 */
import { existsSync, readFileSync, realpathSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, isAbsolute, join } from "node:path";
import { fileURLToPath } from "node:url";

/** Tandem's package directory (the one whose package.json is named tandem), found once. */
let packageDir: string | null | undefined;
function tandemPackage(): string | null {
  if (packageDir !== undefined) return packageDir;
  packageDir = null;
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) {
    const manifest = join(dir, "package.json");
    if (!existsSync(manifest)) continue;
    try {
      if ((JSON.parse(readFileSync(manifest, "utf8")) as { name?: unknown }).name === "tandem") packageDir = dir;
    } catch {
      // Not a package manifest we can read: keep looking up.
    }
    if (packageDir) break;
  }
  return packageDir;
}

/**
 * The code the server runs: node, and Tandem's package, or the whole node_modules it was installed
 * into (its dependencies are siblings there).
 */
export function serverCode(): string[] {
  const code = [realpathSync(process.execPath)];
  const pkg = tandemPackage();
  if (pkg) code.push(basename(dirname(pkg)) === "node_modules" ? dirname(pkg) : pkg);
  return code;
}

/**
 * The Python environment the server runs (TANDEM_PYTHON, for `mlflow models serve`) when it is a
 * virtual environment or sits in a folder of its own: the folder above its bin/ (a venv's root),
 * else null (a system python under /usr, read-only anyway). Without the server's interpreter flag
 * -I, that Python loads every .pth file of its site-packages: in a venv in /tmp a step would write
 * one, and the server would run it at the next deployment, outside the sandbox.
 */
export function pythonEnvironment(python: string): string | null {
  if (!isAbsolute(python)) return null;
  const root = dirname(dirname(python));
  if (basename(dirname(python)) !== "bin" || root === "/" || root === "/usr") return null;
  return existsSync(root) ? root : null;
}

/** The temporary folders a step may always write (those that exist). */
export function tempFolders(): string[] {
  return [...new Set(["/tmp", "/var/tmp", tmpdir()])].filter((dir) => existsSync(dir));
}

const mounts = new Map<string, readonly string[]>();

/**
 * bwrap's mounts of the filesystem for a step, before the hidden paths and its own directory:
 * everything read-only, then the temporary folders and `writable` (TANDEM_STEP_WRITABLE; those that
 * exist, as bwrap refuses to bind a missing path) writable again, then the server's code (and
 * `code`: other programs the server runs, such as pythonEnvironment) read-only.
 * Made once per process and list: every step starts with them, and node, the package and the
 * temporary folders do not move under a running server (this spares each step a realpath and stats).
 */
export function rootMounts(writable: readonly string[] = [], code: readonly string[] = []): readonly string[] {
  const key = `${writable.join("\0")}\n${code.join("\0")}`;
  let made = mounts.get(key);
  if (!made) {
    const open = [...new Set([...tempFolders(), ...writable.filter((dir) => existsSync(dir))])];
    made = [
      "--ro-bind",
      "/",
      "/",
      ...open.flatMap((dir) => ["--bind", dir, dir]),
      // After the writable folders: Tandem may be installed in one (a clone in /tmp).
      ...[...serverCode(), ...code.filter((dir) => existsSync(dir))].flatMap((path) => ["--ro-bind", path, path]),
    ];
    mounts.set(key, made);
  }
  return made;
}

/**
 * Where a step's tools keep their caches: a folder of its own directory, as the home they default to
 * is read-only to it. npm (npx of a package not installed) fails outright on a read-only ~/.npm
 * (EROFS); pip, matplotlib, Hugging Face and others use $XDG_CACHE_HOME. Per step, not shared: a
 * cache every step could write would let one project's step plant a package that another project's
 * step then runs with its secrets. Variables already set (the server's environment, the step's
 * `env:`) are kept: an operator who wants a shared cache lists it in TANDEM_STEP_WRITABLE and sets it.
 */
export function stepCaches(env: Record<string, string>, workdir: string): Record<string, string> {
  const cache = join(workdir, "_tandem", "cache");
  const caches: Record<string, string> = {};
  if (env.XDG_CACHE_HOME === undefined) caches.XDG_CACHE_HOME = cache;
  // npm reads its settings from the environment whatever their case.
  if (env.npm_config_cache === undefined && env.NPM_CONFIG_CACHE === undefined)
    caches.npm_config_cache = join(cache, "npm");
  return { ...env, ...caches };
}
