/**
 * Reads the records maturity is graded from, across areas (pipelines, tracking, registry, serving,
 * alerts), in one place: the grader sees plain facts, never rows.
 */
import { sql } from "kysely";
import type {
  DecisionFacts,
  DeploymentFacts,
  EndpointFacts,
  MaturityFacts,
  RunFacts,
  SpecFacts,
  VersionFacts,
} from "../../core/portal/maturity-model.js";
import { specFactsOf } from "../../core/portal/maturity-spec.js";
import type { MaturityFactsSource } from "../../core/portal/ports.js";
import { chunks, ID_CHUNK } from "./chunks.js";
import type { SqlMetadataStore } from "./sql-metadata-store.js";

/** Recent runs graded (newest first): enough for a year of nightly training with room to spare. */
const RUN_LIMIT = 1000;

const parse = <T>(text: string | null, fallback: T): T => {
  if (text === null) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
};

export class SqlMaturityFacts implements MaturityFactsSource {
  constructor(private readonly store: SqlMetadataStore) {}

  async collect(project: string): Promise<MaturityFacts> {
    const specs = new Map<number, SpecFacts | null>();
    const specAt = async (version: number): Promise<SpecFacts | null> => {
      if (!specs.has(version)) {
        const row = await this.store.db
          .selectFrom("pipeline_specs")
          .select(["source", "file"])
          .where("project", "=", project)
          .where("version", "=", version)
          .executeTakeFirst();
        specs.set(version, row ? specFactsOf(version, row.source, row.file) : null);
      }
      return specs.get(version) ?? null;
    };
    const latest = await this.store.db
      .selectFrom("pipeline_specs")
      .select(sql<number | null>`max(version)`.as("v"))
      .where("project", "=", project)
      // A commit run's own tandem.yaml is stored too (with its commit); only applied specs configure triggers.
      .where("commit_sha", "is", null)
      .executeTakeFirst();
    const spec = latest?.v == null ? null : await specAt(Number(latest.v));
    const runs = await this.runs(project, specAt);
    return {
      project,
      spec,
      runs,
      versions: await this.versions(project),
      decisions: await this.decisions(project),
      deployments: await this.deployments(project),
      endpoints: await this.endpoints(project),
      alerts: (
        await this.store.db
          .selectFrom("alerts")
          .select(["id", "name", "starts_at"])
          .where("project", "=", project)
          .orderBy("starts_at", "desc")
          .limit(RUN_LIMIT)
          .execute()
      ).map((a) => ({ id: a.id, name: a.name, startsAt: Number(a.starts_at) })),
    };
  }

  private async runs(project: string, specAt: (v: number) => Promise<SpecFacts | null>): Promise<RunFacts[]> {
    const rows = await this.store.db
      .selectFrom("pipeline_runs")
      .select(["id", "pipeline", "spec_version", "status", "trigger", "commit_sha", "created_at"])
      .where("project", "=", project)
      .orderBy("created_at", "desc")
      .limit(RUN_LIMIT)
      .execute();
    const steps = new Map<string, Array<{ name: string; status: string }>>();
    for (const ids of chunks(
      rows.map((r) => r.id),
      ID_CHUNK,
    )) {
      const stepRows = await this.store.db
        .selectFrom("pipeline_step_runs")
        .select(["run_id", "step", "status"])
        .where("run_id", "in", ids)
        .execute();
      for (const s of stepRows) {
        const list = steps.get(s.run_id) ?? [];
        list.push({ name: s.step, status: s.status });
        steps.set(s.run_id, list);
      }
    }
    const out: RunFacts[] = [];
    for (const r of rows) {
      const trigger = parse<{ kind?: string; name?: string }>(r.trigger, {});
      const spec = await specAt(r.spec_version);
      out.push({
        id: r.id,
        pipeline: r.pipeline,
        status: r.status,
        trigger: { kind: trigger.kind ?? "manual", name: trigger.name ?? null },
        commit: r.commit_sha ?? null,
        createdAt: Number(r.created_at),
        spec: spec?.pipelines.find((p) => p.name === r.pipeline) ?? null,
        steps: steps.get(r.id) ?? [],
      });
    }
    return out;
  }

  private async versions(project: string): Promise<VersionFacts[]> {
    const rows = await this.store.db
      .selectFrom("registry_versions")
      .select(["model_name", "version", "source_run_id", "lineage", "created_at"])
      .where("project", "=", project)
      .orderBy("created_at", "desc")
      .limit(RUN_LIMIT)
      .execute();
    const out: VersionFacts[] = [];
    for (const v of rows) {
      const lineage = parse<{
        pipelineRunId?: string | null;
        datasetVersions?: string[];
        gitCommit?: string | null;
        envDigest?: string | null;
      }>(v.lineage, {});
      const pipelineRunId = await this.pipelineRunOf(project, lineage.pipelineRunId ?? null);
      const runIds = await this.trackingRunsOf(v.source_run_id, pipelineRunId);
      out.push({
        model: v.model_name,
        version: Number(v.version),
        sourceRunId: v.source_run_id ?? null,
        pipelineRunId,
        datasetVersions: lineage.datasetVersions ?? [],
        gitCommit: lineage.gitCommit ?? null,
        envDigest: lineage.envDigest ?? null,
        hasParams: await this.anyRow("tracking_params", runIds),
        hasMetrics: await this.anyRow("tracking_latest_metrics", runIds),
        createdAt: Number(v.created_at),
      });
    }
    return out;
  }

