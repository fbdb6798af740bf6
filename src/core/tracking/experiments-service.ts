/**
 * Experiments: the first half of the tracking service (TrackingService extends this class with runs).
 * Also the shared plumbing: the store, and `change`, which runs a state change audited.
 */
import type { AuditLog } from "../governance/audit.js";
import { audited, type RecordAudit } from "../governance/audited.js";
import { ConflictError, InvalidInputError, NotFoundError } from "../errors.js";
import { nowMs } from "../ids.js";
import type { MetadataStore, Tx } from "../ports.js";
import { DEFAULT_EXPERIMENT_ID, DEFAULT_EXPERIMENT_NAME, type Experiment, type ViewType } from "./model.js";
import { decodeExperimentPageToken, encodeExperimentPageToken } from "./experiment-keyset.js";
import { decodePageToken } from "./paging.js";
import type { TrackingStore } from "./ports.js";
import {
  LIMITS,
  missingParameter,
  truncatedValue,
  validateKey,
  validateMaxResults,
  validateValue,
} from "./validation.js";

export interface TrackingServiceOptions {
  metadata: MetadataStore;
  audit: AuditLog;
  store: TrackingStore;
}

export interface Page<T> {
  items: T[];
  nextPageToken: string | null;
}

/** A unique or primary-key violation from either SQL dialect (a race another writer won). */
export function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: unknown } | null;
  return e?.code === "23505" || e?.code === "SQLITE_CONSTRAINT_PRIMARYKEY" || e?.code === "SQLITE_CONSTRAINT_UNIQUE";
}
export class ExperimentService {
  readonly store: TrackingStore;
  protected readonly metadata: MetadataStore;
  protected readonly audit: AuditLog;

  constructor(options: TrackingServiceOptions) {
    this.store = options.store;
    this.metadata = options.metadata;
    this.audit = options.audit;
  }

  protected change<T>(fn: (tx: Tx, record: RecordAudit) => Promise<T>): Promise<T> {
    return audited(this.metadata, this.audit, fn);
  }

  protected checkTags(tags: Array<{ key: string; value: unknown }>): Array<{ key: string; value: string }> {
    return tags.map((t) => ({
      key: validateKey("tag", t.key),
      value: validateValue("tag", t.key, t.value, LIMITS.tagValueLength),
    }));
  }

  /** A run's tags: a value past the limit is cut, as MLflow does (experiment tags are refused). */
  protected checkRunTags(tags: Array<{ key: string; value: unknown }>): Array<{ key: string; value: string }> {
    return tags.map((t) => ({
      key: validateKey("tag", t.key),
      value: truncatedValue("tag", t.key, t.value, LIMITS.tagValueLength),
    }));
  }

  // ---- experiments

  /** "Default" (id "0") exists in every project that tracks anything, as MLflow clients assume. */
  async ensureDefaultExperiment(project: string): Promise<void> {
    await this.store.ensureExperiment(this.defaultExperiment(project));
  }

  protected defaultExperiment(project: string): Experiment {
    // MLflow makes "Default" with its store, before any other experiment. Made on first use here, it
    // often shares its millisecond with the experiment that made it, and MLflow's order (creation_time
    // DESC, experiment_id ASC) then listed "Default" first on a fast machine and last on a slow one:
    // dated one millisecond back, it is older than every experiment, as in MLflow.
    const now = nowMs() - 1;
    return {
      project,
      experimentId: DEFAULT_EXPERIMENT_ID,
      name: DEFAULT_EXPERIMENT_NAME,
      artifactLocation: `mlflow-artifacts:/${DEFAULT_EXPERIMENT_ID}`,
      lifecycleStage: "active",
      creationTime: now,
      lastUpdateTime: now,
      tags: {},
    };
  }

