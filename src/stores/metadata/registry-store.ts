/** The registry's tables (see registry-rows.ts) behind the RegistryStore port; one code path for SQLite and Postgres. */
import type { Tx } from "../../core/ports.js";
import type {
  Alias,
  AliasEvent,
  Approval,
  Decision,
  Evaluation,
  ModelVersion,
  PromotionRequest,
  RegisteredModel,
  RequestStatus,
} from "../../core/registry/model.js";
import type { PolicySpec } from "../../core/registry/policy.js";
import type { ModelQuery, RegistryStore, VersionQuery } from "../../core/registry/ports.js";
import {
  fromModel,
  fromVersion,
  toAlias,
  toAliasEvent,
  toApproval,
  toDecision,
  toEvaluation,
  toModel,
  toPolicies,
  toRequest,
  toVersion,
} from "./registry-rows.js";
import { dbOf, type SqlMetadataStore } from "./sql-metadata-store.js";

/** Tables keyed by (project, model_name) that follow a model when it is renamed or deleted. */
const MODEL_TABLES = [
  "registry_versions",
  "registry_version_datasets",
  "registry_aliases",
  "registry_alias_events",
  "registry_evaluations",
  "registry_approvals",
  "registry_requests",
  "registry_decisions",
] as const;

export class SqlRegistryStore implements RegistryStore {
  constructor(private readonly store: SqlMetadataStore) {}

  private db(tx?: Tx) {
    return dbOf(this.store, tx);
  }

  async getModel(project: string, name: string, tx?: Tx): Promise<RegisteredModel | null> {
    const row = await this.db(tx)
      .selectFrom("registry_models")
      .selectAll()
      .where("project", "=", project)
      .where("name", "=", name)
      .executeTakeFirst();
    return row ? toModel(row) : null;
  }

