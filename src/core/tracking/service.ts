/**
 * The tracking service: experiments, runs, params, metrics and tags. Routes (MLflow REST 2.0 and the
 * native API) and other areas call it; every state change is audited in its own transaction.
 *
 * For the Pipelines area — one tracking run per pipeline run, a child run per step run:
 *
 *   const exp = await tracking.getOrCreateExperiment(actor, project, `pipeline:${pipelineName}`);
 *   const parent = await tracking.createRun(actor, project, { experimentId: exp.experimentId, runName: pipelineRunId,
 *     tags: { "tandem.pipeline_run_id": pipelineRunId } });
 *   const child = await tracking.createRun(actor, project, { experimentId: exp.experimentId, runName: stepName,
 *     parentRunId: parent.info.runId, tags: { "tandem.step": stepName } });
 *   await tracking.logBatch(actor, project, child.info.runId, { params: [{ key, value }], metrics: [{ key, value,
 *     timestamp: nowMs(), step: 0 }], tags: [] });                       // MLflow's limits apply per call
 *   await tracking.updateRun(actor, project, child.info.runId, { status: "FINISHED", endTime: nowMs() });
 *
 * Give the step process `MLFLOW_RUN_ID=<child run id>` and `MLFLOW_TRACKING_URI=<server URL>`: MLflow code
 * inside the step then logs into that same run. `createRun`'s `parentRunId` also sets MLflow's
 * `mlflow.parentRunId` tag, so the MLflow UI and clients see the nesting.
 */
import { randomInt } from "node:crypto";
import type { RecordAudit } from "../governance/audited.js";
import type { AuditEvent } from "../governance/model.js";
import { InvalidInputError, NotFoundError } from "../errors.js";
import { newId, nowMs } from "../ids.js";
import type { Tx } from "../ports.js";
import { ExperimentService, type Page } from "./experiments-service.js";
import { parseFilter, parseOrderByList } from "./filter/parser.js";
import {
  DEFAULT_EXPERIMENT_ID,
  RUN_STATUSES,
  TAG_PARENT_RUN_ID,
  TAG_RUN_NAME,
  runArtifactUri,
  type DatasetInput,
  type MetricPoint,
  type Run,
  type RunInfo,
  type RunStatus,
  type ViewType,
} from "./model.js";
import { decodePageToken, encodePageToken } from "./paging.js";
import { decodeRunPageToken, encodeRunPageToken, runSortKey } from "./run-keyset.js";
import {
  LIMITS,
  validateBatchSizes,
  validateKey,
  validateMaxResults,
  validateMetric,
  validatePoint,
  validateValue,
} from "./validation.js";

export { isUniqueViolation, type Page, type TrackingServiceOptions } from "./experiments-service.js";

export interface CreateRunInput {
  experimentId?: string;
  runName?: string;
  userId?: string;
  /** Start time in ms (default now). */
  startTime?: number;
  tags?: Record<string, string>;
  parentRunId?: string;
}

export interface LogBatchInput {
  metrics?: MetricPoint[];
  params?: Array<{ key: string; value: string }>;
  tags?: Array<{ key: string; value: string }>;
}

const ADJECTIVES = [
  "amber",
  "brave",
  "calm",
  "eager",
  "gentle",
  "keen",
  "lucid",
  "merry",
  "nimble",
  "quiet",
  "rapid",
  "sunny",
];
const NOUNS = ["ant", "bee", "crane", "deer", "eel", "fox", "gull", "hare", "ibis", "lynx", "owl", "wren"];

/** MLflow names unnamed runs like `bright-fox-123`; so do we, so UIs never show an empty name. */
export function generateRunName(): string {
  return `${ADJECTIVES[randomInt(ADJECTIVES.length)]}-${NOUNS[randomInt(NOUNS.length)]}-${randomInt(1000)}`;
}

export function isRunStatus(value: string): value is RunStatus {
  return (RUN_STATUSES as readonly string[]).includes(value);
}

export class TrackingService extends ExperimentService {
  private newestUnadvanced: AuditEvent | null = null;
  private advancing: Promise<void> | null = null;

  /**
   * For logging (log-batch and its single-value twins): the audit event is written in the same
   * transaction as always, but the external audit head (a file written with fsync) is advanced after
   * the reply, coalesced across concurrent batches. The fsync cost ~3.5 ms per request — as much as
   * SQLite's work for 1000 points — and a training loop logs thousands of times. The head trails the
   * chain by at most the batches in flight, which `audit verify` accepts (a head behind the chain is
   * fine; one ahead of it means events were removed).
   */
  private async logChange<T>(fn: (tx: Tx, record: RecordAudit) => Promise<T>): Promise<T> {
    let newest: AuditEvent | undefined;
    const result = await this.metadata.transaction(async (tx) =>
      fn(tx, async (event) => {
        newest = await this.audit.record(tx, event);
      }),
    );
    if (newest && (!this.newestUnadvanced || newest.seq > this.newestUnadvanced.seq)) this.newestUnadvanced = newest;
    this.advancing ??= this.advanceHead();
    return result;
  }

