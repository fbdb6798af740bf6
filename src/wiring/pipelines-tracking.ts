/**
 * The link from pipeline runs to tracking runs. Every tracking change is audited, and an audited
 * transaction costs an fsync of the audit head; a 200-step DAG would pay ~1 000 of them. So the
 * link gathers the calls that arrive together (steps finishing side by side, the step runs created
 * when a run starts) and writes each gathering in ONE audited transaction through the tracking
 * store, with one audit event naming every run it touched. Reads still go through TrackingService.
 */
import type { AuditEvent } from "../core/governance/model.js";
import { SYSTEM_USER } from "../core/governance/model.js";
import { audited, type RecordAudit } from "../core/governance/audited.js";
import type { Tx } from "../core/ports.js";
import { newId, nowMs } from "../core/ids.js";
import type { NewTrackingRun, TrackingLink } from "../core/pipelines/ports.js";
import type { Experiment, RunInfo } from "../core/tracking/model.js";
import { runArtifactUri, TAG_PARENT_RUN_ID, TAG_RUN_NAME } from "../core/tracking/model.js";
import type { Services } from "../server/services.js";
import { SqlTrackingStore } from "../stores/metadata/tracking-store.js";
import type { SqlMetadataStore } from "../stores/metadata/sql-metadata-store.js";

/** Collects calls made in the same tick (and while a flush runs) and executes them as one batch. */
class Batcher<T, R> {
  private queue: Array<{ item: T; resolve: (r: R) => void; reject: (e: unknown) => void }> = [];
  private running: Promise<void> | null = null;

  constructor(private readonly flush: (items: T[]) => Promise<R[]>) {}

  add(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.running) this.running = new Promise((r) => setImmediate(r)).then(() => this.drain());
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length) {
      const batch = this.queue.splice(0, 500);
      try {
        const results = await this.flush(batch.map((b) => b.item));
        batch.forEach((b, i) => b.resolve(results[i]!));
      } catch (error) {
        batch.forEach((b) => b.reject(error));
      }
    }
    this.running = null;
  }
}

/**
 * How often at most the link moves the external audit head (default 100 ms). Each move is two reads,
 * a lock file, a write and an fsync: ~4 ms of the driving process's CPU, which was a third of a
 * `true` step's cost when every step's batch moved it (200-step DAG, A/B at load 13: 0.75 s of 4.5 s).
 */
export const HEAD_INTERVAL_MS = 100;

/**
 * Moves the external audit head after batches have committed, off the batches' path and coalesced:
 * at most one move per HEAD_INTERVAL_MS, covering every batch committed before it. As for
 * TrackingService's logging, the head trails the chain, here by at most that interval's batches,
 * which `audit verify` accepts (a head behind the chain is fine; one ahead of it means events were
 * removed). A process killed in between leaves the head behind until the next audited change.
 */
class HeadAdvancer {
  private newest: AuditEvent | null = null;
  private advancing: Promise<void> | null = null;
  private lastMove = 0;
  private flushing = false;
  private wake: (() => void) | null = null;

  constructor(
    private readonly afterCommit: (event: AuditEvent) => Promise<void>,
    private readonly intervalMs = HEAD_INTERVAL_MS,
  ) {}

  advanceTo(event: AuditEvent): void {
    if (!this.newest || event.seq > this.newest.seq) this.newest = event;
    this.advancing ??= this.run();
  }

  private async run(): Promise<void> {
    try {
      while (this.newest) {
        const wait = this.lastMove + this.intervalMs - Date.now();
        if (wait > 0 && !this.flushing) {
          await new Promise<void>((resolve) => {
            // A waiting move does not keep the process alive; closers flush it (see below).
            const timer = setTimeout(resolve, wait);
            timer.unref();
            this.wake = () => (clearTimeout(timer), resolve());
          });
          this.wake = null;
        }
        const event = this.newest;
        this.newest = null;
        this.lastMove = Date.now();
        await this.afterCommit(event).catch(() => undefined);
      }
    } finally {
      this.advancing = null;
    }
  }

  /** Moves the head now, and resolves once it has caught up with every committed batch. */
  async flush(): Promise<void> {
    this.flushing = true;
    try {
      this.wake?.();
      while (this.advancing) await this.advancing;
    } finally {
      this.flushing = false;
    }
  }
}

type Op =
  | { kind: "tags"; project: string; runId: string; tags: Record<string, string> }
  | { kind: "params"; project: string; runId: string; params: Record<string, string> }
  | {
      kind: "metrics";
      project: string;
      runId: string;
      metrics: Array<{ key: string; value: number; step: number; timestamp: number }>;
    }
  | {
      kind: "finish";
      project: string;
      runId: string;
      status: "FINISHED" | "FAILED" | "KILLED";
      endTime: number;
      tags?: Record<string, string>;
    };

