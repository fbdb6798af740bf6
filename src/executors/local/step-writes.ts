/**
 * Where a sandboxed step may write, as bwrap's first mounts (sandbox.ts adds the hidden paths and the
 * step's own directory after them).
 *
 * As root, a step that could write anywhere would own the host: /etc/ld.so.preload (loaded by the
 * very next program the server starts, outside every namespace), cron, the server's own code. So a
 * root step sees the filesystem read-only, like a container's read-only root, except its own
 * directory and the temporary folders.
 *
 * As another user, the step writes what that user may write, as any program of the user's would; but
 * never the code the server itself runs (Tandem's package, the node_modules it loads from, node):
 * a step that rewrote it would run as the server at its next start, with the home it cannot read.
 */
import { existsSync, readFileSync, realpathSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
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

/** The temporary folders a step may always write (those that exist). */
export function tempFolders(): string[] {
  return [...new Set(["/tmp", "/var/tmp", tmpdir()])].filter((dir) => existsSync(dir));
}

const mounts = new Map<boolean, readonly string[]>();

/**
 * bwrap's mounts of the filesystem for a step, before the hidden paths and its own directory. Made
 * once per process: every step starts with them, and node, the package and the temporary folders do
 * not move under a running server (this spares each step a realpath and three stats).
 */
export function rootMounts(asRoot: boolean): readonly string[] {
  let made = mounts.get(asRoot);
  if (!made) {
    const base = asRoot
      ? ["--ro-bind", "/", "/", ...tempFolders().flatMap((dir) => ["--bind", dir, dir])]
      : ["--bind", "/", "/"];
    // After the temporary folders: Tandem may be installed in one (a clone in /tmp).
    made = [...base, ...serverCode().flatMap((path) => ["--ro-bind", path, path])];
    mounts.set(asRoot, made);
  }
  return made;
}
