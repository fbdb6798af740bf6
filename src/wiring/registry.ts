/**
 * The registry area: its SQL store, and its view of runs (lineage) through the Tracking service —
 * looked up lazily, so the order of AREA_WIRINGS does not matter.
 */
import type { ArtifactStore } from "../core/artifacts/ports.js";
import { NotFoundError, TandemError } from "../core/errors.js";
import type { PolicySpec } from "../core/registry/policy.js";
import type { LineageRun, LineageSource, PolicySource, RegistryStore } from "../core/registry/ports.js";
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
      return toLineageRun(await this.tracking.getRun(project, runId));
    } catch (error) {
      if (error instanceof NotFoundError) return null;
      throw error;
    }
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
