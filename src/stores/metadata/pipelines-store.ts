/**
 * SQL implementation of the pipelines store, for SQLite and Postgres. Lease changes are single
 * conditional UPDATEs, so two processes racing for a run cannot both win on either dialect.
 */
import type { CacheEntry, LogChunk, PipelineRun, SpecVersion, StepRun } from "../../core/pipelines/model.js";
import type { EncryptedSecret, PipelineStore, RunListQuery } from "../../core/pipelines/ports.js";
import type { Tx } from "../../core/ports.js";
import {
  fromRun,
  fromStep,
  toCache,
  toLog,
  toRun,
  toSpec,
  toStep,
  type PipelineRunRow,
  type PipelineStepRunRow,
} from "./pipelines-rows.js";
import { dbOf, type SqlMetadataStore } from "./sql-metadata-store.js";
import { StatementShapes, updateByIdQuery } from "./statement-shapes.js";

export class SqlPipelineStore implements PipelineStore {
  /** The compiled SQL of the statements a running pipeline repeats per step (statement-shapes.ts). */
  private readonly shapes = new StatementShapes();

  constructor(private readonly store: SqlMetadataStore) {}

  private db(tx?: Tx) {
    return dbOf(this.store, tx);
  }

  async latestSpec(project: string, tx?: Tx, options: { withCommits?: boolean } = {}): Promise<SpecVersion | null> {
    let query = this.db(tx).selectFrom("pipeline_specs").selectAll().where("project", "=", project);
    if (!options.withCommits) query = query.where("commit_sha", "is", null);
    const row = await query.orderBy("version", "desc").limit(1).executeTakeFirst();
    return row ? toSpec(row) : null;
  }

  async getSpec(project: string, version: number, tx?: Tx): Promise<SpecVersion | null> {
    const row = await this.db(tx)
      .selectFrom("pipeline_specs")
      .selectAll()
      .where("project", "=", project)
      .where("version", "=", version)
      .executeTakeFirst();
    return row ? toSpec(row) : null;
  }

  async insertSpec(s: SpecVersion, tx: Tx): Promise<void> {
    await this.db(tx)
      .insertInto("pipeline_specs")
      .values({
        project: s.project,
        version: s.version,
        digest: s.digest,
        source: s.source,
        file: s.file,
        workspace: s.workspace,
        created_at: s.createdAt,
        created_by: s.createdBy,
        commit_sha: s.commit,
      })
      .execute();
  }

  async listSpecProjects(tx?: Tx): Promise<string[]> {
    const rows = await this.db(tx).selectFrom("pipeline_specs").select("project").distinct().execute();
    return rows.map((r) => r.project);
  }

  async insertRun(run: PipelineRun, steps: StepRun[], tx: Tx): Promise<void> {
    await this.db(tx)
      .insertInto("pipeline_runs")
      .values(fromRun(run) as PipelineRunRow)
      .execute();
    if (steps.length) {
      // Chunks keep each statement under SQLite's bound-parameter limit.
      for (let i = 0; i < steps.length; i += 50) {
        await this.db(tx)
          .insertInto("pipeline_step_runs")
          .values(steps.slice(i, i + 50).map((s) => fromStep(s) as PipelineStepRunRow))
          .execute();
      }
    }
  }

  async getRun(id: string, tx?: Tx): Promise<PipelineRun | null> {
    const row = await this.db(tx).selectFrom("pipeline_runs").selectAll().where("id", "=", id).executeTakeFirst();
    return row ? toRun(row) : null;
  }

  async listRuns(q: RunListQuery, tx?: Tx): Promise<PipelineRun[]> {
    let query = this.db(tx).selectFrom("pipeline_runs").selectAll().where("project", "=", q.project);
    if (q.pipeline !== undefined) query = query.where("pipeline", "=", q.pipeline);
    if (q.status?.length) query = query.where("status", "in", q.status);
    if (q.beforeCreatedAt !== undefined) query = query.where("created_at", "<", q.beforeCreatedAt);
    const rows = await query.orderBy("created_at", "desc").orderBy("id", "desc").limit(q.limit).execute();
    return rows.map(toRun);
  }

  async updateRun(id: string, patch: Partial<PipelineRun>, tx?: Tx): Promise<void> {
    const query = updateByIdQuery(this.shapes, this.store.db, "pipeline_runs", "id", fromRun(patch), id);
    if (query) await this.db(tx).executeQuery(query);
  }

