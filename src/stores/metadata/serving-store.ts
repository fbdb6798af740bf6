/**
 * Serving's tables (endpoints, deployments, events): rows and their mappers stay here; the domain sees
 * camelCase models. The prediction log's tables are prediction-log-store.ts's.
 */
import { sql } from "kysely";
import type { Tx } from "../../core/ports.js";
import type {
  CanarySpec,
  DeploymentOutcome,
  DeploymentRecord,
  Endpoint,
  ModelSelector,
  ServingEvent,
  SloSpec,
} from "../../core/serving/model.js";
import { DEFAULT_SLO } from "../../core/serving/model.js";
import type { DeploymentFilter, ServingStore } from "../../core/serving/ports.js";
import { dbOf, type SqlMetadataStore } from "./sql-metadata-store.js";

export interface EndpointRow {
  project: string;
  name: string;
  model: string;
  primary_selector: string;
  canary: string | null;
  shadow_selector: string | null;
  slo: string;
  policy: string | null;
  primary_version: number | null;
  canary_version: number | null;
  shadow_version: number | null;
  rollout: string | null;
  canary_state: string | null;
  blocked_canary_version: number | null;
  status: string;
  revision: number;
  created_at: number;
  updated_at: number;
  created_by: string;
  /** An LLM endpoint's upstream configuration (JSON; added by migration 0800). */
  llm: string | null;
}

export interface DeploymentRow {
  id: string;
  project: string;
  kind: string;
  target: string;
  model: string | null;
  version: number | null;
  previous_version: number | null;
  commit_sha: string | null;
  /** When the commit was made, ms (added by migration 0501). */
  commit_at: number | null;
  environment: string | null;
  reason: string;
  actor: string;
  outcome: string;
  started_at: number;
  finished_at: number | null;
  details: string;
}

export interface ServingEventRow {
  id: string;
  project: string;
  endpoint: string;
  at: number;
  kind: string;
  severity: string;
  message: string;
  deployment_id: string | null;
  details: string;
}

declare module "./schema.js" {
  interface Database {
    serving_endpoints: EndpointRow;
    serving_counters: { name: string; value: number };
    deployments: DeploymentRow;
    serving_events: ServingEventRow;
  }
}

const json = (value: unknown): string => JSON.stringify(value);

function withoutPercent(s: ModelSelector & { percent?: number }): ModelSelector {
  return s.kind === "alias" ? { kind: "alias", alias: s.alias } : { kind: "version", version: s.version };
}

function toEndpoint(row: EndpointRow): Endpoint {
  return {
    project: row.project,
    name: row.name,
    model: row.model,
    primary: JSON.parse(row.primary_selector) as ModelSelector,
    canary: row.canary ? (JSON.parse(row.canary) as CanarySpec) : null,
    shadow: row.shadow_selector
      ? withoutPercent(JSON.parse(row.shadow_selector) as ModelSelector & { percent?: number })
      : null,
    shadowPercent: row.shadow_selector
      ? ((JSON.parse(row.shadow_selector) as { percent?: number }).percent ?? 100)
      : 100,
    slo: { ...DEFAULT_SLO, ...(JSON.parse(row.slo) as Partial<SloSpec>) },
    policy: row.policy,
    primaryVersion: row.primary_version,
    canaryVersion: row.canary_version,
    shadowVersion: row.shadow_version,
    rollout: row.rollout ? (JSON.parse(row.rollout) as Endpoint["rollout"]) : null,
    canaryState: row.canary_state ? (JSON.parse(row.canary_state) as Endpoint["canaryState"]) : null,
    blockedCanaryVersion: row.blocked_canary_version,
    status: row.status as Endpoint["status"],
    revision: row.revision,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    createdBy: row.created_by,
    llm: row.llm ? (JSON.parse(row.llm) as Endpoint["llm"]) : null,
  };
}

function fromEndpoint(e: Endpoint): EndpointRow {
  return {
    project: e.project,
    name: e.name,
    model: e.model,
    primary_selector: json(e.primary),
    canary: e.canary ? json(e.canary) : null,
    // The mirrored share rides along in the selector's JSON (one column, no migration).
    shadow_selector: e.shadow ? json({ ...e.shadow, percent: e.shadowPercent }) : null,
    slo: json(e.slo),
    policy: e.policy,
    primary_version: e.primaryVersion,
    canary_version: e.canaryVersion,
    shadow_version: e.shadowVersion,
    rollout: e.rollout ? json(e.rollout) : null,
    canary_state: e.canaryState ? json(e.canaryState) : null,
    blocked_canary_version: e.blockedCanaryVersion,
    status: e.status,
    revision: e.revision,
    created_at: e.createdAt,
    updated_at: e.updatedAt,
    created_by: e.createdBy,
    llm: e.llm ? json(e.llm) : null,
  };
}

function toDeployment(row: DeploymentRow): DeploymentRecord {
  return {
    id: row.id,
    project: row.project,
    kind: row.kind as DeploymentRecord["kind"],
    target: row.target,
    model: row.model,
    version: row.version,
    previousVersion: row.previous_version,
    commit: row.commit_sha,
    commitAt: row.commit_at === null ? null : Number(row.commit_at),
    environment: row.environment,
    reason: row.reason,
    actor: row.actor,
    outcome: row.outcome as DeploymentOutcome,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    details: JSON.parse(row.details) as Record<string, unknown>,
  };
}

