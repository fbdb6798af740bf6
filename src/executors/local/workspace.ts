/**
 * The project folder on this machine: path inputs hashed into the artifact store, the environment
 * digest over lockfiles, and tandem.lock written beside tandem.yaml.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join, resolve, sep } from "node:path";
import { parse, stringify } from "yaml";
import type { ArtifactStore } from "../../core/artifacts/ports.js";
import { InvalidInputError } from "../../core/errors.js";
import type { LockStep, WorkspaceAccess } from "../../core/pipelines/ports.js";
import { writeFileAtomic } from "../../stores/files/atomic.js";
import { putTree } from "../../stores/artifacts/tree.js";
import { stat } from "node:fs/promises";

/** Files whose content pins a step's software environment (like DVC's and CI caches' keys). */
export const LOCKFILES = [
  "package-lock.json",
  "npm-shrinkwrap.json",
  "yarn.lock",
  "pnpm-lock.yaml",
  "requirements.txt",
  "poetry.lock",
  "uv.lock",
  "Pipfile.lock",
  "conda-lock.yml",
  "environment.yml",
  "Cargo.lock",
  "go.sum",
  "Gemfile.lock",
];

export class LocalWorkspace implements WorkspaceAccess {
  constructor(private readonly artifacts: ArtifactStore) {}

  async hashPath(workspace: string, relativePath: string): Promise<{ manifest: string; kind: "file" | "dir" }> {
    const root = resolve(workspace);
    const full = resolve(root, relativePath);
    if (full !== root && !full.startsWith(root + sep))
      throw new InvalidInputError(`input path "${relativePath}" leaves the project folder`);
    const info = await stat(full).catch(() => null);
    if (!info) throw new InvalidInputError(`input path "${relativePath}" does not exist in ${root}`);
    const { manifest } = await putTree(this.artifacts, full);
    return { manifest, kind: info.isFile() ? "file" : "dir" };
  }

  async envDigest(workspace: string): Promise<string | null> {
    const hash = createHash("sha256");
    let found = false;
    for (const name of LOCKFILES) {
      const content = await readFile(join(workspace, name)).catch(() => null);
      if (content === null) continue;
      found = true;
      hash.update(`${name}\0${content.length}\0`).update(content);
    }
    return found ? hash.digest("hex") : null;
  }

  async writeLock(
    workspace: string,
    pipeline: string,
    lock: { spec_digest: string; params: Record<string, unknown>; steps: Record<string, LockStep> },
  ): Promise<void> {
    const file = join(workspace, "tandem.lock");
    let current: { schema?: number; pipelines?: Record<string, unknown> } = {};
    try {
      current = (parse(await readFile(file, "utf8")) as typeof current) ?? {};
    } catch {
      current = {};
    }
    const pipelines = { ...(current.pipelines ?? {}), [pipeline]: lock };
    const text =
      "# tandem.lock: written by `tandem run`. Commit it: it pins the command, params, inputs and outputs\n" +
      "# (sha256) of every step, so a commit says exactly what produced its models.\n" +
      stringify({ schema: 1, pipelines }, { sortMapEntries: true, lineWidth: 0 });
    await writeFileAtomic(file, text);
  }
}