  /**
   * The pipeline run behind a version's lineage. Lineage names the tracking run that parents the
   * steps' runs (a Tandem pipeline run's own tracking run, or an MLflow parent run), not the pipeline
   * run's id: the quickstart's versions were never matched to the runs that made them.
   */
  private async pipelineRunOf(project: string, lineageRunId: string | null): Promise<string | null> {
    if (!lineageRunId) return null;
    const row = await this.store.db
      .selectFrom("pipeline_runs")
      .select("id")
      .where("project", "=", project)
      .where((eb) => eb.or([eb("tracking_run_id", "=", lineageRunId), eb("id", "=", lineageRunId)]))
      .executeTakeFirst();
    return row?.id ?? null;
  }

  /** The source run and every tracking run of the pipeline run that produced it (params sit on the trainer). */
  private async trackingRunsOf(sourceRunId: string | null, pipelineRunId: string | null): Promise<string[]> {
    const ids = sourceRunId ? [sourceRunId] : [];
    if (pipelineRunId) {
      const steps = await this.store.db
        .selectFrom("pipeline_step_runs")
        .select("tracking_run_id")
        .where("run_id", "=", pipelineRunId)
        .execute();
      for (const s of steps) if (s.tracking_run_id) ids.push(s.tracking_run_id);
    }
    return ids;
  }

  private async anyRow(table: "tracking_params" | "tracking_latest_metrics", runIds: string[]): Promise<boolean> {
    if (runIds.length === 0) return false;
    const row = await this.store.db
      .selectFrom(table)
      .select("run_id")
      .where("run_id", "in", runIds.slice(0, ID_CHUNK))
      .limit(1)
      .executeTakeFirst();
    return row !== undefined;
  }

  private async decisions(project: string): Promise<DecisionFacts[]> {
    const rows = await this.store.db
      .selectFrom("registry_decisions")
      .select(["id", "model_name", "version", "target_kind", "target_name", "verdict", "checks", "action", "at"])
      .where("project", "=", project)
      .orderBy("at", "desc")
      .limit(RUN_LIMIT)
      .execute();
    return rows.map((d) => ({
      id: d.id,
      model: d.model_name,
      version: Number(d.version),
      targetKind: d.target_kind,
      targetName: d.target_name,
      verdict: d.verdict,
      action: d.action ?? "promote",
      checks: parse<Array<{ kind: string; outcome: string; policy: string; waiver?: Array<{ outcome: string }> }>>(
        d.checks,
        [],
      ).map((c) => ({
        kind: c.kind,
        outcome: c.outcome,
        policy: c.policy,
        // An approval whose `unless` checks all passed needed no human.
        waived: (c.waiver?.length ?? 0) > 0 && c.waiver!.every((w) => w.outcome === "pass") && c.outcome === "pass",
      })),
      at: Number(d.at),
    }));
  }

  private async deployments(project: string): Promise<DeploymentFacts[]> {
    const rows = await this.store.db
      .selectFrom("deployments")
      .select(["id", "kind", "target", "model", "version", "reason", "actor", "outcome", "started_at", "details"])
      .where("project", "=", project)
      .orderBy("started_at", "desc")
      .limit(RUN_LIMIT)
      .execute();
    return rows.map((x) => ({
      id: x.id,
      kind: x.kind,
      target: x.target,
      model: x.model ?? null,
      version: x.version === null ? null : Number(x.version),
      reason: x.reason,
      actor: x.actor,
      outcome: x.outcome,
      startedAt: Number(x.started_at),
      details: parse<Record<string, unknown>>(x.details, {}),
    }));
  }

  private async endpoints(project: string): Promise<EndpointFacts[]> {
    const rows = await this.store.db
      .selectFrom("serving_endpoints")
      .select(["name", "canary", "shadow_selector"])
      .where("project", "=", project)
      .execute();
    const out: EndpointFacts[] = [];
    for (const e of rows) {
      const logged = await this.store.db
        .selectFrom("prediction_batches")
        .select(sql<number | string | null>`sum(rows)`.as("n"))
        .where("project", "=", project)
        .where("endpoint", "=", e.name)
        .executeTakeFirst();
      const measured = await this.store.db
        .selectFrom("prediction_stats")
        .select(sql<number | null>`sum(requests)`.as("n"))
        .where("project", "=", project)
        .where("endpoint", "=", e.name)
        .where("slot", "in", ["canary", "shadow"])
        .executeTakeFirst();
      out.push({
        name: e.name,
        hasCanary: e.canary !== null,
        hasShadow: e.shadow_selector !== null,
        predictions: Number(logged?.n ?? 0),
        preProductionRequests: Number(measured?.n ?? 0),
      });
    }
    return out;
  }
}
