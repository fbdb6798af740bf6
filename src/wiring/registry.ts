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
  type PersonBehind,
  type PipelineFacts,
  type ServedSlot,
  type ServingFacts,
  type StepOfRun,
} from "../core/registry/ports.js";
import type { CanaryStats } from "../core/registry/policy-approvals.js";
import type { EndpointSlot } from "../core/registry/policy-scope.js";
import { environmentParts } from "../core/pipelines/engine/environment.js";
import type { PipelineService } from "../core/pipelines/service.js";
import type { SpecPolicyGate } from "../core/pipelines/spec-service.js";
import type { TandemSpec } from "../core/pipelines/spec/schema.js";
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
    // The code the run ran (any run: manual ones record HEAD), else what the trigger said.
    const commit = record.code?.commit ?? (typeof record.trigger.commit === "string" ? record.trigger.commit : null);
    if (commit && !tags[LINEAGE_TAGS.gitCommit]) {
      tags[LINEAGE_TAGS.gitCommit] = commit;
      if (record.code?.dirty) tags[LINEAGE_TAGS.gitDirty] = JSON.stringify(record.code.changed);
    }
    const step = record.steps.find((s) => s.id === run.tags["tandem.step_run"]);
    const envDigest = step?.environment?.digest ?? record.envDigest;
    if (envDigest && !tags[LINEAGE_TAGS.envDigest]) tags[LINEAGE_TAGS.envDigest] = envDigest;
    if (step?.environment && !tags[LINEAGE_TAGS.envParts])
      tags[LINEAGE_TAGS.envParts] = JSON.stringify(environmentParts(step.environment, step.executor));
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

/** The pipelines' records as the registry's PipelineFacts (looked up lazily). */
export class PipelineRunFacts implements PipelineFacts {
  constructor(private readonly services: Services) {}

  private get pipelines(): PipelineService | undefined {
    return (this.services as Services & { pipelines?: PipelineService }).pipelines;
  }

  /** Verified against the pipelines' own step record: a run's tags alone can be set by anyone. */
  async stepOfRun(project: string, trackingRunId: string): Promise<StepOfRun | null> {
    const pipelines = this.pipelines;
    const tracking = (this.services as Services & { tracking?: TrackingService }).tracking;
    if (!pipelines || !tracking) return null;
    let run: Run;
    try {
      run = await tracking.getRun(project, trackingRunId);
    } catch (error) {
      if (error instanceof NotFoundError) return null;
      throw error;
    }
    const pipelineRunId = run.tags["tandem.pipeline_run"];
    const stepRunId = run.tags["tandem.step_run"];
    if (!pipelineRunId || !stepRunId) return null;
    try {
      const record = await pipelines.getRun(project, pipelineRunId);
      const step = record.steps.find((s) => s.id === stepRunId && s.trackingRunId === trackingRunId);
      if (!step) return null;
      // From the spec the run ran, not the step's recorded command: a script may begin with "uses: ".
      const spec = await pipelines.specs.version(project, record.specVersion);
      const uses = pipelines.specs.pipelineOf(spec, record.pipeline).steps[step.step]?.uses ?? null;
      return { pipelineRunId, step: step.name, stepRunId, metrics: step.metrics, uses };
    } catch (error) {
      if (error instanceof NotFoundError) return null;
      throw error;
    }
  }

  async personBehind(project: string, pipelineRunId: string): Promise<PersonBehind | null> {
    const pipelines = this.pipelines;
    if (!pipelines) return null;
    try {
      return await pipelines.personBehind(project, pipelineRunId);
    } catch (error) {
      if (error instanceof NotFoundError) return null;
      throw error;
    }
  }
}

/** Serving's endpoints and prediction log as the registry's ServingFacts (looked up lazily). */
export class LazyServingFacts implements ServingFacts {
  constructor(private readonly services: Services) {}

  private get facts(): ServingFacts | null {
    return (this.services as Services & { serving?: { facts?: ServingFacts } }).serving?.facts ?? null;
  }

  async followers(project: string, model: string, alias: string): Promise<EndpointSlot[]> {
    return (await this.facts?.followers(project, model, alias)) ?? [];
  }

  async servedBy(project: string, model: string): Promise<ServedSlot[]> {
    return (await this.facts?.servedBy(project, model)) ?? [];
  }

  async canaryStats(project: string, endpoint: string, model: string, version: number): Promise<CanaryStats> {
    const facts = this.facts;
    if (!facts)
      return {
        served: false,
        failed: null,
        canary: { requests: 0, errors: 0, p95Ms: null, latencyHist: [] },
        primary: null,
      };
    return facts.canaryStats(project, endpoint, model, version);
  }
}

/** `tandem apply`'s `policies:` go through the registry: only an admin changes them. */
function specPolicyGate(registry: RegistryService): SpecPolicyGate {
  const policiesOf = (spec: TandemSpec) => (spec.policies ?? {}) as Record<string, PolicySpec>;
  return {
    check: async (who, project, spec) => void (await registry.assertMayChangePolicies(who, project, policiesOf(spec))),
    adopt: async (who, project, spec) =>
      void (await registry.changePolicies({ ...who, actor: who.user }, project, policiesOf(spec))),
  };
}

export const wireRegistry: Wiring = ({ sql, services }) => {
  const store = new SqlRegistryStore(sql);
  services.registry = new RegistryService({
    metadata: services.metadata,
    audit: services.audit,
    store,
    artifacts: services.artifacts,
    lineage: new TrackingLineageSource(services),
    serving: new LazyServingFacts(services),
    pipelines: new PipelineRunFacts(services),
    // Looked up at decision time: access is wired by its own area.
    people: { roleOf: (userName, project) => services.access.roleOfUser(userName, project) },
  });
  const pipelines = (services as Partial<Services>).pipelines;
  if (pipelines) pipelines.specs.policyGate = specPolicyGate(services.registry);
};
