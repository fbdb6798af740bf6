/**
 * The environment a step runs in, as far as Tandem can see it: the workspace's lockfiles, the
 * versions of the interpreters on the step's PATH and the container image it names. Lockfiles are
 * read and interpreters probed once per run (per distinct PATH), not per step: a 200-step DAG would
 * otherwise start 400 `--version` processes.
 */
import { createHash } from "node:crypto";
import type { StepEnvironment } from "../model.js";
import { stepExecution } from "../spec/executors.js";
import type { PipelineSpec, StepSpec } from "../spec/schema.js";
import type { EngineDeps } from "./deps.js";
import { canonicalJson } from "./cache-key.js";

/** The container image a step names (its `image:`, the deprecated `resources.image`, or its pipeline's `image:`). */
export function stepImage(spec: StepSpec, pipeline?: PipelineSpec): string | null {
  return stepExecution(spec, pipeline).image;
}

/** A tag without `@sha256:` can point at another image tomorrow (`tandem validate` warns). */
export function isPinnedImage(image: string): boolean {
  return /@sha256:[0-9a-f]{64}$/.test(image);
}

export function environmentDigest(e: Omit<StepEnvironment, "digest" | "imageId">): string {
  return createHash("sha256")
    .update(canonicalJson({ lockfiles: e.lockfiles, interpreters: e.interpreters, image: e.image }))
    .digest("hex");
}

export class RunEnvironment {
  private lockfiles: Promise<Record<string, string>> | undefined;
  private checkoutFiles: Promise<{ digest: string; value: string } | null> | undefined;
  private readonly interpreters = new Map<string, Promise<Record<string, string | null>>>();

  constructor(
    private readonly deps: Pick<EngineDeps, "workspace" | "probe">,
    private readonly workspace: string | null,
  ) {}

  /** The run's lockfiles (read once). */
  lockfileHashes(): Promise<Record<string, string>> {
    this.lockfiles ??= this.workspace
      ? this.deps.workspace.lockfiles(this.workspace).catch(() => ({}))
      : Promise.resolve({});
    return this.lockfiles;
  }

  /**
   * The project folder's files (WorkspaceAccess.checkoutDigest), read once per run: the checkout
   * as the run found it, whatever its steps do to it later. null without a workspace.
   */
  checkout(): Promise<{ digest: string; value: string } | null> {
    this.checkoutFiles ??= this.workspace ? this.deps.workspace.checkoutDigest(this.workspace) : Promise.resolve(null);
    return this.checkoutFiles;
  }

  private interpretersOn(path: string | null): Promise<Record<string, string | null>> {
    const key = path ?? "";
    let probed = this.interpreters.get(key);
    if (!probed) {
      probed = this.deps.probe ? this.deps.probe.interpreters(path).catch(() => ({})) : Promise.resolve({});
      this.interpreters.set(key, probed);
    }
    return probed;
  }

  /** Starts reading lockfiles, the checkout and probing this process's PATH while the run starts (never rejects). */
  prefetch(): void {
    void this.lockfileHashes();
    void this.interpretersOn(null);
    // Read as the run starts; a failure is the keying step's to report.
    this.checkout().catch(() => undefined);
  }

  /** `env` is the step's rendered `env:`; its PATH, when set, is where the step finds interpreters. */
  async forStep(spec: StepSpec, env: Record<string, string>, pipeline?: PipelineSpec): Promise<StepEnvironment> {
    const probed = this.interpretersOn(env.PATH ?? null);
    const parts = {
      lockfiles: await this.lockfileHashes(),
      interpreters: await probed,
      image: stepImage(spec, pipeline),
    };
    return { ...parts, digest: this.digestOf(parts, env.PATH ?? ""), imageId: null };
  }

  /**
   * The digest of one PATH's interpreters and one image with the run's lockfiles, computed once:
   * the lockfiles and each PATH's interpreters are read once per run (the same objects every time),
   * so steps that share a PATH and an image share the digest.
   */
  private readonly digests = new Map<string, { lockfiles: object; interpreters: object; digest: string }>();
  private digestOf(parts: Omit<StepEnvironment, "digest" | "imageId">, path: string): string {
    const key = `${path}\u0000${parts.image === null ? "no image" : `image ${parts.image}`}`;
    const known = this.digests.get(key);
    // Only while the parts are the very objects the digest was computed from.
    if (known && known.lockfiles === parts.lockfiles && known.interpreters === parts.interpreters) return known.digest;
    const digest = environmentDigest(parts);
    this.digests.set(key, { lockfiles: parts.lockfiles, interpreters: parts.interpreters, digest });
    return digest;
  }
}

/**
 * The parts of an environment as flat strings, for lineage: `python3: Python 3.11.4`, `node: v20.…`
 * (`absent` when not on PATH), each lockfile → its sha256, `image` and `image_id`. A step with an
 * image whose executor reported no image id (Slurm and local have no container runtime) says so,
 * `image_id: not reported by slurm`, rather than leaving it out.
 */
export function environmentParts(e: StepEnvironment, executor?: string | null): Record<string, string> {
  const parts: Record<string, string> = {};
  for (const [name, version] of Object.entries(e.interpreters)) parts[name] = version ?? "absent";
  for (const [file, sha] of Object.entries(e.lockfiles)) parts[file] = sha;
  if (e.image) parts.image = e.image;
  if (e.imageId) parts.image_id = e.imageId;
  else if (e.image && executor) parts.image_id = `not reported by ${executor}`;
  return parts;
}