  private async advanceHead(): Promise<void> {
    try {
      while (this.newestUnadvanced) {
        const event = this.newestUnadvanced;
        this.newestUnadvanced = null;
        await this.audit.afterCommit(event).catch(() => undefined);
      }
    } finally {
      this.advancing = null;
    }
  }

  /** Resolves once the external audit head has caught up with every logged batch (tests, shutdown). */
  async flushAuditHead(): Promise<void> {
    while (this.advancing) await this.advancing;
  }

  // ---- runs

  async createRun(actor: string, project: string, input: CreateRunInput): Promise<Run> {
    const experimentId = input.experimentId ? String(input.experimentId) : DEFAULT_EXPERIMENT_ID;
    const tags = this.checkTags(Object.entries(input.tags ?? {}).map(([key, value]) => ({ key, value })));
    const tagMap = Object.fromEntries(tags.map((t) => [t.key, t.value]));
    const runName = validateValue(
      "run",
      "name",
      input.runName || tagMap[TAG_RUN_NAME] || generateRunName(),
      LIMITS.runNameLength,
    );
    tagMap[TAG_RUN_NAME] = runName;
    const parentRunId = input.parentRunId ?? tagMap[TAG_PARENT_RUN_ID] ?? null;
    if (parentRunId) tagMap[TAG_PARENT_RUN_ID] = parentRunId;
    // The run is created with its audit event in one transaction; the audit head moves after the
    // reply, as for log-batch (see logChange): run creation is a training loop's hot path too (one per
    // trial), and the head's fsync and re-read were two of its round trips.
    return this.logChange(async (tx, record) => {
      const e = await this.experimentForNewRun(project, experimentId, tx);
      if (e.lifecycleStage !== "active")
        throw new InvalidInputError(
          `The experiment ${experimentId} must be in the 'active' state. Current state is ${e.lifecycleStage}.`,
        );
      if (parentRunId) {
        const parent = await this.store.getRunInfo(parentRunId, tx);
        if (!parent || parent.project !== project) throw new NotFoundError(`Run '${parentRunId}' not found`);
      }
      const runId = newId();
      const info: RunInfo = {
        runId,
        project,
        experimentId: e.experimentId,
        runName,
        userId: input.userId ?? actor,
        status: "RUNNING",
        startTime: input.startTime ?? nowMs(),
        endTime: null,
        lifecycleStage: "active",
        artifactUri: runArtifactUri(e, runId),
        parentRunId,
        deletedTime: null,
      };
      await this.store.insertRun(info, tx);
      await this.store.setTags(
        runId,
        Object.entries(tagMap).map(([key, value]) => ({ key, value })),
        tx,
      );
      await record({
        actor,
        project,
        action: "tracking.run.create",
        target: `run:${runId}`,
        summary: { experiment_id: e.experimentId, run_name: runName, parent_run_id: parentRunId },
      });
      // The new run is exactly what was just written: no read back.
      return { info, params: {}, tags: { ...tagMap }, metrics: [], inputs: [] };
    });
  }

  /**
   * The experiment a run is created in. "Default" is made here, in the run's transaction, only when
   * it is missing: ensuring it before every create was a statement per run for a row made once.
   */
  private async experimentForNewRun(project: string, experimentId: string, tx: Tx) {
    let e = await this.store.getExperiment(project, experimentId, tx);
    if (!e && experimentId === DEFAULT_EXPERIMENT_ID) {
      await this.store.ensureExperiment(this.defaultExperiment(project), tx);
      e = await this.store.getExperiment(project, experimentId, tx);
    }
    if (!e) throw new NotFoundError(`No Experiment with id=${experimentId} exists`);
    return e;
  }

  async getRun(project: string, runId: string): Promise<Run> {
    const [run] = await this.store.getRuns([this.checkRunId(runId)]);
    if (!run || run.info.project !== project) throw new NotFoundError(`Run '${runId}' not found`);
    return run;
  }

  private checkRunId(runId: string | undefined): string {
    if (!runId) throw new InvalidInputError("Missing value for required parameter 'run_id'");
    return runId;
  }

