/**
 * The pipelines service: runs (start, cancel, retry, resume), logs, and the drivers this process
 * runs; its `specs` validate, apply and keep the spec versions (spec-service.ts). Every state change a user asks for is audited; the progress of a run
 * (step states) is recorded in the run itself.
 */
import { RunArtifacts } from "./run-artifacts.js";
import { PipelineSpecs } from "./spec-service.js";
import { ConflictError, InvalidInputError, NotFoundError } from "../errors.js";
import type { AuditLog } from "../governance/audit.js";
import { audited } from "../governance/audited.js";
import { SYSTEM_USER, type Role } from "../governance/model.js";
import { newId, nowMs } from "../ids.js";
import type { MetadataStore } from "../ports.js";
import { explainCache, type CacheExplanation } from "./cache-explain.js";
import type { EngineDeps } from "./engine/deps.js";
import { RunDriver } from "./engine/driver.js";
import { planRun } from "./engine/plan.js";
import {
  isTerminalRun,
  type LogChunk,
  type PipelineRun,
  type RunCode,
  type RunStatus,
  type SpecVersion,
  type StepRun,
  type TriggerInfo,
} from "./model.js";
import { resolveParams } from "./params.js";
import { personBehindRun, type PersonBehind } from "./person.js";
import { prepareCommitRun, workspaceCode, type CommitRequest } from "./run-code.js";
import { findStepInstance } from "./step-instances.js";
import { specPlaces } from "./spec/load.js";
import type { Scalar } from "./spec/names.js";

export interface StartRunInput {
  pipeline: string;
  params?: Record<string, unknown>;
  noCache?: boolean;
  /** (default: the server's `concurrency`, its number of cores) */
  concurrency?: number;
  /** (default: the spec version's workspace) */
  workspace?: string | null;
  trigger?: TriggerInfo;
  /** (default: the latest) */
  specVersion?: number;
  /**
   * The person behind the run (default: the actor, unless the actor is `system`). Triggers pass the
   * spec's applier (schedule, data, alert) or the mapped git pusher (null when unknown).
   */
  triggeredBy?: string | null;
  /** Run this commit: a clean checkout with the commit's own tandem.yaml, stored as a spec version. */
  at?: CommitRequest;
  /**
   * The role of whoever a run of a commit acts for (the caller, or the mapped pusher), checked against
   * the commit's `policies:` as `tandem apply` would (default: none, so only unchanged policies pass).
   */
  role?: Role | null;
  /**
   * The key of the event that starts this run (triggers): recorded in the run's own transaction, so
   * a key seen before starts nothing, and a crash leaves both the event and its run or neither (an
   * event recorded first and a run started after would be lost to a crash in between).
   */
  eventKey?: string;
}

/** What became of a start: the run, or why there is none. */
export type StartOutcome = { run: PipelineRun; reason?: undefined } | { run: null; reason: "duplicate" | "skipped" };

export interface PipelineServiceOptions {
  metadata: MetadataStore;
  audit: AuditLog;
  engine: EngineDeps;
  /** Default parallel steps per run (default: the number of cores). */
  concurrency: number;
  /** Whether a lease owner (`host:pid:…`) is a live process; only answerable for this host. */
  ownerAlive(owner: string): boolean;
}

export type RunWithSteps = PipelineRun & { steps: StepRun[] };

export class PipelineService {
  private readonly drivers = new Map<string, { driver: RunDriver; done: Promise<unknown> }>();
  private readonly stop = new AbortController();

  /** The project's specs: validate, apply, stored versions (spec-service.ts). */
  readonly specs: PipelineSpecs;

  /** Blobs of a run for its remote steps (`tandem step-agent`), with the run's own token only. */
  readonly runArtifacts: RunArtifacts;

  constructor(private readonly o: PipelineServiceOptions) {
    this.runArtifacts = new RunArtifacts(o.engine.store, o.engine.artifacts);
    this.specs = new PipelineSpecs(o);
  }

  get store() {
    return this.o.engine.store;
  }

  // ---- Runs --------------------------------------------------------------------------------

  /**
   * Creates a run and starts driving it in this process. Concurrency policy: `queue` (default)
   * waits for earlier runs, `skip` refuses while one is active, `cancel-previous` cancels them.
   * Returns null when `skip` dropped it.
   */
  async startRun(actor: string, project: string, input: StartRunInput): Promise<PipelineRun | null> {
    return (await this.start(actor, project, input)).run;
  }