  async getSteps(runId: string, tx?: Tx): Promise<StepRun[]> {
    const rows = await this.db(tx)
      .selectFrom("pipeline_step_runs")
      .selectAll()
      .where("run_id", "=", runId)
      .orderBy("seq")
      .execute();
    return rows.map(toStep);
  }

  async earlierSteps(q: { project: string; pipeline: string; name: string; before: number; limit: number }) {
    const rows = await this.db()
      .selectFrom("pipeline_step_runs as s")
      .innerJoin("pipeline_runs as r", "r.id", "s.run_id")
      .selectAll("s")
      .select("r.created_at as run_created_at")
      .where("r.project", "=", q.project)
      .where("r.pipeline", "=", q.pipeline)
      .where("r.created_at", "<", q.before)
      .where("s.name", "=", q.name)
      .where("s.cache_info", "is not", null)
      .orderBy("r.created_at", "desc")
      .limit(q.limit)
      .execute();
    return rows.map((r) => ({ runId: r.run_id, runCreatedAt: Number(r.run_created_at), step: toStep(r) }));
  }

  async updateStep(id: string, patch: Partial<StepRun>, tx?: Tx): Promise<void> {
    const query = updateByIdQuery(this.shapes, this.store.db, "pipeline_step_runs", "id", fromStep(patch), id);
    if (query) await this.db(tx).executeQuery(query);
  }

