/**
 * Models and versions as records: create, read, resolve `name@…`, describe, tag, stage, rename,
 * delete. The base of RegistryService (see service.ts for the whole API and the MLflow mapping);
 * promotion.ts adds the gate on top. Every change goes through `audited`.
 */
import { audited, type RecordAudit } from "../governance/audited.js";
import type { AuditLog } from "../governance/audit.js";
import type { Role } from "../governance/model.js";
import type { ArtifactStore } from "../artifacts/ports.js";
import { ConflictError, InvalidInputError, NotFoundError } from "../errors.js";
import { nowMs } from "../ids.js";
import type { MetadataStore, Tx } from "../ports.js";
import { STAGES, type ModelVersion, type RegisteredModel, type Stage } from "./model.js";
import type { LineageSource, ModelQuery, PipelineFacts, PolicySource, RegistryStore, ServingFacts } from "./ports.js";
import { modelNameTaken, modelNotFound, versionNotFound } from "./missing.js";
import { checkModelName, formatRef, parseModelRef } from "./refs.js";

export interface RegistryDeps {
  metadata: MetadataStore;
  audit: AuditLog;
  store: RegistryStore;
  artifacts: ArtifactStore;
  lineage: LineageSource;
  /** Where policies come from (default: the ones stored by `applyPolicies`). */
  policies?: PolicySource;
  /** Endpoint followers and canary records (absent: no serving in this process). */
  serving?: ServingFacts;
  /** Step runs and the person behind a pipeline run (absent: no pipelines in this process). */
  pipelines?: PipelineFacts;
  /** A person's role in a project today (absent: approvals count with the role they were given under). */
  people?: { roleOf(userName: string, project: string): Promise<Role | null> };
}

export const tagKey = (key: string): void => {
  if (!key || key.length > 250) throw new InvalidInputError(`tag key ${JSON.stringify(key)}: 1 to 250 characters`);
};

export abstract class ModelCatalog {
  constructor(
    protected readonly deps: RegistryDeps,
    protected readonly policySource: PolicySource,
  ) {}

  /**
   * Endpoints load a model by name and version number: deleting a version one serves (or is pinned
   * to), or renaming or deleting its model, would take that endpoint's traffic away at the next
   * start of any server, past every policy. Refused until serving moves off it (`version` null: any).
   */
  private async assertNotServed(project: string, name: string, version: number | null, doing: string): Promise<void> {
    const slots = (await this.deps.serving?.servedBy(project, name)) ?? [];
    const serving = slots.filter((s) => version === null || s.version === version);
    if (serving.length === 0) return;
    const where = serving.map((s) => `endpoint ${s.endpoint} serves ${formatRef(name, s.version)} (${s.slot})`);
    throw new ConflictError(`cannot ${doing}: ${[...new Set(where)].join("; ")}; deploy another model there first`);
  }

  // ---- models ----

  async getModel(project: string, name: string): Promise<RegisteredModel> {
    const m = await this.deps.store.getModel(project, name);
    if (!m) throw modelNotFound(project, name);
    return m;
  }

  async createModel(
    actor: string,
    project: string,
    input: { name: string; description?: string; tags?: Record<string, string> },
  ): Promise<RegisteredModel> {
    checkModelName(input.name);
    return audited(this.deps.metadata, this.deps.audit, async (tx, record) => {
      const now = nowMs();
      const model: RegisteredModel = {
        project,
        name: input.name,
        description: input.description ?? "",
        owner: actor,
        tags: input.tags ?? {},
        createdAt: now,
        updatedAt: now,
      };
      if (!(await this.deps.store.insertModel(model, tx))) {
        throw modelNameTaken(project, input.name);
      }
      await record({ actor, project, action: "model.create", target: `model:${input.name}` });
      return model;
    });
  }