  /** startRun, saying why no run started: a duplicate event key, or the pipeline's `skip` policy. */
  async start(actor: string, project: string, input: StartRunInput): Promise<StartOutcome> {
    const id = newId();
    let v: SpecVersion;
    let workspace: string | null;
    let code: RunCode | null;
    if (input.at) {
      // The project may have no spec yet: the commit brings its own.
      const base =
        input.specVersion === undefined
          ? await this.store.latestSpec(project)
          : await this.specs.version(project, input.specVersion);
      ({ v, workspace, code } = await this.prepareCommit(actor, project, id, { ...input, at: input.at }, base));
    } else {
      v = await this.specs.version(project, input.specVersion);
      workspace = input.workspace === undefined ? v.workspace : input.workspace;
      code = await workspaceCode(this.o.engine.git, workspace);
    }
    const pipeline = this.specs.pipelineOf(v, input.pipeline);
    const params = resolveParams(pipeline, input.params ?? {}, `pipeline ${input.pipeline}`);
    const concurrency = input.concurrency ?? this.o.concurrency;
    if (!Number.isInteger(concurrency) || concurrency < 1)
      throw new InvalidInputError("concurrency must be a positive integer");
    const policy = pipeline.concurrency ?? "queue";
    const run: PipelineRun = {
      id,
      project,
      pipeline: input.pipeline,
      specVersion: v.version,
      status: "queued",
      params: params as Record<string, Scalar>,
      trigger: input.trigger ?? { kind: "manual" },
      noCache: input.noCache ?? false,
      concurrency,
      workspace,
      envDigest: null,
      code,
      createdAt: nowMs(),
      createdBy: actor,
      triggeredBy: input.triggeredBy !== undefined ? input.triggeredBy : actor === SYSTEM_USER ? null : actor,
      startedAt: null,
      finishedAt: null,
      error: null,
      cancelRequested: false,
      leaseOwner: this.o.engine.owner,
      leaseExpiresAt: nowMs() + this.o.engine.leaseMs,
      trackingRunId: null,
    };
    const steps = planRun(id, pipeline);
    const created = await audited(this.o.metadata, this.o.audit, async (tx, record) => {
      if (
        input.eventKey !== undefined &&
        !(await this.store.recordTriggerEvent(project, input.eventKey, id, nowMs(), tx))
      )
        return "duplicate" as const;
      const active = await this.store.listRuns(
        { project, pipeline: input.pipeline, status: ["queued", "running"], limit: 100 },
        tx,
      );
      if (active.length && policy === "skip") return "skipped" as const;
      if (policy === "cancel-previous") {
        for (const a of active) await this.store.updateRun(a.id, { cancelRequested: true }, tx);
      }
      await this.store.insertRun(run, steps, tx);
      await record({
        actor,
        project,
        action: "pipeline.run",
        target: `pipeline-run:${id}`,
        summary: {
          pipeline: input.pipeline,
          spec_version: v.version,
          trigger: run.trigger.kind,
          triggered_by: run.triggeredBy,
          params,
          no_cache: run.noCache,
          commit: code?.commit ?? null,
          ...(code?.dirty ? { dirty: true } : {}),
        },
      });
      if (policy === "cancel-previous") for (const a of active) this.drivers.get(a.id)?.driver.cancel();
      return true;
    });
    if (created !== true) {
      if (code?.checkout) await this.o.engine.git?.release(id);
      return { run: null, reason: created };
    }
    this.drive(run, steps, v, { checkedOut: code?.checkout !== null && !code?.error });
    return { run };
  }

  /** See prepareCommitRun (run-code.ts). */
  private prepareCommit(
    actor: string,
    project: string,
    runId: string,
    input: StartRunInput & { at: CommitRequest },
    base: SpecVersion | null,
  ): Promise<{ v: SpecVersion; workspace: string | null; code: RunCode }> {
    return prepareCommitRun(
      {
        git: this.o.engine.git,
        parsedSpec: (v) => this.specs.parsed(v),
        validate: (source, file) => this.specs.load(source, file),
        checkRepository: (spec, file) => this.specs.checkRepository(spec, file),
        checkPolicies: (who, spec) => this.specs.policyGate?.check(who, project, spec) ?? Promise.resolve(),
        storeSpec: (input) => this.specs.storeVersion(actor, project, input),
      },
      { actor, project, runId, base, ...input },
    );
  }