  private async requireRun(project: string, runId: string, tx: Tx, mustBeActive = true): Promise<RunInfo> {
    const info = await this.store.getRunInfo(this.checkRunId(runId), tx);
    if (!info || info.project !== project) throw new NotFoundError(`Run '${runId}' not found`);
    if (mustBeActive && info.lifecycleStage !== "active") {
      throw new InvalidInputError(
        `The run ${runId} must be in the 'active' state. Current state is ${info.lifecycleStage}.`,
      );
    }
    return info;
  }

  async updateRun(
    actor: string,
    project: string,
    runId: string,
    patch: { status?: string; endTime?: number | null; runName?: string },
  ): Promise<RunInfo> {
    if (patch.status !== undefined && !isRunStatus(patch.status))
      throw new InvalidInputError(`Invalid run status '${patch.status}' (valid: ${RUN_STATUSES.join(", ")})`);
    const status = patch.status as RunStatus | undefined;
    return this.change(async (tx, record) => {
      const info = await this.requireRun(project, runId, tx);
      const runName = patch.runName ? validateValue("run", "name", patch.runName, LIMITS.runNameLength) : undefined;
      // A run that reaches a final state without an end time gets "now", as MLflow's client sends.
      const final = status !== undefined && status !== "RUNNING" && status !== "SCHEDULED";
      const endTime =
        patch.endTime !== undefined && patch.endTime !== null
          ? patch.endTime
          : final
            ? (info.endTime ?? nowMs())
            : undefined;
      await this.store.updateRun(runId, { status, endTime, runName }, tx);
      if (runName) await this.store.setTags(runId, [{ key: TAG_RUN_NAME, value: runName }], tx);
      await record({
        actor,
        project,
        action: "tracking.run.update",
        target: `run:${runId}`,
        summary: { status, run_name: runName },
      });
      return {
        ...info,
        status: status ?? info.status,
        endTime: endTime ?? info.endTime,
        runName: runName ?? info.runName,
      };
    });
  }

  async setRunDeleted(actor: string, project: string, runId: string, deleted: boolean): Promise<void> {
    await this.change(async (tx, record) => {
      const info = await this.requireRun(project, runId, tx, false);
      await this.store.updateRun(
        runId,
        { lifecycleStage: deleted ? "deleted" : "active", deletedTime: deleted ? nowMs() : null },
        tx,
      );
      await record({
        actor,
        project,
        action: deleted ? "tracking.run.delete" : "tracking.run.restore",
        target: `run:${info.runId}`,
      });
    });
  }

  async logBatch(actor: string, project: string, runId: string, input: LogBatchInput): Promise<void> {
    // A batch repeats few keys (20 metrics × 50 steps); check each key once, not per point.
    const checkedKeys = new Set<string>();
    const metrics = (input.metrics ?? []).map((m) => {
      const point = { key: m.key, value: m.value === 0 ? 0 : m.value, timestamp: m.timestamp, step: m.step ?? 0 };
      if (checkedKeys.has(m.key)) return validatePoint(point);
      checkedKeys.add(m.key);
      return validateMetric(point);
    });
    const params = (input.params ?? []).map((p) => ({
      key: validateKey("param", p.key),
      value: validateValue("param", p.key, p.value, LIMITS.paramValueLength),
    }));
    const tags = this.checkTags(input.tags ?? []);
    validateBatchSizes(metrics.length, params.length, tags.length);
    await this.logChange(async (tx, record) => {
      await this.requireRun(project, runId, tx);
      if (params.length) await this.logParams(runId, params, tx);
      if (metrics.length) await this.store.logMetrics(runId, metrics, tx);
      if (tags.length) await this.applyTags(runId, tags, tx);
      await record({
        actor,
        project,
        action: "tracking.run.log",
        target: `run:${runId}`,
        summary: { metrics: metrics.length, params: params.length, tags: tags.length },
      });
    });
  }

  private async logParams(runId: string, params: Array<{ key: string; value: string }>, tx: Tx): Promise<void> {
    const seen = new Map<string, string>();
    for (const p of params) {
      const prior = seen.get(p.key);
      if (prior !== undefined && prior !== p.value)
        throw new InvalidInputError(`Duplicate parameter keys with different values in the batch: '${p.key}'`);
      seen.set(p.key, p.value);
    }
    // Insert first and look only at the keys that were already there: a batch of new params (the
    // usual case) is one statement, not a read and then a write.
    const inserted = new Set(
      await this.store.insertParams(
        runId,
        [...seen].map(([key, value]) => ({ key, value })),
        tx,
      ),
    );
    const clashing = [...seen.keys()].filter((key) => !inserted.has(key));
    if (clashing.length === 0) return;
    const existing = await this.store.getParams(runId, clashing, tx);
    for (const key of clashing) {
      const value = seen.get(key)!;
      if (existing[key] !== undefined && existing[key] !== value) {
        throw new InvalidInputError(
          `Changing param values is not allowed. Param with key='${key}' was already logged with value='${existing[key]}' for run ID='${runId}'. Attempted logging new value '${value}'.`,
        );
      }
    }
  }

