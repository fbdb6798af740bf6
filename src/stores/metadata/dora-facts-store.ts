/**
 * Reads the deployments DORA is computed from, with what a model deployment's lineage adds: the
 * time of its training run's commit (lead time) and what started that run (an alert: rework).
 */
import type { DoraDeploymentFacts, DoraFacts } from "../../core/portal/dora-model.js";
import type { DoraFactsSource } from "../../core/portal/ports.js";
import type { SqlMetadataStore } from "./sql-metadata-store.js";

/** Deployments read per period at most: years of several deployments a day. */
const DEPLOYMENT_LIMIT = 20_000;

const parse = <T>(text: string | null, fallback: T): T => {
  if (text === null) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
};

interface RunOrigin {
  trigger: string | null;
  committedAt: number | null;
}

export class SqlDoraFacts implements DoraFactsSource {
  constructor(private readonly store: SqlMetadataStore) {}

  async collect(project: string, since: number, until: number): Promise<DoraFacts> {
    const rows = await this.store.db
      .selectFrom("deployments")
      .select([
        "id",
        "kind",
        "target",
        "model",
        "version",
        "previous_version",
        "reason",
        "outcome",
        "environment",
        "started_at",
        "finished_at",
        "commit_sha",
        "commit_at",
      ])
      .where("project", "=", project)
      .where("started_at", ">=", since)
      .where("started_at", "<=", until)
      .orderBy("started_at", "desc")
      .limit(DEPLOYMENT_LIMIT)
      .execute();
    const origins = new Map<string, RunOrigin | null>();
    const deployments: DoraDeploymentFacts[] = [];
    for (const r of rows) {
      const version = r.version === null ? null : Number(r.version);
      let origin: RunOrigin | null = null;
      if (r.kind === "model" && r.model !== null && version !== null) {
        const key = `${r.model}\u0000${version}`;
        if (!origins.has(key)) origins.set(key, await this.origin(project, r.model, version));
        origin = origins.get(key) ?? null;
      }
      deployments.push({
        id: r.id,
        kind: r.kind === "model" ? "model" : "service",
        target: r.target,
        version,
        previousVersion: r.previous_version === null ? null : Number(r.previous_version),
        reason: r.reason,
        outcome: r.outcome,
        environment: r.environment,
        startedAt: Number(r.started_at),
        finishedAt: r.finished_at === null ? null : Number(r.finished_at),
        commit: r.commit_sha,
        commitAt: r.commit_at !== null ? Number(r.commit_at) : (origin?.committedAt ?? null),
        producedBy: origin?.trigger ?? null,
      });
    }
    return { project, deployments };
  }

  /** The pipeline run that produced a model version: what started it and when its commit was made. */
  private async origin(project: string, model: string, version: number): Promise<RunOrigin | null> {
    const v = await this.store.db
      .selectFrom("registry_versions")
      .select("lineage")
      .where("project", "=", project)
      .where("model_name", "=", model)
      .where("version", "=", version)
      .executeTakeFirst();
    const runId = parse<{ pipelineRunId?: string | null }>(v?.lineage ?? null, {}).pipelineRunId;
    if (!runId) return null;
    const run = await this.store.db
      .selectFrom("pipeline_runs")
      .select(["trigger", "code"])
      .where("id", "=", runId)
      .executeTakeFirst();
    if (!run) return null;
    const committedAt = parse<{ committedAt?: number | null }>(run.code, {}).committedAt;
    return {
      trigger: parse<{ kind?: string }>(run.trigger, {}).kind ?? null,
      committedAt: typeof committedAt === "number" ? committedAt : null,
    };
  }
}