function toEvent(row: ServingEventRow): ServingEvent {
  return {
    id: row.id,
    project: row.project,
    endpoint: row.endpoint,
    at: row.at,
    kind: row.kind as ServingEvent["kind"],
    severity: row.severity as ServingEvent["severity"],
    message: row.message,
    deploymentId: row.deployment_id,
    details: JSON.parse(row.details) as Record<string, unknown>,
  };
}

export class SqlServingStore implements ServingStore {
  constructor(private readonly store: SqlMetadataStore) {}

  async getEndpoint(project: string, name: string, tx?: Tx): Promise<Endpoint | null> {
    const row = await dbOf(this.store, tx)
      .selectFrom("serving_endpoints")
      .selectAll()
      .where("project", "=", project)
      .where("name", "=", name)
      .executeTakeFirst();
    return row ? toEndpoint(row) : null;
  }

  async listEndpoints(project: string | null, tx?: Tx): Promise<Endpoint[]> {
    let q = dbOf(this.store, tx).selectFrom("serving_endpoints").selectAll();
    if (project !== null) q = q.where("project", "=", project);
    return (await q.orderBy("project").orderBy("name").execute()).map(toEndpoint);
  }

  async insertEndpoint(endpoint: Endpoint, tx: Tx): Promise<void> {
    await dbOf(this.store, tx).insertInto("serving_endpoints").values(fromEndpoint(endpoint)).execute();
  }

  async updateEndpoint(endpoint: Endpoint, expectedRevision: number, tx: Tx): Promise<boolean> {
    const { project, name, ...rest } = fromEndpoint(endpoint);
    const result = await dbOf(this.store, tx)
      .updateTable("serving_endpoints")
      .set(rest)
      .where("project", "=", project)
      .where("name", "=", name)
      .where("revision", "=", expectedRevision)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async deleteEndpoint(project: string, name: string, tx: Tx): Promise<void> {
    await dbOf(this.store, tx)
      .deleteFrom("serving_endpoints")
      .where("project", "=", project)
      .where("name", "=", name)
      .execute();
  }

  async bumpChangeCounter(tx: Tx): Promise<void> {
    await dbOf(this.store, tx)
      .updateTable("serving_counters")
      .set({ value: sql<number>`value + 1` })
      .where("name", "=", "endpoints")
      .execute();
  }

  async changeCounter(): Promise<number> {
    const row = await this.store.db
      .selectFrom("serving_counters")
      .select("value")
      .where("name", "=", "endpoints")
      .executeTakeFirst();
    return Number(row?.value ?? 0);
  }

  async insertDeployment(r: DeploymentRecord, tx: Tx): Promise<void> {
    await dbOf(this.store, tx)
      .insertInto("deployments")
      .values({
        id: r.id,
        project: r.project,
        kind: r.kind,
        target: r.target,
        model: r.model,
        version: r.version,
        previous_version: r.previousVersion,
        commit_sha: r.commit,
        commit_at: r.commitAt,
        environment: r.environment,
        reason: r.reason,
        actor: r.actor,
        outcome: r.outcome,
        started_at: r.startedAt,
        finished_at: r.finishedAt,
        details: json(r.details),
      })
      .execute();
  }

  async finishDeployment(
    id: string,
    outcome: DeploymentOutcome,
    at: number,
    details: Record<string, unknown>,
    tx: Tx,
  ): Promise<void> {
    const db = dbOf(this.store, tx);
    const row = await db.selectFrom("deployments").select("details").where("id", "=", id).executeTakeFirst();
    if (!row) return;
    const merged = { ...(JSON.parse(row.details) as Record<string, unknown>), ...details };
    await db
      .updateTable("deployments")
      .set({ outcome, finished_at: at, details: json(merged) })
      .where("id", "=", id)
      .execute();
  }

  async getDeployment(id: string, tx?: Tx): Promise<DeploymentRecord | null> {
    const row = await dbOf(this.store, tx)
      .selectFrom("deployments")
      .selectAll()
      .where("id", "=", id)
      .executeTakeFirst();
    return row ? toDeployment(row) : null;
  }

  async listDeployments(project: string, filter: DeploymentFilter): Promise<DeploymentRecord[]> {
    let q = this.store.db.selectFrom("deployments").selectAll().where("project", "=", project);
    if (filter.target) q = q.where("target", "=", filter.target);
    if (filter.kind) q = q.where("kind", "=", filter.kind);
    const rows = await q
      .orderBy("started_at", "desc")
      .orderBy("id")
      .limit(filter.limit ?? 100)
      .execute();
    return rows.map(toDeployment);
  }

  async insertEvent(e: ServingEvent, tx: Tx): Promise<void> {
    await dbOf(this.store, tx)
      .insertInto("serving_events")
      .values({
        id: e.id,
        project: e.project,
        endpoint: e.endpoint,
        at: e.at,
        kind: e.kind,
        severity: e.severity,
        message: e.message,
        deployment_id: e.deploymentId,
        details: json(e.details),
      })
      .execute();
  }

  async listEvents(project: string, endpoint: string | null, limit: number): Promise<ServingEvent[]> {
    let q = this.store.db.selectFrom("serving_events").selectAll().where("project", "=", project);
    if (endpoint) q = q.where("endpoint", "=", endpoint);
    return (await q.orderBy("at", "desc").limit(limit).execute()).map(toEvent);
  }
}