export function batchedTrackingLink(services: Services, sql: SqlMetadataStore): TrackingLink | undefined {
  const tracking = services.tracking;
  if (!tracking) return undefined;
  const store = new SqlTrackingStore(sql);
  const head = new HeadAdvancer((event) => services.audit.afterCommit(event));
  // The head catches up before the process ends (closers run before the store closes).
  services.closers.push(() => head.flush());
  /** A batch and its audit events in one transaction; the head moves after (see HeadAdvancer). */
  const auditedBatch = (fn: (tx: Tx, record: RecordAudit) => Promise<void>): Promise<void> =>
    audited(services.metadata, services.audit, fn, (newest) => head.advanceTo(newest));
  const experiments = new Map<string, Experiment>();
  const experimentFor = async (project: string, pipeline: string, actor: string): Promise<Experiment> => {
    const key = `${project}/${pipeline}`;
    let e = experiments.get(key);
    if (!e) {
      e = await tracking.getOrCreateExperiment(actor, project, `pipeline/${pipeline}`);
      experiments.set(key, e);
    }
    return e;
  };

  const creates = new Batcher<NewTrackingRun, string>(async (items) => {
    const infos: Array<{ info: RunInfo; item: NewTrackingRun }> = [];
    for (const item of items) {
      const e = await experimentFor(item.project, item.tags["tandem.pipeline"] ?? "pipeline", item.user);
      const runId = newId();
      infos.push({
        item,
        info: {
          runId,
          project: item.project,
          experimentId: e.experimentId,
          runName: item.name,
          userId: item.user,
          status: "RUNNING",
          startTime: nowMs(),
          endTime: null,
          lifecycleStage: "active",
          artifactUri: runArtifactUri(e, runId),
          parentRunId: item.parentRunId,
          deletedTime: null,
        },
      });
    }
    await auditedBatch(async (tx, record) => {
      for (const { info, item } of infos) {
        await store.insertRun(info, tx);
        const tags = {
          ...item.tags,
          [TAG_RUN_NAME]: item.name,
          ...(item.parentRunId ? { [TAG_PARENT_RUN_ID]: item.parentRunId } : {}),
        };
        await store.setTags(
          info.runId,
          Object.entries(tags).map(([key, value]) => ({ key, value })),
          tx,
        );
        const params = Object.entries(item.params).map(([key, value]) => ({ key, value }));
        if (params.length) await store.insertParams(info.runId, params, tx);
      }
      for (const project of new Set(infos.map((i) => i.info.project))) {
        const mine = infos.filter((i) => i.info.project === project);
        await record({
          actor: mine[0]!.item.user,
          project,
          action: "tracking.run.create",
          target: mine.length === 1 ? `run:${mine[0]!.info.runId}` : `runs:${mine.length}`,
          summary: {
            run_ids: mine.map((i) => i.info.runId),
            run_names: mine.map((i) => i.info.runName),
            source: "pipelines",
          },
        });
      }
    });
    return infos.map((i) => i.info.runId);
  });

  const ops = new Batcher<Op, void>(async (items) => {
    await auditedBatch(async (tx, record) => {
      for (const op of items) {
        switch (op.kind) {
          case "tags":
            await store.setTags(
              op.runId,
              Object.entries(op.tags).map(([key, value]) => ({ key, value })),
              tx,
            );
            break;
          case "params":
            await store.insertParams(
              op.runId,
              Object.entries(op.params).map(([key, value]) => ({ key, value })),
              tx,
            );
            break;
          case "metrics":
            await store.logMetrics(op.runId, op.metrics, tx);
            break;
          case "finish":
            if (op.tags)
              await store.setTags(
                op.runId,
                Object.entries(op.tags).map(([key, value]) => ({ key, value })),
                tx,
              );
            await store.updateRun(op.runId, { status: op.status, endTime: op.endTime }, tx);
            break;
        }
      }
      for (const project of new Set(items.map((o) => o.project))) {
        const mine = items.filter((o) => o.project === project);
        await record({
          actor: SYSTEM_USER,
          project,
          action: "tracking.run.log",
          target: `runs:${new Set(mine.map((o) => o.runId)).size}`,
          summary: {
            run_ids: [...new Set(mine.map((o) => o.runId))],
            ops: mine.map((o) => o.kind),
            source: "pipelines",
          },
        });
      }
    });
    return items.map(() => undefined);
  });

  return {
    createRun: (o) => creates.add(o),
    logParams: (project, runId, params) => ops.add({ kind: "params", project, runId, params }),
    setTags: (project, runId, tags) => ops.add({ kind: "tags", project, runId, tags }),
    logMetrics: (project, runId, metrics) => ops.add({ kind: "metrics", project, runId, metrics }),
    finishRun: (project, runId, status, endTime, tags) =>
      ops.add({ kind: "finish", project, runId, status, endTime, tags }),
    openChildRuns: async (parentRunId) =>
      (await store.listChildRuns(parentRunId)).filter((r) => r.status === "RUNNING").map((r) => r.runId),
  };
}