  private drive(run: PipelineRun, steps: StepRun[], v: SpecVersion, options: { checkedOut?: boolean } = {}): void {
    const driver = new RunDriver(this.o.engine, run, this.specs.pipelineOf(v, run.pipeline), steps, {
      locate: specPlaces(v.source, v.file),
      checkedOut: options.checkedOut ?? false,
    });
    const done = driver
      .drive({ signal: this.stop.signal, specDigest: v.digest })
      .catch(async (error: unknown) => {
        await this.store
          .updateRun(run.id, {
            status: "failed",
            error: `driver failed: ${(error as Error).message}`,
            finishedAt: nowMs(),
          })
          .catch(() => undefined);
      })
      .finally(() => this.drivers.delete(run.id));
    this.drivers.set(run.id, { driver, done });
  }

  /** The person behind a run and why (see person.ts); NotFoundError when the run is not in `project`. */
  async personBehind(project: string, id: string): Promise<PersonBehind> {
    const run = await this.store.getRun(id);
    if (!run || run.project !== project) throw new NotFoundError(`pipeline run ${id} not found in project ${project}`);
    return personBehindRun(run);
  }

  async getRun(project: string, id: string): Promise<RunWithSteps> {
    const run = await this.store.getRun(id);
    if (!run || run.project !== project) throw new NotFoundError(`pipeline run ${id} not found in project ${project}`);
    return { ...run, steps: await this.store.getSteps(id) };
  }

  /** Why step `step` of run `id` was or was not a cache hit, part by part (`tandem runs show --cache`). */
  async explainCache(project: string, id: string, step: string): Promise<CacheExplanation> {
    const run = await this.getRun(project, id);
    const s = findStepInstance(id, run.steps, step);
    // 50 earlier keys are plenty to find the nearest; a step's history beyond that rarely explains a miss.
    const earlier = await this.store.earlierSteps({
      project,
      pipeline: run.pipeline,
      name: s.name,
      before: run.createdAt,
      limit: 50,
    });
    return explainCache(s, earlier);
  }

  listRuns(project: string, options: { pipeline?: string; status?: PipelineRun["status"][]; limit?: number }) {
    return this.store.listRuns({
      project,
      pipeline: options.pipeline,
      status: options.status,
      limit: options.limit ?? 50,
    });
  }

  async logs(
    project: string,
    id: string,
    options: { afterSeq?: number; step?: string; limit?: number },
  ): Promise<{ chunks: Array<LogChunk & { step: string }>; run: PipelineRun }> {
    const run = await this.getRun(project, id);
    let stepId: string | undefined;
    if (options.step !== undefined) {
      stepId = findStepInstance(id, run.steps, options.step).id;
    }
    const names = new Map(run.steps.map((s) => [s.id, s.name]));
    const chunks = await this.store.readLogs(id, { afterSeq: options.afterSeq, stepId, limit: options.limit ?? 1000 });
    return { chunks: chunks.map((c) => ({ ...c, step: names.get(c.stepId) ?? c.stepId })), run };
  }

  async cancel(actor: string, project: string, id: string): Promise<PipelineRun> {
    const run = await this.getRun(project, id);
    if (isTerminalRun(run.status)) throw new ConflictError(`pipeline run ${id} already ended (${run.status})`);
    await audited(this.o.metadata, this.o.audit, async (tx, record) => {
      await this.store.updateRun(id, { cancelRequested: true }, tx);
      await record({
        actor,
        project,
        action: "pipeline.cancel",
        target: `pipeline-run:${id}`,
        summary: { pipeline: run.pipeline },
      });
    });
    const local = this.drivers.get(id);
    if (local) local.driver.cancel();
    else if (
      !run.leaseExpiresAt ||
      run.leaseExpiresAt < nowMs() ||
      (run.leaseOwner && !this.o.ownerAlive(run.leaseOwner))
    ) {
      // Nobody drives it: end it here.
      for (const s of run.steps) {
        if (s.status === "pending" || s.status === "running")
          await this.store.updateStep(s.id, { status: "cancelled", error: "run cancelled", finishedAt: nowMs() });
      }
      await this.store.updateRun(id, { status: "cancelled", error: "cancelled", finishedAt: nowMs() });
    }
    return (await this.store.getRun(id))!;
  }

