/**
 * The project folder on this machine: path inputs hashed into the artifact store, lockfiles and
 * `cache: { files }` globs hashed for cache keys, and tandem.lock written beside tandem.yaml.
 */
import { createHash } from "node:crypto";
import { readdir, readFile, realpath, stat } from "node:fs/promises";
import { basename, join, resolve, sep } from "node:path";
import { glob } from "tinyglobby";
import { parse, stringify } from "yaml";
import type { ArtifactStore } from "../../core/artifacts/ports.js";
import { InvalidInputError } from "../../core/errors.js";
import type { LockStep, WorkspaceAccess } from "../../core/pipelines/ports.js";
import { writeFileAtomic } from "../../stores/files/atomic.js";
import { putTree } from "../../stores/artifacts/tree.js";
import { holdsOnlyPipeline } from "./lock-text.js";
import { lockYaml } from "./lock-yaml.js";
import { checkoutDigest, type GitFileLister } from "./checkout-digest.js";

/** Files whose content pins a step's software environment (like DVC's and CI caches' keys). */
export const LOCKFILES = [
  "package-lock.json",
  "npm-shrinkwrap.json",
  "yarn.lock",
  "pnpm-lock.yaml",
  "uv.lock",
  "poetry.lock",
  "Pipfile.lock",
  "conda-lock.yml",
  "environment.yml",
  "Cargo.lock",
  "go.sum",
  "Gemfile.lock",
];
/** requirements.txt, requirements-dev.txt, requirements_gpu.txt… */
const REQUIREMENTS = /^requirements.*\.txt$/;

/** Never part of a glob's match: Tandem's own files would change the key on every run. */
const IGNORED = ["**/.tandem/**", "**/tandem.lock", "**/_tandem/**", "**/.git/**"];

/** `path` is `base` or below it. */
function within(path: string, base: string): boolean {
  return path === base || path.startsWith(base.endsWith(sep) ? base : base + sep);
}

export interface LocalWorkspaceOptions {
  /**
   * The server's own files (home, database, artifacts, work dir): never read as project files, even
   * when a project folder holds them or a link in it points at them (default: none).
   */
  hide?: string[];
  /** Lists a git folder's files for checkoutDigest (LocalGit.listFiles); without it every folder is walked. */
  git?: GitFileLister;
}

export class LocalWorkspace implements WorkspaceAccess {
  constructor(
    private readonly artifacts: ArtifactStore,
    private readonly options: LocalWorkspaceOptions = {},
  ) {}

  /** The hidden paths as they are on disk (links resolved), so a link to one is recognised. */
  private async hiddenPaths(): Promise<string[]> {
    return Promise.all((this.options.hide ?? []).map(async (p) => realpath(p).catch(() => resolve(p))));
  }

  private inside(workspace: string, relativePath: string): string | null {
    const root = resolve(workspace);
    const full = resolve(root, relativePath);
    return full === root || full.startsWith(root + sep) ? full : null;
  }

  async hashPath(workspace: string, relativePath: string): Promise<{ manifest: string; kind: "file" | "dir" }> {
    const full = this.inside(workspace, relativePath);
    if (!full) throw new InvalidInputError(`path "${relativePath}" leaves the project folder`);
    const info = await stat(full).catch(() => null);
    if (!info) throw new InvalidInputError(`path "${relativePath}" does not exist in ${resolve(workspace)}`);
    // The server reads these files outside any step's sandbox, and a step may write the project
    // folder: a link planted there must not lead the server to files the step could not read.
    const real = await realpath(full);
    if (!within(real, await realpath(workspace)))
      throw new InvalidInputError(`path "${relativePath}" is a symbolic link that leaves the project folder`);
    const hidden = await this.hiddenPaths();
    const own = hidden.find((h) => within(real, h));
    if (own)
      throw new InvalidInputError(
        `path "${relativePath}" is among the server's own files (${own}); a project may not read them`,
      );
    // A folder that holds them (a laptop's ./.tandem inside the project) is read without them.
    const { manifest } = await putTree(this.artifacts, real, {
      skip: (path) => hidden.some((h) => within(path, h)),
      fileName: basename(full),
    });
    return { manifest, kind: info.isFile() ? "file" : "dir" };
  }

  async entryKind(workspace: string, relativePath: string): Promise<"file" | "dir" | null> {
    const full = this.inside(workspace, relativePath);
    const info = full ? await stat(full).catch(() => null) : null;
    return info?.isFile() ? "file" : info?.isDirectory() ? "dir" : null;
  }

  async lockfiles(workspace: string): Promise<Record<string, string>> {
    const names = new Set(LOCKFILES);
    for (const entry of await readdir(workspace).catch(() => [] as string[]))
      if (REQUIREMENTS.test(entry)) names.add(entry);
    const out: Record<string, string> = {};
    for (const name of [...names].sort()) {
      const content = await readFile(join(workspace, name)).catch(() => null);
      if (content !== null) out[name] = createHash("sha256").update(content).digest("hex");
    }
    return out;
  }

  async checkoutDigest(workspace: string): Promise<{ digest: string; value: string }> {
    const hidden = await this.hiddenPaths();
    return checkoutDigest(workspace, {
      git: this.options.git,
      skip: (path) => hidden.some((h) => within(path, h)),
    });
  }

  async hashGlob(workspace: string, pattern: string): Promise<{ digest: string; files: string[] }> {
    const files = (await glob(pattern, { cwd: workspace, ignore: IGNORED, dot: true, onlyFiles: true })).sort();
    const hash = createHash("sha256");
    for (const file of files) {
      const full = this.inside(workspace, file);
      if (!full) continue;
      const content = await readFile(full);
      hash.update(`${file}\0${content.length}\0`).update(content);
    }
    return { digest: hash.digest("hex"), files };
  }

  async writeLock(
    workspace: string,
    pipeline: string,
    lock: { spec_digest: string; params: Record<string, unknown>; steps: Record<string, LockStep> },
  ): Promise<void> {
    const file = join(workspace, "tandem.lock");
    let current: { schema?: number; pipelines?: Record<string, unknown> } = {};
    try {
      const text = await readFile(file, "utf8");
      // Only other pipelines' entries are kept from it: a lock of this pipeline alone is not parsed.
      if (!holdsOnlyPipeline(text, pipeline)) current = (parse(text) as typeof current) ?? {};
    } catch {
      current = {};
    }
    const pipelines = { ...(current.pipelines ?? {}), [pipeline]: lock };
    const text =
      "# tandem.lock: written by `tandem run`. Commit it: it pins the command, params, inputs and outputs\n" +
      "# (sha256) of every step, so a commit says exactly what produced its models.\n" +
      (lockYaml({ schema: 1, pipelines }) ??
        stringify({ schema: 1, pipelines }, { sortMapEntries: true, lineWidth: 0 }));
    await writeFileAtomic(file, text);
  }
}
