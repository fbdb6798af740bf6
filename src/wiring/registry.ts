/**
 * The registry area: its SQL store, and its view of runs (lineage) through the Tracking service —
 * looked up lazily, so the order of AREA_WIRINGS does not matter.
 */
import type { ArtifactStore } from "../core/artifacts/ports.js";
import { NotFoundError, TandemError } from "../core/errors.js";
import type { PolicySpec } from "../core/registry/policy.js";
import {
  LINEAGE_TAGS,
  type LineageRun,
  type LineageSource,
  type PolicySource,
  type RegistryStore,
} from "../core/registry/ports.js";
import type { PipelineService } from "../core/pipelines/service.js";
import { RegistryService } from "../core/registry/service.js";
import type { TrackingService } from "../core/tracking/service.js";
import type { Run } from "../core/tracking/model.js";
import type { Services } from "../server/services.js";
import { SqlRegistryStore } from "../stores/metadata/registry-store.js";
import type { Wiring } from "./kit.js";

declare module "../server/services.js" {
  interface Services {
    registry: RegistryService;
  }
}

declare module "../core/pipelines/builtins/contract.js" {
  interface BuiltinServices {
    registry: RegistryService;
    artifacts: ArtifactStore;
  }
}

function toLineageRun(run: Run): LineageRun {
  return {
    id: run.info.runId,
    name: run.info.runName,
    status: run.info.status,
    params: run.params,
    metrics: Object.fromEntries(run.metrics.map((m) => [m.key, m.value])),
    tags: run.tags,
    parentRunId: run.info.parentRunId,
    startedAt: run.info.startTime,
    endedAt: run.info.endTime,
  };
}

/** Tracking's runs as the registry's LineageSource. */
export class TrackingLineageSource implements LineageSource {
  constructor(private readonly services: Services) {}

  private get tracking(): TrackingService {
    const tracking = (this.services as Services & { tracking?: TrackingService }).tracking;
    if (!tracking)
      throw new TandemError("INTERNAL", "run tracking is not available in this process, so lineage cannot be read");
    return tracking;
  }

  async getRun(project: string, runId: string): Promise<LineageRun | null> {
    try {
      return await this.enrich(project, toLineageRun(await this.tracking.getRun(project, runId)));
    } catch (error) {
      if (error instanceof NotFoundError) return null;
      throw error;
    }
  }

  /**
   * Runs made by the pipelines engine carry `tandem.pipeline_run` (its run id); the pipeline run's own
   * record knows the environment digest, the triggering commit and each step's resolved inputs
   * (`dataset://flights@latest (version 3)`). Fill the lineage tags from it where the run lacks them.
   */
  private async enrich(project: string, run: LineageRun): Promise<LineageRun> {
    const pipelines = (this.services as Services & { pipelines?: PipelineService }).pipelines;
    const pipelineRunId = run.tags["tandem.pipeline_run"];
    if (!pipelines || !pipelineRunId) return run;
    let record;
    try {
      record = await pipelines.getRun(project, pipelineRunId);
    } catch (error) {
      if (error instanceof NotFoundError) return run;
      throw error;
    }
    const tags = { ...run.tags };
    const commit = typeof record.trigger.commit === "string" ? record.trigger.commit : null;
    if (commit && !tags[LINEAGE_TAGS.gitCommit]) tags[LINEAGE_TAGS.gitCommit] = commit;
    const step = record.steps.find((s) => s.id === run.tags["tandem.step_run"]);
    const envDigest = step?.environment?.digest ?? record.envDigest;
    if (envDigest && !tags[LINEAGE_TAGS.envDigest]) tags[LINEAGE_TAGS.envDigest] = envDigest;
    if (step && !tags[LINEAGE_TAGS.datasetVersions]) {
      const datasets = Object.values(step.inputs).flatMap((i) => {
        const m = /^dataset:\/\/([^@\s]+)(?:@\S+)?\s+\(version (\d+)\)$/.exec(i.source);
        return m ? [`${m[1]}@${m[2]}`] : [];
      });
      // A built-in step's dataset references (tandem/validate's `dataset:`), as its key resolved them.
      for (const r of step.references) if (r.kind === "dataset" && r.resolved) datasets.push(r.resolved);
      if (datasets.length) tags[LINEAGE_TAGS.datasetVersions] = JSON.stringify([...new Set(datasets)].sort());
    }
    return { ...run, tags };
  }

  async childRuns(project: string, runId: string): Promise<LineageRun[]> {
    const infos = await this.tracking.childRuns(project, runId);
    const out: LineageRun[] = [];
    for (const info of infos) {
      const run = await this.getRun(project, info.runId);
      if (run) out.push(run);
    }
    return out;
  }

  async createRegistrationRun(
    project: string,
    input: { name: string; actor: string; tags: Record<string, string> },
  ): Promise<string> {
    const run = await this.tracking.createRun(input.actor, project, { runName: input.name, tags: input.tags });
    await this.tracking.updateRun(input.actor, project, run.info.runId, { status: "FINISHED" });
    return run.info.runId;
  }
}

/**
 * Policies in force: the `policies:` of the project's latest applied spec (`tandem apply`); a project
 * without a spec uses the ones set through PUT /policies (admins).
 */
export class SpecPolicySource implements PolicySource {
  constructor(
    private readonly services: Services,
    private readonly store: RegistryStore,
  ) {}

  async policies(project: string): Promise<Record<string, PolicySpec>> {
    const pipelines = (this.services as Services & { pipelines?: PipelineService }).pipelines;
    if (pipelines) {
      try {
        const spec = pipelines.parsedSpec(await pipelines.specVersion(project));
        return (spec.policies ?? {}) as Record<string, PolicySpec>;
      } catch (error) {
        if (!(error instanceof NotFoundError)) throw error;
      }
    }
    return this.store.getPolicies(project);
  }
}

export const wireRegistry: Wiring = ({ sql, services }) => {
  const store = new SqlRegistryStore(sql);
  services.registry = new RegistryService({
    metadata: services.metadata,
    audit: services.audit,
    store,
    artifacts: services.artifacts,
    lineage: new TrackingLineageSource(services),
    policies: new SpecPolicySource(services, store),
  });
};
