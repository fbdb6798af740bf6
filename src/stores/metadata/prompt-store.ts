/**
 * The prompt registry's tables and the project LLM settings: rows and their mappers stay here.
 */
import { sql } from "kysely";
import type {
  LlmSettings,
  ModelPrice,
  Prompt,
  PromptAlias,
  PromptAliasAction,
  PromptAliasEvent,
  PromptApproval,
  PromptEvaluation,
  PromptVersion,
} from "../../core/llm/model.js";
import type { PromptStore } from "../../core/llm/ports.js";
import type { Tx } from "../../core/ports.js";
import { dbOf, type SqlMetadataStore } from "./sql-metadata-store.js";

export interface PromptRow {
  project: string;
  name: string;
  description: string;
  created_by: string;
  created_at: number;
  updated_at: number;
}

export interface PromptVersionRow {
  project: string;
  name: string;
  version: number;
  messages: string;
  params: string;
  variables: string;
  sha256: string;
  description: string;
  author: string;
  created_at: number;
}

export interface PromptAliasRow {
  project: string;
  name: string;
  alias: string;
  version: number;
  updated_by: string;
  updated_at: number;
}

export interface PromptAliasEventRow {
  seq: number;
  project: string;
  name: string;
  alias: string;
  action: string;
  from_version: number | null;
  to_version: number | null;
  actor: string;
  reason: string;
  decision: string | null;
  at: number;
}

export interface PromptEvaluationRow {
  id: string;
  project: string;
  name: string;
  version: number;
  run_id: string | null;
  dataset: string;
  metrics: string;
  created_by: string;
  created_at: number;
  /** 0810: `pipeline` or `manual`, and for pipeline evidence the run, step and step run. */
  source: string;
  pipeline_run_id: string | null;
  step: string | null;
  step_run_id: string | null;
}

export interface PromptApprovalRow {
  id: string;
  project: string;
  name: string;
  version: number;
  user_name: string;
  role: string;
  decision: string;
  comment: string;
  at: number;
}

export interface LlmSettingsRow {
  project: string;
  prices: string;
  trace_retention_days: number | null;
  updated_at: number;
}

declare module "./schema.js" {
  interface Database {
    prompts: PromptRow;
    prompt_versions: PromptVersionRow;
    prompt_aliases: PromptAliasRow;
    prompt_alias_events: Omit<PromptAliasEventRow, "seq"> & { seq: import("kysely").Generated<number> };
    prompt_evaluations: PromptEvaluationRow;
    prompt_approvals: PromptApprovalRow;
    llm_settings: LlmSettingsRow;
  }
}

const num = (v: number | string | null): number | null => (v === null ? null : Number(v));