  async updateModel(
    actor: string,
    project: string,
    name: string,
    patch: { description?: string; owner?: string },
  ): Promise<RegisteredModel> {
    return audited(this.deps.metadata, this.deps.audit, async (tx, record) => {
      const m = await this.deps.store.getModel(project, name, tx);
      if (!m) throw modelNotFound(project, name);
      const next = {
        ...m,
        description: patch.description ?? m.description,
        owner: patch.owner ?? m.owner,
        updatedAt: nowMs(),
      };
      await this.deps.store.updateModel(next, tx);
      await record({
        actor,
        project,
        action: "model.update",
        target: `model:${name}`,
        summary: { description: patch.description !== undefined, owner: patch.owner ?? null },
      });
      return next;
    });
  }

  async renameModel(actor: string, project: string, name: string, newName: string): Promise<RegisteredModel> {
    checkModelName(newName);
    await this.assertNotServed(project, name, null, `rename model ${name}`);
    return audited(this.deps.metadata, this.deps.audit, async (tx, record) => {
      if (!(await this.deps.store.getModel(project, name, tx))) throw modelNotFound(project, name);
      if (await this.deps.store.getModel(project, newName, tx)) throw modelNameTaken(project, newName);
      await this.deps.store.renameModel(project, name, newName, tx);
      await record({ actor, project, action: "model.rename", target: `model:${newName}`, summary: { from: name } });
      return (await this.deps.store.getModel(project, newName, tx))!;
    });
  }

  async deleteModel(actor: string, project: string, name: string): Promise<void> {
    await this.assertNotServed(project, name, null, `delete model ${name}`);
    await audited(this.deps.metadata, this.deps.audit, async (tx, record) => {
      if (!(await this.deps.store.getModel(project, name, tx))) throw modelNotFound(project, name);
      const aliases = await this.deps.store.listAliases(project, name, tx);
      if (aliases.length)
        throw new ConflictError(
          `model ${name} still has aliases (${aliases.map((a) => a.alias).join(", ")}); delete them first`,
        );
      await this.deps.store.deleteModel(project, name, tx);
      await record({ actor, project, action: "model.delete", target: `model:${name}` });
    });
  }

  /**
   * Undoes the first half of MLflow's `register_model`, which is one action in two requests: create the
   * registered model, then its version. When the version is refused, the model made for it is removed
   * again, so the refusal leaves the registry as it was. Only a model that `actor` created within
   * `withinMs` and that is still untouched (no version, alias, tag or description) is removed; one
   * made earlier on purpose (`create_registered_model`, then versions later) stays. Audited as
   * `model.delete` with the reason. Returns whether it removed one.
   */
  async discardUnusedModel(actor: string, project: string, name: string, withinMs: number): Promise<boolean> {
    return audited(this.deps.metadata, this.deps.audit, async (tx, record) => {
      await this.deps.store.lockModel(project, name, tx);
      const m = await this.deps.store.getModel(project, name, tx);
      if (!m || m.owner !== actor || m.createdAt < nowMs() - withinMs) return false;
      if (m.updatedAt !== m.createdAt || m.description || Object.keys(m.tags).length) return false;
      if (await this.deps.store.latestVersion(project, name, tx)) return false;
      if ((await this.deps.store.listAliases(project, name, tx)).length) return false;
      await this.deps.store.deleteModel(project, name, tx);
      await record({
        actor,
        project,
        action: "model.delete",
        target: `model:${name}`,
        summary: { reason: "its first version was refused: the registration is undone" },
      });
      return true;
    });
  }

  searchModels(project: string, q: Partial<ModelQuery> = {}): Promise<{ models: RegisteredModel[]; total: number }> {
    return this.deps.store.listModels(project, { limit: 100, offset: 0, ...q });
  }

  async setModelTag(actor: string, project: string, name: string, key: string, value: string | null): Promise<void> {
    if (value !== null) tagKey(key);
    await audited(this.deps.metadata, this.deps.audit, async (tx, record) => {
      const m = await this.deps.store.getModel(project, name, tx);
      if (!m) throw modelNotFound(project, name);
      const tags = { ...m.tags };
      if (value === null) {
        // Own keys only: `"constructor" in tags` is true of every model, and deleted nothing.
        if (!Object.hasOwn(tags, key)) throw new NotFoundError(`model ${name} has no tag ${key}`);
        delete tags[key];
      } else tags[key] = value;
      await this.deps.store.updateModel({ ...m, tags, updatedAt: nowMs() }, tx);
      await record({
        actor,
        project,
        action: value === null ? "model.tag.delete" : "model.tag.set",
        target: `model:${name}`,
        summary: { key },
      });
    });
  }