  /** Tags MLflow gives meaning to also move the run's own columns. */
  private async applyTags(runId: string, tags: Array<{ key: string; value: string }>, tx: Tx): Promise<void> {
    await this.store.setTags(runId, tags, tx);
    for (const t of tags) {
      if (t.key === TAG_RUN_NAME) await this.store.updateRun(runId, { runName: t.value }, tx);
      if (t.key === TAG_PARENT_RUN_ID) await this.store.updateRun(runId, { parentRunId: t.value || null }, tx);
    }
  }

  async deleteTag(actor: string, project: string, runId: string, key: string): Promise<void> {
    await this.change(async (tx, record) => {
      await this.requireRun(project, runId, tx);
      if (!(await this.store.deleteTag(runId, key, tx)))
        throw new NotFoundError(`No tag with name: ${key} in run with id ${runId}`);
      await record({ actor, project, action: "tracking.run.tag.delete", target: `run:${runId}`, summary: { key } });
    });
  }

  async logInputs(actor: string, project: string, runId: string, inputs: DatasetInput[]): Promise<void> {
    for (const i of inputs) {
      if (!i.dataset?.name || !i.dataset.digest)
        throw new InvalidInputError("Each dataset input needs dataset.name and dataset.digest");
      if (i.dataset.name.length > 500 || i.dataset.digest.length > 36)
        throw new InvalidInputError("dataset name (500) or digest (36) is too long");
    }
    await this.change(async (tx, record) => {
      await this.requireRun(project, runId, tx);
      await this.store.logInputs(runId, inputs, tx);
      await record({
        actor,
        project,
        action: "tracking.run.inputs",
        target: `run:${runId}`,
        summary: { datasets: inputs.length },
      });
    });
  }

  async metricHistory(
    project: string,
    runId: string,
    key: string,
    q: { pageToken?: string; maxResults?: number } = {},
  ): Promise<Page<MetricPoint>> {
    if (!key) throw new InvalidInputError("Missing value for required parameter 'metric_key'");
    await this.getRunInfoIn(project, runId);
    const limit = validateMaxResults(q.maxResults, LIMITS.metricHistoryMaxResults, LIMITS.metricHistoryMaxResults);
    const offset = decodePageToken(q.pageToken);
    const rows = await this.store.metricHistory(runId, key, offset, limit + 1);
    return { items: rows.slice(0, limit), nextPageToken: rows.length > limit ? encodePageToken(offset + limit) : null };
  }

  async getRunInfoIn(project: string, runId: string): Promise<RunInfo> {
    const info = await this.store.getRunInfo(this.checkRunId(runId));
    if (!info || info.project !== project) throw new NotFoundError(`Run '${runId}' not found`);
    return info;
  }

  async searchRuns(
    project: string,
    q: {
      experimentIds?: string[];
      filter?: string;
      orderBy?: string[];
      viewType?: ViewType;
      maxResults?: number;
      pageToken?: string;
    },
  ): Promise<Page<Run>> {
    const clauses = parseFilter(q.filter);
    const orderBy = parseOrderByList(q.orderBy);
    const limit = validateMaxResults(q.maxResults, LIMITS.searchRunsDefault, LIMITS.searchRunsMaxResults);
    const experimentIds = (q.experimentIds ?? []).map(String);
    const shape = { project, experimentIds, clauses, orderBy, viewType: q.viewType ?? "ACTIVE_ONLY" } as const;
    // Keyset tokens (run-keyset.ts); an offset token of an older server still reads as its offset.
    const after = decodeRunPageToken(q.pageToken, shape);
    const offset = after ? 0 : decodePageToken(q.pageToken);
    // One extra row tells whether a next page exists without a COUNT(*).
    const runs = await this.store.searchRuns({ ...shape, offset, limit: limit + 1, ...(after ? { after } : {}) });
    const items = runs.slice(0, limit);
    const last = items[items.length - 1];
    return {
      items,
      nextPageToken: runs.length > limit && last ? encodeRunPageToken(shape, runSortKey(last, orderBy)) : null,
    };
  }

  async childRuns(project: string, parentRunId: string): Promise<RunInfo[]> {
    await this.getRunInfoIn(project, parentRunId);
    return this.store.listChildRuns(parentRunId);
  }
}