function toPrompt(r: PromptRow): Prompt {
  return {
    project: r.project,
    name: r.name,
    description: r.description,
    createdBy: r.created_by,
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

function toVersion(r: PromptVersionRow): PromptVersion {
  return {
    project: r.project,
    name: r.name,
    version: Number(r.version),
    messages: JSON.parse(r.messages) as PromptVersion["messages"],
    params: JSON.parse(r.params) as PromptVersion["params"],
    variables: JSON.parse(r.variables) as string[],
    sha256: r.sha256,
    description: r.description,
    author: r.author,
    createdAt: Number(r.created_at),
  };
}

function toAlias(r: PromptAliasRow): PromptAlias {
  return {
    project: r.project,
    name: r.name,
    alias: r.alias,
    version: Number(r.version),
    updatedBy: r.updated_by,
    updatedAt: Number(r.updated_at),
  };
}

function toEvaluation(r: PromptEvaluationRow): PromptEvaluation {
  return {
    id: r.id,
    project: r.project,
    name: r.name,
    version: Number(r.version),
    runId: r.run_id,
    dataset: r.dataset,
    metrics: JSON.parse(r.metrics) as Record<string, number>,
    createdBy: r.created_by,
    createdAt: Number(r.created_at),
    source: r.source === "pipeline" ? "pipeline" : "manual",
    pipelineRunId: r.pipeline_run_id,
    step: r.step,
    stepRunId: r.step_run_id,
  };
}

function toSettings(r: LlmSettingsRow): LlmSettings {
  return {
    project: r.project,
    prices: JSON.parse(r.prices) as Record<string, ModelPrice>,
    traceRetentionDays: num(r.trace_retention_days),
    updatedAt: Number(r.updated_at),
  };
}

export class SqlPromptStore implements PromptStore {
  constructor(private readonly store: SqlMetadataStore) {}

  private db(tx?: Tx) {
    return dbOf(this.store, tx);
  }

  async getPrompt(project: string, name: string, tx?: Tx): Promise<Prompt | null> {
    const r = await this.db(tx)
      .selectFrom("prompts")
      .selectAll()
      .where("project", "=", project)
      .where("name", "=", name)
      .executeTakeFirst();
    return r ? toPrompt(r) : null;
  }

  async insertPrompt(p: Prompt, tx: Tx): Promise<boolean> {
    const result = await this.db(tx)
      .insertInto("prompts")
      .values({
        project: p.project,
        name: p.name,
        description: p.description,
        created_by: p.createdBy,
        created_at: p.createdAt,
        updated_at: p.updatedAt,
      })
      .onConflict((oc) => oc.columns(["project", "name"]).doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  async touchPrompt(project: string, name: string, at: number, tx: Tx): Promise<void> {
    await this.db(tx)
      .updateTable("prompts")
      .set({ updated_at: at })
      .where("project", "=", project)
      .where("name", "=", name)
      .execute();
  }

  async lockPrompt(project: string, name: string, tx: Tx): Promise<void> {
    // SQLite serialises writers already; Postgres takes the prompt row's lock until the transaction ends.
    if (this.store.dialect === "postgres")
      await sql`select 1 from prompts where project = ${project} and name = ${name} for update`.execute(this.db(tx));
  }

  async listPrompts(project: string) {
    const prompts = await this.db()
      .selectFrom("prompts")
      .selectAll()
      .where("project", "=", project)
      .orderBy("name")
      .execute();
    const latest = await this.db()
      .selectFrom("prompt_versions")
      .select(["name", (eb) => eb.fn.max("version").as("latest")])
      .where("project", "=", project)
      .groupBy("name")
      .execute();
    const aliases = await this.db().selectFrom("prompt_aliases").selectAll().where("project", "=", project).execute();
    return prompts.map((p) => ({
      ...toPrompt(p),
      latestVersion: num((latest.find((l) => l.name === p.name)?.latest as number | undefined) ?? null),
      aliases: aliases.filter((a) => a.name === p.name).map(toAlias),
    }));
  }

  async getVersion(project: string, name: string, version: number, tx?: Tx): Promise<PromptVersion | null> {
    const r = await this.db(tx)
      .selectFrom("prompt_versions")
      .selectAll()
      .where("project", "=", project)
      .where("name", "=", name)
      .where("version", "=", version)
      .executeTakeFirst();
    return r ? toVersion(r) : null;
  }

  async latestVersion(project: string, name: string, tx?: Tx): Promise<PromptVersion | null> {
    const r = await this.db(tx)
      .selectFrom("prompt_versions")
      .selectAll()
      .where("project", "=", project)
      .where("name", "=", name)
      .orderBy("version", "desc")
      .limit(1)
      .executeTakeFirst();
    return r ? toVersion(r) : null;
  }

  async findVersionBySha(project: string, name: string, sha256: string, tx?: Tx): Promise<PromptVersion | null> {
    const r = await this.db(tx)
      .selectFrom("prompt_versions")
      .selectAll()
      .where("project", "=", project)
      .where("name", "=", name)
      .where("sha256", "=", sha256)
      .orderBy("version")
      .limit(1)
      .executeTakeFirst();
    return r ? toVersion(r) : null;
  }

  async insertVersion(v: PromptVersion, tx: Tx): Promise<void> {
    await this.db(tx)
      .insertInto("prompt_versions")
      .values({
        project: v.project,
        name: v.name,
        version: v.version,
        messages: JSON.stringify(v.messages),
        params: JSON.stringify(v.params),
        variables: JSON.stringify(v.variables),
        sha256: v.sha256,
        description: v.description,
        author: v.author,
        created_at: v.createdAt,
      })
      .execute();
  }

  async listVersions(project: string, name: string): Promise<PromptVersion[]> {
    const rows = await this.db()
      .selectFrom("prompt_versions")
      .selectAll()
      .where("project", "=", project)
      .where("name", "=", name)
      .orderBy("version", "desc")
      .execute();
    return rows.map(toVersion);
  }

  async getAlias(project: string, name: string, alias: string, tx?: Tx): Promise<PromptAlias | null> {
    const r = await this.db(tx)
      .selectFrom("prompt_aliases")
      .selectAll()
      .where("project", "=", project)
      .where("name", "=", name)
      .where("alias", "=", alias)
      .executeTakeFirst();
    return r ? toAlias(r) : null;
  }

  async listAliases(project: string, name: string, tx?: Tx): Promise<PromptAlias[]> {
    const rows = await this.db(tx)
      .selectFrom("prompt_aliases")
      .selectAll()
      .where("project", "=", project)
      .where("name", "=", name)
      .orderBy("alias")
      .execute();
    return rows.map(toAlias);
  }

  async putAlias(a: PromptAlias, tx: Tx): Promise<void> {
    await this.db(tx)
      .insertInto("prompt_aliases")
      .values({
        project: a.project,
        name: a.name,
        alias: a.alias,
        version: a.version,
        updated_by: a.updatedBy,
        updated_at: a.updatedAt,
      })
      .onConflict((oc) =>
        oc
          .columns(["project", "name", "alias"])
          .doUpdateSet({ version: a.version, updated_by: a.updatedBy, updated_at: a.updatedAt }),
      )
      .execute();
  }

  async deleteAlias(project: string, name: string, alias: string, tx: Tx): Promise<void> {
    await this.db(tx)
      .deleteFrom("prompt_aliases")
      .where("project", "=", project)
      .where("name", "=", name)
      .where("alias", "=", alias)
      .execute();
  }

  async appendAliasEvent(e: Omit<PromptAliasEvent, "seq">, tx: Tx): Promise<void> {
    await this.db(tx)
      .insertInto("prompt_alias_events")
      .values({
        project: e.project,
        name: e.name,
        alias: e.alias,
        action: e.action,
        from_version: e.fromVersion,
        to_version: e.toVersion,
        actor: e.actor,
        reason: e.reason,
        decision: e.decision === null ? null : JSON.stringify(e.decision),
        at: e.at,
      })
      .execute();
  }

  async aliasHistory(project: string, name: string, alias: string | null, tx?: Tx): Promise<PromptAliasEvent[]> {
    let q = this.db(tx)
      .selectFrom("prompt_alias_events")
      .selectAll()
      .where("project", "=", project)
      .where("name", "=", name);
    if (alias !== null) q = q.where("alias", "=", alias);
    const rows = await q.orderBy("seq").execute();
    return rows.map((r) => ({
      seq: Number(r.seq),
      project: r.project,
      name: r.name,
      alias: r.alias,
      action: r.action as PromptAliasAction,
      fromVersion: num(r.from_version),
      toVersion: num(r.to_version),
      actor: r.actor,
      reason: r.reason,
      decision: r.decision === null ? null : (JSON.parse(r.decision) as unknown),
      at: Number(r.at),
    }));
  }

  async insertEvaluation(e: PromptEvaluation, tx: Tx): Promise<void> {
    await this.db(tx)
      .insertInto("prompt_evaluations")
      .values({
        id: e.id,
        project: e.project,
        name: e.name,
        version: e.version,
        run_id: e.runId,
        dataset: e.dataset,
        metrics: JSON.stringify(e.metrics),
        created_by: e.createdBy,
        created_at: e.createdAt,
        source: e.source,
        pipeline_run_id: e.pipelineRunId,
        step: e.step,
        step_run_id: e.stepRunId,
      })
      .execute();
  }

  async listEvaluations(project: string, name: string, version: number | null, tx?: Tx): Promise<PromptEvaluation[]> {
    let q = this.db(tx)
      .selectFrom("prompt_evaluations")
      .selectAll()
      .where("project", "=", project)
      .where("name", "=", name);
    if (version !== null) q = q.where("version", "=", version);
    const rows = await q.orderBy("created_at", "desc").orderBy("id", "desc").execute();
    return rows.map(toEvaluation);
  }

  async insertApproval(a: PromptApproval, tx: Tx): Promise<void> {
    await this.db(tx)
      .insertInto("prompt_approvals")
      .values({
        id: a.id,
        project: a.project,
        name: a.name,
        version: a.version,
        user_name: a.userName,
        role: a.role,
        decision: a.decision,
        comment: a.comment,
        at: a.at,
      })
      .execute();
  }

  async listApprovals(project: string, name: string, version: number, tx?: Tx): Promise<PromptApproval[]> {
    const rows = await this.db(tx)
      .selectFrom("prompt_approvals")
      .selectAll()
      .where("project", "=", project)
      .where("name", "=", name)
      .where("version", "=", version)
      .orderBy("at")
      .execute();
    return rows.map((r) => ({
      id: r.id,
      project: r.project,
      name: r.name,
      version: Number(r.version),
      userName: r.user_name,
      role: r.role,
      decision: r.decision as "approve" | "reject",
      comment: r.comment,
      at: Number(r.at),
    }));
  }

  async getSettings(project: string): Promise<LlmSettings | null> {
    const r = await this.db().selectFrom("llm_settings").selectAll().where("project", "=", project).executeTakeFirst();
    return r ? toSettings(r) : null;
  }

  async putSettings(s: LlmSettings, tx: Tx): Promise<void> {
    const row = {
      prices: JSON.stringify(s.prices),
      trace_retention_days: s.traceRetentionDays,
      updated_at: s.updatedAt,
    };
    await this.db(tx)
      .insertInto("llm_settings")
      .values({ project: s.project, ...row })
      .onConflict((oc) => oc.column("project").doUpdateSet(row))
      .execute();
  }

  async allSettings(): Promise<LlmSettings[]> {
    return (await this.db().selectFrom("llm_settings").selectAll().execute()).map(toSettings);
  }
}