  deleteModelTag(actor: string, project: string, name: string, key: string): Promise<void> {
    return this.setModelTag(actor, project, name, key, null);
  }

  async getVersion(project: string, name: string, version: number): Promise<ModelVersion> {
    const v = await this.deps.store.getVersion(project, name, version);
    if (!v) throw versionNotFound(project, name, version);
    return v;
  }

  /** `name@N`, `name@latest`, `name@alias`, or a bare name (latest) → the version. */
  async resolve(project: string, ref: string): Promise<ModelVersion> {
    const parsed = parseModelRef(ref);
    const { name, selector } = parsed;
    switch (selector.kind) {
      case "number":
        return this.getVersion(project, name, selector.version);
      case "latest": {
        const v = await this.deps.store.latestVersion(project, name);
        if (!v) throw new NotFoundError(`model ${name} has no versions in project ${project}`);
        return v;
      }
      case "alias": {
        const a = await this.deps.store.getAlias(project, name, selector.alias);
        if (!a) {
          if (!(await this.deps.store.getModel(project, name))) throw modelNotFound(project, name);
          throw new NotFoundError(`model ${name} has no alias ${selector.alias}`);
        }
        return this.getVersion(project, name, a.version);
      }
    }
  }

  async updateVersion(
    actor: string,
    project: string,
    name: string,
    version: number,
    patch: { description?: string },
  ): Promise<ModelVersion> {
    return this.changeVersion(actor, project, name, version, "model.version.update", { description: true }, (v) => ({
      ...v,
      description: patch.description ?? v.description,
    }));
  }

  async setVersionTag(
    actor: string,
    project: string,
    name: string,
    version: number,
    key: string,
    value: string | null,
  ): Promise<ModelVersion> {
    if (value !== null) tagKey(key);
    return this.changeVersion(
      actor,
      project,
      name,
      version,
      value === null ? "model.version.tag.delete" : "model.version.tag.set",
      { key },
      (v) => {
        const tags = { ...v.tags };
        if (value === null) {
          if (!Object.hasOwn(tags, key))
            throw new NotFoundError(`model version ${formatRef(name, version)} has no tag ${key}`);
          delete tags[key];
        } else tags[key] = value;
        return { ...v, tags };
      },
    );
  }

  deleteVersionTag(actor: string, project: string, name: string, version: number, key: string): Promise<ModelVersion> {
    return this.setVersionTag(actor, project, name, version, key, null);
  }

  /** The stage as MLflow spells it (`production` → `Production`); InvalidInputError for anything else. */
  protected stageName(stage: string): Stage {
    const match = STAGES.find((s) => s.toLowerCase() === stage.toLowerCase());
    // MLflow's words (model_registry/utils.py), which its clients show as they are.
    if (!match)
      throw new InvalidInputError(`Invalid Model Version stage: ${stage}. Value must be one of ${STAGES.join(", ")}.`);
    return match;
  }

  /**
   * Sets a version's stage label. `archiveExisting` moves others in `stage` to Archived. Callers go
   * through `requestStage` (promotion.ts): Staging and Production are moves under the policies.
   */
  protected async transitionStage(
    actor: string,
    project: string,
    name: string,
    version: number,
    stage: string,
    archiveExisting = false,
  ): Promise<ModelVersion> {
    const match = this.stageName(stage);
    return audited(this.deps.metadata, this.deps.audit, async (tx, record) => {
      const v = await this.deps.store.getVersion(project, name, version, tx);
      if (!v) throw versionNotFound(project, name, version);
      return this.writeStage(tx, record, actor, v, match, archiveExisting);
    });
  }