  async createExperiment(
    actor: string,
    project: string,
    input: { name: string; artifactLocation?: string; tags?: Record<string, string> },
  ): Promise<Experiment> {
    const name = input.name?.trim();
    if (!name) throw missingParameter("name");
    if (name.length > LIMITS.experimentNameLength)
      throw new InvalidInputError(`experiment name is longer than ${LIMITS.experimentNameLength} characters`);
    validateValue("experiment", "name", name, LIMITS.experimentNameLength);
    const tags = this.checkTags(Object.entries(input.tags ?? {}).map(([key, value]) => ({ key, value })));
    await this.ensureDefaultExperiment(project);
    // Two creators at once (Postgres, several processes) can pick the same next id: the loser's
    // insert hits the primary key and simply tries again with the next one.
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.insertExperiment(actor, project, name, input.artifactLocation, tags);
      } catch (error) {
        if (!isUniqueViolation(error) || attempt >= 30) throw error;
        if (await this.store.getExperimentByName(project, name))
          throw new ConflictError(`Experiment '${name}' already exists.`);
        // Spread the retries out so a crowd of creators does not collide on every next id again.
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * (attempt + 1)));
      }
    }
  }

  private insertExperiment(
    actor: string,
    project: string,
    name: string,
    artifactLocation: string | undefined,
    tags: Array<{ key: string; value: string }>,
  ): Promise<Experiment> {
    return this.change(async (tx, record) => {
      const existing = await this.store.getExperimentByName(project, name, tx);
      if (existing) {
        const state = existing.lifecycleStage === "deleted" ? " in deleted state" : "";
        throw new ConflictError(`Experiment '${name}' already exists${state}.`);
      }
      const experimentId = await this.store.nextExperimentId(project, tx);
      const now = nowMs();
      const experiment: Experiment = {
        project,
        experimentId,
        name,
        artifactLocation: artifactLocation?.replace(/\/+$/, "") || `mlflow-artifacts:/${experimentId}`,
        lifecycleStage: "active",
        creationTime: now,
        lastUpdateTime: now,
        tags: Object.fromEntries(tags.map((t) => [t.key, t.value])),
      };
      await this.store.insertExperiment(experiment, tx);
      await record({
        actor,
        project,
        action: "tracking.experiment.create",
        target: `experiment:${experimentId}`,
        summary: { name },
      });
      return experiment;
    });
  }

  async getOrCreateExperiment(actor: string, project: string, name: string): Promise<Experiment> {
    const existing = await this.store.getExperimentByName(project, name);
    if (existing) return existing;
    try {
      return await this.createExperiment(actor, project, { name });
    } catch (e) {
      // Another process created it between our read and our write.
      const again = await this.store.getExperimentByName(project, name);
      if (again) return again;
      throw e;
    }
  }

  async getExperiment(project: string, experimentId: string): Promise<Experiment> {
    if (experimentId === DEFAULT_EXPERIMENT_ID) await this.ensureDefaultExperiment(project);
    const e = await this.store.getExperiment(project, String(experimentId));
    if (!e) throw new NotFoundError(`No Experiment with id=${experimentId} exists`);
    return e;
  }

  async getExperimentByName(project: string, name: string): Promise<Experiment> {
    if (name === DEFAULT_EXPERIMENT_NAME) await this.ensureDefaultExperiment(project);
    const e = await this.store.getExperimentByName(project, name);
    if (!e) throw new NotFoundError(`Could not find experiment with name '${name}'`);
    return e;
  }

  async searchExperiments(
    project: string,
    q: { viewType?: ViewType; filter?: string; orderBy?: string[]; maxResults?: number; pageToken?: string },
  ): Promise<Page<Experiment>> {
    await this.ensureDefaultExperiment(project);
    const limit = validateMaxResults(q.maxResults, 1000, LIMITS.searchExperimentsMaxResults);
    const shape = { filter: q.filter, orderBy: q.orderBy, viewType: q.viewType ?? "ACTIVE_ONLY" };
    const after = decodeExperimentPageToken(q.pageToken, shape);
    // A token without a key is an offset token an older server gave out: still honoured.
    const offset = after ? 0 : decodePageToken(q.pageToken);
    const { experimentOrder, filterExperiments } = await import("./experiment-search.js");
    const order = experimentOrder(q.orderBy);
    const all = await this.store.listExperiments(project, shape.viewType);
    let matched = filterExperiments(all, q.filter).sort(order);
    if (after) matched = matched.filter((e) => order(e, after as Experiment) > 0);
    const items = matched.slice(offset, offset + limit);
    const more = offset + limit < matched.length;
    return { items, nextPageToken: more ? encodeExperimentPageToken(shape, items[items.length - 1]!) : null };
  }

  async renameExperiment(actor: string, project: string, experimentId: string, newName: string): Promise<void> {
    try {
      await this.renameExperimentOnce(actor, project, experimentId, newName);
    } catch (error) {
      // Another rename or create took the name between our check and our write.
      if (isUniqueViolation(error)) throw new ConflictError(`Experiment '${newName}' already exists.`);
      throw error;
    }
  }

  private async renameExperimentOnce(
    actor: string,
    project: string,
    experimentId: string,
    newName: string,
  ): Promise<void> {
    const name = newName?.trim();
    if (!name) throw missingParameter("new_name");
    await this.change(async (tx, record) => {
      const e = await this.requireExperiment(project, experimentId, tx);
      if (e.lifecycleStage !== "active")
        throw new InvalidInputError(`Cannot rename a non-active experiment ${experimentId}.`);
      const clash = await this.store.getExperimentByName(project, name, tx);
      if (clash && clash.experimentId !== e.experimentId)
        throw new ConflictError(`Experiment '${name}' already exists.`);
      await this.store.updateExperiment(project, e.experimentId, { name, lastUpdateTime: nowMs() }, tx);
      await record({
        actor,
        project,
        action: "tracking.experiment.rename",
        target: `experiment:${experimentId}`,
        summary: { from: e.name, to: name },
      });
    });
  }

  /** Soft delete: the experiment and its active runs move to `deleted` (restorable). */
  async setExperimentDeleted(actor: string, project: string, experimentId: string, deleted: boolean): Promise<void> {
    if (deleted && experimentId === DEFAULT_EXPERIMENT_ID)
      throw new InvalidInputError(
        "Cannot delete the default experiment '0'. This is an internally reserved experiment.",
      );
    await this.change(async (tx, record) => {
      const e = await this.requireExperiment(project, experimentId, tx);
      const stage = deleted ? "deleted" : "active";
      if (!deleted && e.lifecycleStage !== "deleted")
        throw new InvalidInputError(`Cannot restore an active experiment ${experimentId}.`);
      const now = nowMs();
      await this.store.updateExperiment(project, e.experimentId, { lifecycleStage: stage, lastUpdateTime: now }, tx);
      await this.store.setExperimentRunsStage(project, e.experimentId, stage, now, tx);
      await record({
        actor,
        project,
        action: deleted ? "tracking.experiment.delete" : "tracking.experiment.restore",
        target: `experiment:${experimentId}`,
      });
    });
  }

  async setExperimentTag(
    actor: string,
    project: string,
    experimentId: string,
    key: string,
    value: string | null,
  ): Promise<void> {
    validateKey("tag", key);
    const v = value === null ? null : validateValue("tag", key, value, LIMITS.tagValueLength);
    await this.change(async (tx, record) => {
      const e = await this.requireExperiment(project, experimentId, tx);
      if (e.lifecycleStage !== "active")
        throw new InvalidInputError(`The experiment ${experimentId} must be in the 'active' state.`);
      if (v === null) {
        if (!(await this.store.deleteExperimentTag(project, e.experimentId, key, tx)))
          throw new NotFoundError(`No tag with name: ${key} in experiment ${experimentId}.`);
      } else await this.store.setExperimentTag(project, e.experimentId, key, v, tx);
      await record({
        actor,
        project,
        action: v === null ? "tracking.experiment.tag.delete" : "tracking.experiment.tag.set",
        target: `experiment:${experimentId}`,
        summary: { key },
      });
    });
  }

  protected async requireExperiment(project: string, experimentId: string, tx?: Tx): Promise<Experiment> {
    const e = await this.store.getExperiment(project, String(experimentId), tx);
    if (!e) throw new NotFoundError(`No Experiment with id=${experimentId} exists`);
    return e;
  }
}
