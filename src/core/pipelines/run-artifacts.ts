/**
 * A remote step's view of the artifact store (served under `…/pipeline-runs/R/blobs` for
 * `tandem step-agent`): only the run's own token, reading only blobs of that run's inputs and
 * outputs (the manifests its steps recorded and the files they list), writing only while the run
 * is active. Never the store's own credentials on a node.
 */
import type { Readable } from "node:stream";
import { getManifest } from "../artifacts/manifest.js";
import type { ArtifactStore, BlobInfo } from "../artifacts/ports.js";
import { ForbiddenError, NotFoundError } from "../errors.js";
import type { Principal } from "../governance/model.js";
import type { PipelineStore } from "./ports.js";

export class RunArtifacts {
  /** Per run, what it may read as last computed: a step reading 1 000 input files asks once, not 1 000 times. */
  private readonly known = new Map<string, Set<string>>();

  constructor(
    private readonly store: PipelineStore,
    private readonly artifacts: ArtifactStore,
  ) {}

  private async activeRun(principal: Principal, project: string, runId: string) {
    if (principal.runId !== runId)
      throw new ForbiddenError(
        "a run's blobs are reachable only with that run's own token (TANDEM_TOKEN of its steps)",
      );
    const run = await this.store.getRun(runId);
    if (!run || run.project !== project) throw new NotFoundError(`no pipeline run ${runId} in project ${project}`);
    return run;
  }

  /**
   * Whether `sha` is a manifest a step of the run recorded (input or output) or a file one lists.
   * A miss recomputes the set: a later step's inputs are recorded when it starts.
   */
  private async reachable(runId: string, sha: string): Promise<boolean> {
    if (this.known.get(runId)?.has(sha)) return true;
    const blobs = new Set<string>();
    for (const step of await this.store.getSteps(runId)) {
      for (const input of Object.values(step.inputs)) blobs.add(input.manifest);
      for (const output of Object.values(step.outputs)) blobs.add(output);
    }
    for (const m of [...blobs]) {
      const manifest = await getManifest(this.artifacts, m).catch(() => null);
      for (const e of manifest?.entries ?? []) blobs.add(e.sha256);
    }
    if (this.known.size > 1000) this.known.clear();
    this.known.set(runId, blobs);
    return blobs.has(sha);
  }

  async read(principal: Principal, project: string, runId: string, sha: string): Promise<Readable> {
    await this.activeRun(principal, project, runId);
    if (!(await this.reachable(runId, sha)))
      throw new ForbiddenError(`blob ${sha.slice(0, 12)} is not an input or output of run ${runId}`);
    return this.artifacts.getBlob(sha);
  }

  async write(principal: Principal, project: string, runId: string, data: Readable): Promise<BlobInfo> {
    const run = await this.activeRun(principal, project, runId);
    if (run.status !== "running" && run.status !== "queued")
      throw new ForbiddenError(`run ${runId} is ${run.status}: its steps can no longer upload`);
    return this.artifacts.putBlob(data);
  }
}