  async claimRun(id: string, owner: string, expiresAt: number, now: number, stale?: string | null): Promise<boolean> {
    const result = await this.db()
      .updateTable("pipeline_runs")
      .set({ lease_owner: owner, lease_expires_at: expiresAt })
      .where("id", "=", id)
      .where((eb) => {
        const free = [eb("lease_owner", "is", null), eb("lease_expires_at", "<", now), eb("lease_owner", "=", owner)];
        if (stale) free.push(eb("lease_owner", "=", stale));
        return eb.or(free);
      })
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async renewRun(id: string, owner: string, expiresAt: number): Promise<boolean> {
    const query = this.shapes.compiled("renewRun", [expiresAt, id, owner], ([expires, run, holder]) =>
      this.store.db
        .updateTable("pipeline_runs")
        .set({ lease_expires_at: expires as unknown as number })
        .where("id", "=", run!)
        .where("lease_owner", "=", holder!),
    );
    const result = await this.db().executeQuery(query);
    return Number(result.numAffectedRows ?? 0) > 0;
  }

  async renewSteps(runId: string, owner: string, expiresAt: number): Promise<void> {
    const query = this.shapes.compiled("renewSteps", [expiresAt, runId, owner], ([expires, run, holder]) =>
      this.store.db
        .updateTable("pipeline_step_runs")
        .set({ lease_expires_at: expires as unknown as number })
        .where("run_id", "=", run!)
        .where("status", "=", "running")
        .where("lease_owner", "=", holder!),
    );
    await this.db().executeQuery(query);
  }

  async unfinishedRuns(limit: number): Promise<PipelineRun[]> {
    const rows = await this.db()
      .selectFrom("pipeline_runs")
      .selectAll()
      .where("status", "in", ["queued", "running"])
      .orderBy("created_at")
      .limit(limit)
      .execute();
    return rows.map(toRun);
  }

  async appendLogs(runId: string, chunks: Array<Omit<LogChunk, "seq">>): Promise<void> {
    for (let i = 0; i < chunks.length; i += 100) {
      const part = chunks.slice(i, i + 100);
      const values = part.flatMap((c) => [runId, c.stepId, c.stream, c.text, c.at]);
      const query = this.shapes.compiled(`appendLogs ${part.length}`, values, (slots) =>
        this.store.db.insertInto("pipeline_logs").values(
          part.map((_, r) => ({
            run_id: slots[r * 5]!,
            step_id: slots[r * 5 + 1]!,
            stream: slots[r * 5 + 2]!,
            text: slots[r * 5 + 3]!,
            at: slots[r * 5 + 4] as unknown as number,
          })),
        ),
      );
      await this.db().executeQuery(query);
    }
  }

  async readLogs(runId: string, options: { afterSeq?: number; stepId?: string; limit: number }): Promise<LogChunk[]> {
    let q = this.db().selectFrom("pipeline_logs").selectAll().where("run_id", "=", runId);
    if (options.afterSeq !== undefined) q = q.where("seq", ">", options.afterSeq);
    if (options.stepId !== undefined) q = q.where("step_id", "=", options.stepId);
    const rows = await q.orderBy("seq").limit(options.limit).execute();
    return rows.map(toLog);
  }

  async getCache(project: string, key: string): Promise<CacheEntry | null> {
    const query = this.shapes.compiled("getCache", [project, key], ([p, k]) =>
      this.store.db.selectFrom("pipeline_cache").selectAll().where("project", "=", p!).where("cache_key", "=", k!),
    );
    const row = (await this.db().executeQuery(query)).rows[0];
    return row ? toCache(row) : null;
  }

  async putCache(e: CacheEntry): Promise<void> {
    await this.db()
      .insertInto("pipeline_cache")
      .values({
        project: e.project,
        cache_key: e.key,
        outputs: JSON.stringify(e.outputs),
        metrics: JSON.stringify(e.metrics),
        step_run_id: e.stepRunId,
        created_at: e.createdAt,
      })
      .onConflict((oc) =>
        oc.columns(["project", "cache_key"]).doUpdateSet({
          outputs: JSON.stringify(e.outputs),
          metrics: JSON.stringify(e.metrics),
          step_run_id: e.stepRunId,
          created_at: e.createdAt,
        }),
      )
      .execute();
  }

  async getSecret(project: string, name: string, tx?: Tx): Promise<EncryptedSecret | null> {
    const r = await this.db(tx)
      .selectFrom("pipeline_secrets")
      .selectAll()
      .where("project", "=", project)
      .where("name", "=", name)
      .executeTakeFirst();
    return r
      ? { project: r.project, name: r.name, sealed: r.sealed, updatedAt: r.updated_at, updatedBy: r.updated_by }
      : null;
  }

  async putSecret(s: EncryptedSecret, tx: Tx): Promise<void> {
    await this.db(tx)
      .insertInto("pipeline_secrets")
      .values({ project: s.project, name: s.name, sealed: s.sealed, updated_at: s.updatedAt, updated_by: s.updatedBy })
      .onConflict((oc) =>
        oc
          .columns(["project", "name"])
          .doUpdateSet({ sealed: s.sealed, updated_at: s.updatedAt, updated_by: s.updatedBy }),
      )
      .execute();
  }

  async deleteSecret(project: string, name: string, tx: Tx): Promise<boolean> {
    const r = await this.db(tx)
      .deleteFrom("pipeline_secrets")
      .where("project", "=", project)
      .where("name", "=", name)
      .executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async listSecrets(project: string, tx?: Tx): Promise<Array<Omit<EncryptedSecret, "sealed">>> {
    const rows = await this.db(tx)
      .selectFrom("pipeline_secrets")
      .select(["project", "name", "updated_at", "updated_by"])
      .where("project", "=", project)
      .orderBy("name")
      .execute();
    return rows.map((r) => ({ project: r.project, name: r.name, updatedAt: r.updated_at, updatedBy: r.updated_by }));
  }

  async recordTriggerEvent(project: string, key: string, runId: string | null, at: number, tx?: Tx): Promise<boolean> {
    const r = await this.db(tx)
      .insertInto("pipeline_trigger_events")
      .values({ project, event_key: key, run_id: runId, at })
      .onConflict((oc) => oc.columns(["project", "event_key"]).doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  async triggerEvents(project: string, prefix: string, suffix: string) {
    const rows = await this.db()
      .selectFrom("pipeline_trigger_events")
      .select(["event_key", "run_id"])
      .where("project", "=", project)
      .where("event_key", ">=", prefix)
      .where("event_key", "<", `${prefix}\uffff`)
      .orderBy("at")
      .execute();
    // The prefix is a range (no LIKE wildcards to escape); the suffix is checked here.
    return rows.filter((r) => r.event_key.endsWith(suffix)).map((r) => ({ key: r.event_key, runId: r.run_id }));
  }

  async hasTriggerEvent(project: string, key: string): Promise<boolean> {
    const r = await this.db()
      .selectFrom("pipeline_trigger_events")
      .select("at")
      .where("project", "=", project)
      .where("event_key", "=", key)
      .executeTakeFirst();
    return r !== undefined;
  }

  async getTriggerState(project: string, key: string): Promise<string | null> {
    const r = await this.db()
      .selectFrom("pipeline_trigger_state")
      .select("value")
      .where("project", "=", project)
      .where("state_key", "=", key)
      .executeTakeFirst();
    return r?.value ?? null;
  }

  async setTriggerState(project: string, key: string, value: string, at: number): Promise<void> {
    await this.db()
      .insertInto("pipeline_trigger_state")
      .values({ project, state_key: key, value, updated_at: at })
      .onConflict((oc) => oc.columns(["project", "state_key"]).doUpdateSet({ value, updated_at: at }))
      .execute();
  }
}