  /** Reruns the failed and cancelled steps of an ended run; what succeeded is kept. */
  async retry(actor: string, project: string, id: string): Promise<PipelineRun> {
    const run = await this.getRun(project, id);
    if (!isTerminalRun(run.status)) throw new ConflictError(`pipeline run ${id} is still ${run.status}`);
    if (run.status === "succeeded") throw new ConflictError(`pipeline run ${id} succeeded; there is nothing to retry`);
    const again = run.steps.filter((s) => s.status === "failed" || s.status === "cancelled" || s.status === "pending");
    await audited(this.o.metadata, this.o.audit, async (tx, record) => {
      for (const s of again)
        await this.store.updateStep(
          s.id,
          { status: "pending", error: null, finishedAt: null, exitCode: null, trackingRunId: null },
          tx,
        );
      await this.store.updateRun(
        id,
        {
          status: "queued",
          cancelRequested: false,
          finishedAt: null,
          error: null,
          leaseOwner: this.o.engine.owner,
          leaseExpiresAt: nowMs() + this.o.engine.leaseMs,
        },
        tx,
      );
      await record({
        actor,
        project,
        action: "pipeline.retry",
        target: `pipeline-run:${id}`,
        summary: { steps: again.map((s) => s.name) },
      });
    });
    await this.resumeOwned(id);
    return (await this.store.getRun(id))!;
  }

  /**
   * Takes over a run whose driver died (`tandem run --resume ID`): allowed when its lease expired or
   * its owner is a dead process on this host.
   */
  async resume(actor: string, project: string, id: string): Promise<PipelineRun> {
    const run = await this.getRun(project, id);
    if (isTerminalRun(run.status))
      throw new ConflictError(`pipeline run ${id} already ended (${run.status}); use retry to rerun its failed steps`);
    if (this.drivers.has(id)) return run;
    const now = nowMs();
    const stale = run.leaseOwner && !this.o.ownerAlive(run.leaseOwner) ? run.leaseOwner : null;
    const ok = await this.store.claimRun(id, this.o.engine.owner, now + this.o.engine.leaseMs, now, stale);
    if (!ok) {
      throw new ConflictError(
        `pipeline run ${id} is being driven by ${run.leaseOwner} (lease until ${new Date(run.leaseExpiresAt ?? 0).toISOString()}); try again after it expires`,
      );
    }
    await audited(this.o.metadata, this.o.audit, async (_tx, record) => {
      await record({
        actor,
        project,
        action: "pipeline.resume",
        target: `pipeline-run:${id}`,
        summary: { previous_owner: run.leaseOwner },
      });
    });
    await this.resumeOwned(id);
    return (await this.store.getRun(id))!;
  }

  private async resumeOwned(id: string): Promise<void> {
    const run = (await this.store.getRun(id))!;
    const v = await this.specs.version(run.project, run.specVersion);
    this.drive(run, await this.store.getSteps(id), v);
  }

  /**
   * Finds runs whose driver died — lease expired, or its owner is a dead process on this host — and
   * takes them over; `tandem server` calls this on start and then every few seconds.
   */
  async recoverOrphans(): Promise<string[]> {
    const now = nowMs();
    const taken: string[] = [];
    for (const run of await this.store.unfinishedRuns(100)) {
      if (this.drivers.has(run.id)) continue;
      const expired = run.leaseExpiresAt === null || run.leaseExpiresAt < now;
      const stale = run.leaseOwner && !this.o.ownerAlive(run.leaseOwner) ? run.leaseOwner : null;
      if (!expired && !stale) continue;
      if (!(await this.store.claimRun(run.id, this.o.engine.owner, now + this.o.engine.leaseMs, now, stale))) continue;
      await this.resumeOwned(run.id);
      taken.push(run.id);
    }
    return taken;
  }

  /**
   * A run this process drives, as its driver holds it now (no store read): its status and its steps
   * in plan order. Null once the driver is done, or when another process drives the run.
   */
  liveRun(id: string): { status: RunStatus; pipeline: string; steps: readonly StepRun[] } | null {
    return this.drivers.get(id)?.driver.snapshot() ?? null;
  }

  /** Resolves when this process's driver of `id` (if any) is done. */
  async settled(id: string): Promise<void> {
    await this.drivers.get(id)?.done;
  }

  /** Stops every driver in this process; their runs are left for a successor to resume. */
  async close(): Promise<void> {
    this.stop.abort();
    await Promise.allSettled([...this.drivers.values()].map((d) => d.done));
  }
}