  async insertModel(m: RegisteredModel, tx?: Tx): Promise<boolean> {
    // ON CONFLICT DO NOTHING: two first registrations of one model race here; the loser just uses it.
    const result = await this.db(tx)
      .insertInto("registry_models")
      .values(fromModel(m))
      .onConflict((oc) => oc.columns(["project", "name"]).doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  async updateModel(m: RegisteredModel, tx?: Tx): Promise<void> {
    const { description, owner, tags, updated_at } = fromModel(m);
    await this.db(tx)
      .updateTable("registry_models")
      .set({ description, owner, tags, updated_at })
      .where("project", "=", m.project)
      .where("name", "=", m.name)
      .execute();
  }

  async lockModel(project: string, name: string, tx: Tx): Promise<void> {
    // A no-op write takes the row lock on Postgres (SQLite serialises writers already), so two
    // registrations never pick the same version number and two alias moves never interleave.
    await this.db(tx)
      .updateTable("registry_models")
      .set((eb) => ({ updated_at: eb.ref("updated_at") }))
      .where("project", "=", project)
      .where("name", "=", name)
      .execute();
  }

  async renameModel(project: string, from: string, to: string, tx: Tx): Promise<void> {
    const db = this.db(tx);
    // The new name continues after the old one's numbers; the old name keeps its own (an endpoint
    // may still serve `from@N`, which a model made later under that name must not take over).
    const latest = await this.latestVersion(project, from, tx);
    await this.markUsed(project, to, Math.max(await this.lastUsed(project, from, tx), latest?.version ?? 0), tx);
    await db
      .updateTable("registry_models")
      .set({ name: to })
      .where("project", "=", project)
      .where("name", "=", from)
      .execute();
    for (const table of MODEL_TABLES) {
      await db
        .updateTable(table)
        .set({ model_name: to })
        .where("project", "=", project)
        .where("model_name", "=", from)
        .execute();
    }
  }

  async deleteModel(project: string, name: string, tx: Tx): Promise<void> {
    const db = this.db(tx);
    for (const table of MODEL_TABLES)
      await db.deleteFrom(table).where("project", "=", project).where("model_name", "=", name).execute();
    await db.deleteFrom("registry_models").where("project", "=", project).where("name", "=", name).execute();
  }

  async listModels(project: string, q: ModelQuery, tx?: Tx): Promise<{ models: RegisteredModel[]; total: number }> {
    const rows = await this.db(tx)
      .selectFrom("registry_models")
      .selectAll()
      .where("project", "=", project)
      .$if(q.nameLike !== undefined, (b) => b.where("name", "like", q.nameLike!))
      .orderBy(q.orderBy ?? "name", q.descending ? "desc" : "asc")
      .orderBy("name")
      .execute();
    // Tags are JSON text; filtering them in code keeps one path for both dialects (models are few).
    const models = rows.map(toModel).filter((m) => Object.entries(q.tags ?? {}).every(([k, v]) => m.tags[k] === v));
    return { models: models.slice(q.offset, q.offset + q.limit), total: models.length };
  }

  async getVersion(project: string, name: string, version: number, tx?: Tx): Promise<ModelVersion | null> {
    const row = await this.db(tx)
      .selectFrom("registry_versions")
      .selectAll()
      .where("project", "=", project)
      .where("model_name", "=", name)
      .where("version", "=", version)
      .executeTakeFirst();
    return row ? toVersion(row) : null;
  }

  async latestVersion(project: string, name: string, tx?: Tx): Promise<ModelVersion | null> {
    const row = await this.db(tx)
      .selectFrom("registry_versions")
      .selectAll()
      .where("project", "=", project)
      .where("model_name", "=", name)
      .orderBy("version", "desc")
      .limit(1)
      .executeTakeFirst();
    return row ? toVersion(row) : null;
  }

  async nextVersionNumber(project: string, name: string, tx: Tx): Promise<number> {
    const used = await this.lastUsed(project, name, tx);
    const latest = await this.latestVersion(project, name, tx);
    return Math.max(used, latest?.version ?? 0) + 1;
  }

  private async lastUsed(project: string, name: string, tx: Tx): Promise<number> {
    const row = await this.db(tx)
      .selectFrom("registry_version_numbers")
      .select("last_version")
      .where("project", "=", project)
      .where("model_name", "=", name)
      .executeTakeFirst();
    return row ? Number(row.last_version) : 0;
  }

  /** Raises the name's highest used number to `version` (callers hold the model's lock). */
  private async markUsed(project: string, name: string, version: number, tx: Tx): Promise<void> {
    const used = await this.lastUsed(project, name, tx);
    if (version <= used) return;
    await this.db(tx)
      .insertInto("registry_version_numbers")
      .values({ project, model_name: name, last_version: version })
      .onConflict((oc) => oc.columns(["project", "model_name"]).doUpdateSet({ last_version: version }))
      .execute();
  }

  async insertVersion(v: ModelVersion, tx: Tx): Promise<void> {
    const db = this.db(tx);
    await db.insertInto("registry_versions").values(fromVersion(v)).execute();
    await this.markUsed(v.project, v.modelName, v.version, tx);
    const refs = [...new Set(v.lineage.datasetVersions)];
    if (refs.length) {
      await db
        .insertInto("registry_version_datasets")
        .values(
          refs.map((dataset_ref) => ({ project: v.project, dataset_ref, model_name: v.modelName, version: v.version })),
        )
        .execute();
    }
  }

  async updateVersionMeta(v: ModelVersion, tx?: Tx): Promise<void> {
    const row = fromVersion(v);
    await this.db(tx)
      .updateTable("registry_versions")
      .set({ description: row.description, tags: row.tags, stage: row.stage, updated_at: row.updated_at })
      .where("project", "=", v.project)
      .where("model_name", "=", v.modelName)
      .where("version", "=", v.version)
      .execute();
  }

  async deleteVersion(project: string, name: string, version: number, tx: Tx): Promise<void> {
    const db = this.db(tx);
    for (const table of ["registry_versions", "registry_version_datasets"] as const) {
      await db
        .deleteFrom(table)
        .where("project", "=", project)
        .where("model_name", "=", name)
        .where("version", "=", version)
        .execute();
    }
  }

  async listVersions(project: string, q: VersionQuery, tx?: Tx): Promise<ModelVersion[]> {
    const rows = await this.db(tx)
      .selectFrom("registry_versions")
      .selectAll()
      .where("project", "=", project)
      .$if(q.modelName !== undefined, (b) => b.where("model_name", "=", q.modelName!))
      .$if(q.runId !== undefined, (b) => b.where("source_run_id", "=", q.runId!))
      .orderBy("model_name")
      .orderBy("version", "desc")
      .limit(q.limit)
      .offset(q.offset)
      .execute();
    return rows.map(toVersion);
  }

  async versionsByDataset(project: string, datasetRef: string, tx?: Tx): Promise<ModelVersion[]> {
    const rows = await this.db(tx)
      .selectFrom("registry_version_datasets as d")
      .innerJoin("registry_versions as v", (j) =>
        j
          .onRef("v.project", "=", "d.project")
          .onRef("v.model_name", "=", "d.model_name")
          .onRef("v.version", "=", "d.version"),
      )
      .selectAll("v")
      .where("d.project", "=", project)
      .where("d.dataset_ref", "=", datasetRef)
      .orderBy("v.created_at", "desc")
      .execute();
    return rows.map(toVersion);
  }

  async getAlias(project: string, name: string, alias: string, tx?: Tx): Promise<Alias | null> {
    const row = await this.db(tx)
      .selectFrom("registry_aliases")
      .selectAll()
      .where("project", "=", project)
      .where("model_name", "=", name)
      .where("alias", "=", alias)
      .executeTakeFirst();
    return row ? toAlias(row) : null;
  }

  async listAliases(project: string, name: string, tx?: Tx): Promise<Alias[]> {
    const rows = await this.db(tx)
      .selectFrom("registry_aliases")
      .selectAll()
      .where("project", "=", project)
      .where("model_name", "=", name)
      .orderBy("alias")
      .execute();
    return rows.map(toAlias);
  }

  async putAlias(a: Alias, tx: Tx): Promise<void> {
    await this.db(tx)
      .insertInto("registry_aliases")
      .values({
        project: a.project,
        model_name: a.modelName,
        alias: a.alias,
        version: a.version,
        updated_at: a.updatedAt,
        updated_by: a.updatedBy,
      })
      .onConflict((oc) =>
        oc
          .columns(["project", "model_name", "alias"])
          .doUpdateSet({ version: a.version, updated_at: a.updatedAt, updated_by: a.updatedBy }),
      )
      .execute();
  }

  async deleteAlias(project: string, name: string, alias: string, tx: Tx): Promise<void> {
    await this.db(tx)
      .deleteFrom("registry_aliases")
      .where("project", "=", project)
      .where("model_name", "=", name)
      .where("alias", "=", alias)
      .execute();
  }

  async appendAliasEvent(e: Omit<AliasEvent, "seq">, tx: Tx): Promise<void> {
    await this.db(tx)
      .insertInto("registry_alias_events")
      .values({
        project: e.project,
        model_name: e.modelName,
        alias: e.alias,
        action: e.action,
        from_version: e.fromVersion,
        to_version: e.toVersion,
        actor: e.actor,
        at: e.at,
        decision_id: e.decisionId,
      })
      .execute();
  }

  async aliasHistory(project: string, name: string, alias: string | null, tx?: Tx): Promise<AliasEvent[]> {
    const rows = await this.db(tx)
      .selectFrom("registry_alias_events")
      .selectAll()
      .where("project", "=", project)
      .where("model_name", "=", name)
      .$if(alias !== null, (b) => b.where("alias", "=", alias!))
      .orderBy("seq")
      .execute();
    return rows.map(toAliasEvent);
  }

  async insertEvaluation(e: Evaluation, tx: Tx): Promise<void> {
    await this.db(tx)
      .insertInto("registry_evaluations")
      .values({
        id: e.id,
        project: e.project,
        model_name: e.modelName,
        version: e.version,
        dataset: e.dataset,
        metrics: JSON.stringify(e.metrics),
        fairness: JSON.stringify(e.fairness),
        curves: e.curves === null ? null : JSON.stringify(e.curves),
        run_id: e.runId,
        created_by: e.createdBy,
        created_at: e.createdAt,
        source: e.source,
        pipeline_run_id: e.pipelineRunId,
        step: e.step,
        step_run_id: e.stepRunId,
      })
      .execute();
  }

  async listEvaluations(project: string, name: string, version: number, tx?: Tx): Promise<Evaluation[]> {
    const rows = await this.db(tx)
      .selectFrom("registry_evaluations")
      .selectAll()
      .where("project", "=", project)
      .where("model_name", "=", name)
      .where("version", "=", version)
      .orderBy("created_at", "desc")
      .orderBy("id", "desc")
      .execute();
    return rows.map(toEvaluation);
  }

  async insertApproval(a: Approval, tx: Tx): Promise<void> {
    await this.db(tx)
      .insertInto("registry_approvals")
      .values({
        id: a.id,
        project: a.project,
        model_name: a.modelName,
        version: a.version,
        user_name: a.userName,
        role: a.role,
        decision: a.decision,
        comment: a.comment,
        at: a.at,
      })
      .execute();
  }

  async listApprovals(project: string, name: string, version: number, tx?: Tx): Promise<Approval[]> {
    const rows = await this.db(tx)
      .selectFrom("registry_approvals")
      .selectAll()
      .where("project", "=", project)
      .where("model_name", "=", name)
      .where("version", "=", version)
      .orderBy("at")
      .execute();
    return rows.map(toApproval);
  }

  async insertRequest(r: PromotionRequest, tx: Tx): Promise<void> {
    await this.db(tx)
      .insertInto("registry_requests")
      .values({
        id: r.id,
        project: r.project,
        model_name: r.modelName,
        version: r.version,
        target_kind: r.target.kind,
        target_name: r.target.name,
        policy: r.policy,
        scope: r.scope === null ? null : JSON.stringify(r.scope),
        status: r.status,
        requested_by: r.requestedBy,
        created_at: r.createdAt,
        decided_at: r.decidedAt,
        decision_id: r.decisionId,
      })
      .execute();
  }

  async updateRequest(
    id: string,
    patch: { status: RequestStatus; decidedAt: number | null; decisionId: string | null },
    tx: Tx,
  ): Promise<void> {
    await this.db(tx)
      .updateTable("registry_requests")
      .set({ status: patch.status, decided_at: patch.decidedAt, decision_id: patch.decisionId })
      .where("id", "=", id)
      .execute();
  }

  async getRequest(id: string, tx?: Tx): Promise<PromotionRequest | null> {
    const row = await this.db(tx).selectFrom("registry_requests").selectAll().where("id", "=", id).executeTakeFirst();
    return row ? toRequest(row) : null;
  }

  async listRequests(
    project: string,
    f: { modelName?: string; version?: number; status?: RequestStatus },
    tx?: Tx,
  ): Promise<PromotionRequest[]> {
    const rows = await this.db(tx)
      .selectFrom("registry_requests")
      .selectAll()
      .where("project", "=", project)
      .$if(f.modelName !== undefined, (b) => b.where("model_name", "=", f.modelName!))
      .$if(f.version !== undefined, (b) => b.where("version", "=", f.version!))
      .$if(f.status !== undefined, (b) => b.where("status", "=", f.status!))
      .orderBy("created_at")
      .orderBy("id")
      .execute();
    return rows.map(toRequest);
  }

  async insertDecision(d: Decision, tx: Tx): Promise<void> {
    await this.db(tx)
      .insertInto("registry_decisions")
      .values({
        id: d.id,
        project: d.project,
        model_name: d.modelName,
        version: d.version,
        request_id: d.requestId,
        target_kind: d.target.kind,
        target_name: d.target.name,
        verdict: d.verdict,
        checks: JSON.stringify(d.checks),
        evaluated_by: d.evaluatedBy,
        at: d.at,
        action: d.action,
        scope: d.scope,
        governing: JSON.stringify(d.governing),
      })
      .execute();
  }

  async getDecision(id: string, tx?: Tx): Promise<Decision | null> {
    const row = await this.db(tx).selectFrom("registry_decisions").selectAll().where("id", "=", id).executeTakeFirst();
    return row ? toDecision(row) : null;
  }

  async listDecisions(project: string, name: string, version: number, tx?: Tx): Promise<Decision[]> {
    const rows = await this.db(tx)
      .selectFrom("registry_decisions")
      .selectAll()
      .where("project", "=", project)
      .where("model_name", "=", name)
      .where("version", "=", version)
      .orderBy("at", "desc")
      .orderBy("id", "desc")
      .execute();
    return rows.map(toDecision);
  }

  async getPolicies(project: string, tx?: Tx): Promise<Record<string, PolicySpec>> {
    return toPolicies(
      await this.db(tx).selectFrom("registry_policies").selectAll().where("project", "=", project).execute(),
    );
  }

  async replacePolicies(
    project: string,
    policies: Record<string, PolicySpec>,
    actor: string,
    at: number,
    tx: Tx,
  ): Promise<void> {
    const db = this.db(tx);
    await db.deleteFrom("registry_policies").where("project", "=", project).execute();
    const rows = Object.entries(policies).map(([name, spec], position) => ({
      project,
      name,
      spec: JSON.stringify(spec),
      position,
      updated_by: actor,
      updated_at: at,
    }));
    if (rows.length) await db.insertInto("registry_policies").values(rows).execute();
  }
}
