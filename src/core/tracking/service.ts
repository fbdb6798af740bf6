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
import { assertNever, InvalidInputError, NotFoundError } from "../errors.js";
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
  type Experiment,
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
  missingParameter,
  truncatedValue,
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

/** Experiments remembered for one-statement run creation; the map is cleared when full. */
const KNOWN_EXPERIMENTS = 10_000;

/** A batch's params with each key once; the same key with two values is an error, as in MLflow. */
function distinctParamsOf(params: Array<{ key: string; value: string }>): Array<{ key: string; value: string }> {
  const seen = new Map<string, string>();
  for (const p of params) {
    const prior = seen.get(p.key);
    if (prior !== undefined && prior !== p.value)
      throw new InvalidInputError(
        `Duplicate parameter keys have been submitted: ['${p.key}']. Please ensure the request contains only one param value per param key.`,
      );
    seen.set(p.key, p.value);
  }
  return [...seen].map(([key, value]) => ({ key, value }));
}

function paramClash(runId: string, key: string, stored: string, value: string): InvalidInputError {
  return new InvalidInputError(
    `Changing param values is not allowed. Param with key='${key}' was already logged with value='${stored}' for run ID='${runId}'. Attempted logging new value '${value}'.`,
  );
}

export class TrackingService extends ExperimentService {
  /**
   * Experiments a run was created in, by project and id as the client named it: what run creation
   * needs of one (its id and artifact location) never changes, and Postgres's one-statement create
   * still checks that it is active. Per process; cleared when full.
   */
  private readonly knownExperiments = new Map<string, Experiment>();
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
    if (newest) this.advanceHeadTo(newest);
    return result;
  }

  /** Moves the external head to `event` after the reply, coalesced (see logChange). */
  private advanceHeadTo(event: AuditEvent): void {
    if (!this.newestUnadvanced || event.seq > this.newestUnadvanced.seq) this.newestUnadvanced = event;
    this.advancing ??= this.advanceHead();
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
    const tags = this.checkRunTags(Object.entries(input.tags ?? {}).map(([key, value]) => ({ key, value })));
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
    const newRun = (e: Experiment): RunInfo => {
      const runId = newId();
      return {
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
    };
    const event = (info: RunInfo) => ({
      actor,
      project,
      action: "tracking.run.create",
      target: `run:${info.runId}`,
      summary: { experiment_id: info.experimentId, run_name: runName, parent_run_id: parentRunId },
    });
    const runTags = Object.entries(tagMap).map(([key, value]) => ({ key, value }));
    // The new run is exactly what was written: no read back.
    const created = (info: RunInfo): Run => ({ info, params: {}, tags: { ...tagMap }, metrics: [], inputs: [] });

    // Postgres: one statement, when the experiment was seen before (its artifact location, which the
    // run's URI needs, never changes; the statement itself checks that it is still active).
    const known = this.knownExperiments.get(`${project}\n${experimentId}`);
    if (this.store.createRunAudited && known) {
      if (parentRunId) await this.requireParent(project, parentRunId);
      const info = newRun(known);
      const draft = this.audit.draft(event(info));
      const seq = await this.store.createRunAudited(info, runTags, draft);
      if (seq !== null) {
        this.advanceHeadTo({ ...draft, seq });
        return created(info);
      }
      this.knownExperiments.delete(`${project}\n${experimentId}`); // gone or not active: the general path says which
    }
    // The run is created with its audit event in one transaction; the audit head moves after the
    // reply, as for log-batch (see logChange): run creation is a training loop's hot path too (one per
    // trial), and the head's fsync and re-read were two of its round trips.
    return this.logChange(async (tx, record) => {
      const e = await this.experimentForNewRun(project, experimentId, tx);
      if (e.lifecycleStage !== "active")
        throw new InvalidInputError(
          `The experiment ${experimentId} must be in the 'active' state. Current state is ${e.lifecycleStage}.`,
        );
      if (parentRunId) await this.requireParent(project, parentRunId, tx);
      const info = newRun(e);
      await this.store.insertRun(info, tx);
      await this.store.setTags(info.runId, runTags, tx);
      await record(event(info));
      if (this.knownExperiments.size >= KNOWN_EXPERIMENTS) this.knownExperiments.clear();
      this.knownExperiments.set(`${project}\n${experimentId}`, e);
      return created(info);
    });
  }

  private async requireParent(project: string, parentRunId: string, tx?: Tx): Promise<void> {
    const parent = await this.store.getRunInfo(parentRunId, tx);
    if (!parent || parent.project !== project) throw new NotFoundError(`Run with id=${parentRunId} not found`);
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
    if (!run || run.info.project !== project) throw new NotFoundError(`Run with id=${runId} not found`);
    return run;
  }

  private checkRunId(runId: string | undefined): string {
    if (!runId) throw missingParameter("run_id");
    return runId;
  }

  private async requireRun(project: string, runId: string, tx: Tx, mustBeActive = true): Promise<RunInfo> {
    const info = await this.store.getRunInfo(this.checkRunId(runId), tx);
    if (!info || info.project !== project) throw new NotFoundError(`Run with id=${runId} not found`);
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
      value: truncatedValue("param", p.key, p.value, LIMITS.paramValueLength),
    }));
    const tags = this.checkRunTags(input.tags ?? []);
    validateBatchSizes(metrics.length, params.length, tags.length);
    const distinctParams = distinctParamsOf(params);
    const summary = { metrics: metrics.length, params: params.length, tags: tags.length };
    const event = { actor, project, action: "tracking.run.log", target: `run:${runId}`, summary };
    // Postgres: the whole batch and its audit event in one statement; tags that move a run column
    // (rare in a batch) take the general path.
    if (this.store.logBatchAudited && !tags.some((t) => t.key === TAG_RUN_NAME || t.key === TAG_PARENT_RUN_ID)) {
      this.checkRunId(runId);
      const draft = this.audit.draft(event);
      const outcome = await this.store.logBatchAudited(
        {
          project,
          runId,
          params: distinctParams,
          metrics,
          tags: [...new Map(tags.map((t) => [t.key, t]))].map(([, t]) => t),
        },
        draft,
      );
      switch (outcome.kind) {
        case "logged":
          this.advanceHeadTo({ ...draft, seq: outcome.auditSeq });
          return;
        case "param-clash":
          throw paramClash(
            runId,
            outcome.key,
            outcome.stored,
            distinctParams.find((p) => p.key === outcome.key)!.value,
          );
        case "not-written":
          break; // the general path says what is wrong, or settles the race
        default:
          assertNever(outcome);
      }
    }
    await this.logChange(async (tx, record) => {
      await this.requireRun(project, runId, tx);
      if (params.length) await this.logParams(runId, distinctParams, tx);
      if (metrics.length) await this.store.logMetrics(runId, metrics, tx);
      if (tags.length) await this.applyTags(runId, tags, tx);
      await record(event);
    });
  }

  private async logParams(runId: string, params: Array<{ key: string; value: string }>, tx: Tx): Promise<void> {
    // Insert first and look only at the keys that were already there: a batch of new params (the
    // usual case) is one statement, not a read and then a write.
    const inserted = new Set(await this.store.insertParams(runId, params, tx));
    const clashing = params.filter((p) => !inserted.has(p.key));
    if (clashing.length === 0) return;
    const existing = await this.store.getParams(
      runId,
      clashing.map((p) => p.key),
      tx,
    );
    for (const { key, value } of clashing) {
      if (existing[key] !== undefined && existing[key] !== value) throw paramClash(runId, key, existing[key], value);
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
    if (!key) throw missingParameter("metric_key");
    await this.getRunInfoIn(project, runId);
    const limit = validateMaxResults(q.maxResults, LIMITS.metricHistoryMaxResults, LIMITS.metricHistoryMaxResults);
    const offset = decodePageToken(q.pageToken);
    const rows = await this.store.metricHistory(runId, key, offset, limit + 1);
    return { items: rows.slice(0, limit), nextPageToken: rows.length > limit ? encodePageToken(offset + limit) : null };
  }

  async getRunInfoIn(project: string, runId: string): Promise<RunInfo> {
    const info = await this.store.getRunInfo(this.checkRunId(runId));
    if (!info || info.project !== project) throw new NotFoundError(`Run with id=${runId} not found`);
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