  /**
   * A model's last update moves when one of its versions is created, deleted or changes stage, as in
   * MLflow's SQL store (registered-models/search order_by timestamp reads it).
   */
  protected async touchModel(tx: Tx, project: string, name: string, at: number): Promise<void> {
    const m = await this.deps.store.getModel(project, name, tx);
    if (m && m.updatedAt < at) await this.deps.store.updateModel({ ...m, updatedAt: at }, tx);
  }

  protected async writeStage(
    tx: Tx,
    record: RecordAudit,
    actor: string,
    v: ModelVersion,
    stage: string,
    archiveExisting: boolean,
  ): Promise<ModelVersion> {
    const match = this.stageName(stage);
    const now = nowMs();
    if (archiveExisting && (match === "Staging" || match === "Production")) {
      for (const other of await this.deps.store.listVersions(
        v.project,
        { modelName: v.modelName, limit: 100_000, offset: 0 },
        tx,
      )) {
        if (other.version !== v.version && other.stage === match)
          await this.deps.store.updateVersionMeta({ ...other, stage: "Archived", updatedAt: now }, tx);
      }
    }
    const next = { ...v, stage: match, updatedAt: now };
    await this.deps.store.updateVersionMeta(next, tx);
    await this.touchModel(tx, v.project, v.modelName, now);
    await record({
      actor,
      project: v.project,
      action: "model.version.stage",
      target: `model:${formatRef(v.modelName, v.version)}`,
      summary: { from: v.stage, to: match },
    });
    return next;
  }

  /** MLflow's GetLatestVersions: the newest version per stage (all stages when none given). */
  async latestVersions(project: string, name: string, stages: string[] = []): Promise<ModelVersion[]> {
    await this.getModel(project, name);
    const wanted = stages.length
      ? stages.map((s) => STAGES.find((x) => x.toLowerCase() === s.toLowerCase()) ?? s)
      : [...STAGES];
    const all = await this.deps.store.listVersions(project, { modelName: name, limit: 100_000, offset: 0 });
    const out: ModelVersion[] = [];
    for (const stage of wanted) {
      const v = all.find((x) => x.stage === (stage as Stage));
      if (v) out.push(v);
    }
    return out;
  }

  async deleteVersion(actor: string, project: string, name: string, version: number): Promise<void> {
    await this.assertNotServed(project, name, version, `delete ${formatRef(name, version)}`);
    await audited(this.deps.metadata, this.deps.audit, async (tx, record) => {
      const v = await this.deps.store.getVersion(project, name, version, tx);
      if (!v) throw versionNotFound(project, name, version);
      const holding = (await this.deps.store.listAliases(project, name, tx)).filter((a) => a.version === version);
      if (holding.length)
        throw new ConflictError(
          `${formatRef(name, version)} holds alias ${holding.map((a) => a.alias).join(", ")}; move or delete it first`,
        );
      await this.deps.store.deleteVersion(project, name, version, tx);
      await this.touchModel(tx, project, name, nowMs());
      await record({
        actor,
        project,
        action: "model.version.delete",
        target: `model:${formatRef(name, version)}`,
        summary: { sha256: v.artifact.sha256 },
      });
    });
  }

  searchVersions(
    project: string,
    q: { modelName?: string; runId?: string; limit?: number; offset?: number },
  ): Promise<ModelVersion[]> {
    return this.deps.store.listVersions(project, { limit: 100, offset: 0, ...q });
  }

  protected async changeVersion(
    actor: string,
    project: string,
    name: string,
    version: number,
    action: string,
    summary: Record<string, unknown>,
    change: (v: ModelVersion) => ModelVersion,
  ): Promise<ModelVersion> {
    return audited(this.deps.metadata, this.deps.audit, async (tx, record) => {
      const v = await this.deps.store.getVersion(project, name, version, tx);
      if (!v) throw versionNotFound(project, name, version);
      const next = { ...change(v), updatedAt: nowMs() };
      await this.deps.store.updateVersionMeta(next, tx);
      await record({ actor, project, action, target: `model:${formatRef(name, version)}`, summary });
      return next;
    });
  }
}
