/**
 * Drives one pipeline run to its end while holding its lease: waits its turn (concurrency policy
 * `queue`), takes over steps a dead driver left `running`, starts every step whose dependencies are
 * done, up to the run's concurrency, and renews its lease (and looks for a cancel request) every
 * heartbeat. If the lease is lost — another process decided this one was dead — it stops at once
 * and writes nothing more: the new owner is in charge.
 */
import { nowMs } from "../../ids.js";
import type { PipelineRun, RunStatus, StepRun } from "../model.js";
import { RELEASED, type LockStep } from "../ports.js";
import type { PipelineSpec } from "../spec/schema.js";
import type { EngineDeps } from "./deps.js";
import { executeStep, type PretrackedRun } from "./execute.js";
import { endOrphanedTracking } from "./orphan-tracking.js";
import { createHash } from "node:crypto";
import type { SpecPath } from "../spec/positions.js";
import { canonicalJson } from "./cache-key.js";
import { RunEnvironment } from "./environment.js";
import { referencedParams, renderStep, type StepScope } from "./scope.js";
import { DeferredBookkeeping } from "./deferred.js";
import { takeOverSteps } from "./takeover.js";
import { EarlyHolds, earlyJob } from "./speculate.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface DriveOptions {
  /** Aborts when this process shuts down: steps are stopped, the lease is released for a successor. */
  signal: AbortSignal;
  specDigest: string;
}

export interface RunDriverOptions {
  /** `tandem.yaml:12:9: <field>` for a path in the run's spec (errors in steps name it). */
  locate?: (path: SpecPath) => string;
  /**
   * The run's commit is checked out already (just started). Otherwise a run of a commit checks it out
   * again: taken over or retried, possibly in another process (default false).
   */
  checkedOut?: boolean;
}

export class RunDriver {
  private readonly steps = new Map<string, StepRun>();
  private readonly byStep = new Map<string, StepRun[]>();
  private readonly abort = new AbortController();
  private lostLease = false;
  private shuttingDown = false;
  private cancelRequested = false;
  /** Bookkeeping of finished steps that dependants need not wait for (execute.ts `Defer`). */
  private readonly deferred = new DeferredBookkeeping();
  /** Step tracking runs created ahead of the steps, in plan order, so no step waits for one. */
  private readonly pretracked = new Map<string, PretrackedRun>();
  /** Remote steps taken over with no job id stored: their attempt goes on under its number (start()). */
  private readonly resumeAttempts = new Set<string>();
  /** Lockfiles read and interpreters probed once for the whole run. */
  private environment: RunEnvironment;
  constructor(
    private readonly deps: EngineDeps,
    private run: PipelineRun,
    private readonly pipeline: PipelineSpec,
    steps: StepRun[],
    private readonly options: RunDriverOptions = {},
  ) {
    this.environment = new RunEnvironment(deps, run.workspace);
    for (const s of steps) {
      this.steps.set(s.name, s);
      this.byStep.set(s.step, [...(this.byStep.get(s.step) ?? []), s]);
    }
  }

  /** The run's status and its steps as this driver holds them (the store may be a write behind). */
  snapshot(): { status: RunStatus; pipeline: string; steps: readonly StepRun[] } {
    return { status: this.run.status, pipeline: this.run.pipeline, steps: [...this.steps.values()] };
  }

  /** Cancel from inside this process (the service also sets the flag in the store for others). */
  cancel(): void {
    this.cancelRequested = true;
    this.abort.abort();
  }

  private async updateRun(patch: Partial<PipelineRun>): Promise<void> {
    if (this.lostLease) return;
    this.run = { ...this.run, ...patch };
    await this.deps.store.updateRun(this.run.id, patch);
  }

  private updateStep = async (inst: StepRun, patch: Partial<StepRun>): Promise<void> => {
    if (this.lostLease) return;
    if (this.shuttingDown && !this.cancelRequested && patch.status === "cancelled") {
      // Cut short because this process stops, not because anyone cancelled: a successor reruns it.
      patch = { ...patch, status: "pending", error: "interrupted: the driving process stopped", finishedAt: null };
    }
    Object.assign(inst, patch);
    if (patch.status === "running") this.started?.();
    await this.deps.store.updateStep(inst.id, patch);
  };

  /** Wakes schedule()'s wait when a step starts: its dependants may be held early (EarlyHolds). */
  private started: (() => void) | null = null;

  private async heartbeat(): Promise<void> {
    const until = nowMs() + this.deps.leaseMs;
    const held = await this.deps.store.renewRun(this.run.id, this.deps.owner, until);
    if (!held) {
      this.lostLease = true;
      // Another driver has the run: remote jobs are left to it (it reattaches), never cancelled.
      this.abort.abort(RELEASED);
      return;
    }
    await this.deps.store.renewSteps(this.run.id, this.deps.owner, until);
    await this.deps.stepApiLease?.renew(this.run.id);
    const fresh = await this.deps.store.getRun(this.run.id);
    if (fresh?.cancelRequested && !this.cancelRequested) this.cancel();
  }

  /** Runs until the run ends (or the lease is lost / the process stops). Returns the final status. */
  async drive(options: DriveOptions): Promise<RunStatus> {
    const onStop = () => {
      this.shuttingDown = true;
      this.abort.abort(RELEASED);
    };
    options.signal.addEventListener("abort", onStop, { once: true });
    let beating = false;
    const timer = setInterval(() => {
      if (beating) return;
      beating = true;
      this.heartbeat()
        .catch(() => undefined)
        .finally(() => (beating = false));
    }, this.deps.heartbeatMs);
    try {
      if (this.run.cancelRequested) this.cancelRequested = true;
      await this.waitTurn();
      if (this.lostLease || options.signal.aborted) return this.run.status;
      const codeError = await this.prepareCode();
      if (codeError !== null) return await this.failAtStart(codeError);
      await this.start();
      await this.schedule();
      if (this.lostLease) return this.run.status;
      if (options.signal.aborted && !this.cancelRequested) {
        // This process is stopping: leave the run for a successor, which reruns what was cut short.
        await this.deps.store.updateRun(this.run.id, { leaseExpiresAt: 0 });
        return this.run.status;
      }
      return await this.finish(options.specDigest);
    } finally {
      clearInterval(timer);
      options.signal.removeEventListener("abort", onStop);
      // A stop or a lost lease does not end the run: its token is left to the driver that carries on
      // (a reattached remote step still holds it) or to its expiry.
      this.deps.stepApiLease?.forget(this.run.id);
    }
  }

  /** Concurrency policy `queue`: wait while an earlier run of this pipeline is unfinished. */
  private async waitTurn(): Promise<void> {
    for (;;) {
      if (this.lostLease || this.abort.signal.aborted) return;
      const active = await this.deps.store.listRuns({
        project: this.run.project,
        pipeline: this.run.pipeline,
        status: ["queued", "running"],
        limit: 100,
      });
      const earlier = active.filter(
        (r) =>
          r.id !== this.run.id &&
          (r.createdAt < this.run.createdAt || (r.createdAt === this.run.createdAt && r.id < this.run.id)),
      );
      if (earlier.length === 0 || this.run.status === "running") return;
      await sleep(Math.min(500, this.deps.heartbeatMs));
    }
  }

  /**
   * A run of a commit runs in its checkout: made again here when this driver did not just make it.
   * Answers why the code is not there (git's message, a refused spec), or null.
   */
  private async prepareCode(): Promise<string | null> {
    const code = this.run.code;
    if (code?.error) return code.error;
    if (!code?.checkout || !code.commit || this.options.checkedOut) return null;
    if (!this.deps.git) return "this server cannot check out commits (git is not available to it)";
    try {
      const done = await this.deps.git.checkout({
        source: code.checkout.source,
        commit: code.commit,
        runId: this.run.id,
        subdir: code.checkout.subdir,
        specFile: "tandem.yaml",
      });
      if (done.workspace !== this.run.workspace) await this.updateRun({ workspace: done.workspace });
      return null;
    } catch (error) {
      return (error as Error).message;
    }
  }

  /** Nothing runs on other code: the first step fails with the reason, every other step is cancelled. */
  private async failAtStart(reason: string): Promise<RunStatus> {
    await this.updateRun({ status: "running", startedAt: this.run.startedAt ?? nowMs() });
    let first = true;
    for (const s of this.steps.values()) {
      if (s.status !== "pending" && s.status !== "running") continue;
      if (first) {
        await this.deps.store.appendLogs(this.run.id, [{ stepId: s.id, stream: "system", text: reason, at: nowMs() }]);
        await this.updateStep(s, { status: "failed", error: reason, startedAt: nowMs(), finishedAt: nowMs() });
      } else
        await this.updateStep(s, {
          status: "cancelled",
          error: "not run: the run's code could not be prepared",
          finishedAt: nowMs(),
        });
      first = false;
    }
    await this.updateRun({ status: "failed", error: reason, finishedAt: nowMs(), leaseExpiresAt: 0 });
    return "failed";
  }

  private async start(): Promise<void> {
    this.environment.prefetch();
    const takingOver = this.run.startedAt !== null;
    const patch: Partial<PipelineRun> = { status: "running" };
    if (this.run.startedAt === null) patch.startedAt = nowMs();
    if (this.run.envDigest === null && this.run.workspace) {
      const lockfiles = await this.environment.lockfileHashes();
      if (Object.keys(lockfiles).length)
        patch.envDigest = createHash("sha256").update(canonicalJson(lockfiles)).digest("hex");
    }
    if (this.deps.tracking && !this.run.trackingRunId) {
      patch.trackingRunId = await this.deps.tracking.createRun({
        project: this.run.project,
        name: `${this.run.pipeline} #${this.run.id.slice(0, 8)}`,
        parentRunId: null,
        user: this.run.createdBy,
        tags: {
          "tandem.pipeline": this.run.pipeline,
          "tandem.pipeline_run": this.run.id,
          "tandem.trigger": this.run.trigger.kind,
        },
        params: Object.fromEntries(Object.entries(this.run.params).map(([k, v]) => [k, String(v)])),
      });
    }
    await this.updateRun(patch);
    if (takingOver && this.deps.tracking && this.run.trackingRunId)
      await endOrphanedTracking(this.deps.tracking, this.run.project, this.run.trackingRunId, this.steps.values());
    this.pretrack();
    // Steps a dead driver left running: kill what is left of them here, then run them again.
    await takeOverSteps(this.deps, this.run.id, this.steps.values(), this.updateStep, this.resumeAttempts);
  }

  private pretrack(): void {
    const tracking = this.deps.tracking;
    if (!tracking) return;
    // All at once: the tracking link writes calls that arrive together in one transaction.
    for (const s of this.steps.values()) {
      if (s.status !== "pending" || s.trackingRunId) continue;
      const id = tracking.createRun({
        project: this.run.project,
        name: s.name,
        parentRunId: this.run.trackingRunId,
        user: this.run.createdBy,
        tags: {
          "tandem.pipeline": this.run.pipeline,
          "tandem.pipeline_run": this.run.id,
          "tandem.step": s.step,
          "tandem.step_run": s.id,
        },
        params: {},
      });
      id.catch(() => undefined);
      this.pretracked.set(s.id, { id, closed: false });
    }
  }

  /** Tracking runs made ahead for steps that never ran (skipped, cancelled upstream) are ended too. */
  private closeUnusedTracking(): void {
    const tracking = this.deps.tracking;
    if (!tracking) return;
    for (const s of this.steps.values()) {
      const p = this.pretracked.get(s.id);
      if (!p || p.closed) continue;
      p.closed = true;
      this.deferred.defer(async () => {
        const id = await p.id.catch(() => null);
        if (!id) return;
        await tracking.finishRun(
          this.run.project,
          id,
          s.status === "skipped" ? "FINISHED" : s.status === "failed" ? "FAILED" : "KILLED",
          nowMs(),
          {
            "tandem.status": s.status,
          },
        );
      });
    }
  }

  private scopeOf(s: StepRun): StepScope {
    return {
      run: this.run,
      pipeline: this.pipeline,
      spec: this.pipeline.steps[s.step]!,
      inst: s,
      byStep: this.byStep,
      paths: null,
      locate: this.options.locate,
      environment: this.environment,
      resumeAttempt: this.resumeAttempts.has(s.id),
    };
  }

  private blockedBy(s: StepRun): { kind: "wait" | "ready" | "failed" | "skipped"; by?: string } {
    for (const need of s.needs) {
      const dep = this.steps.get(need);
      if (!dep) continue;
      switch (dep.status) {
        case "pending":
        case "running":
          return { kind: "wait" };
        case "failed":
        case "cancelled":
          return { kind: "failed", by: dep.name };
        case "skipped":
          return { kind: "skipped", by: dep.name };
        case "succeeded":
          break;
      }
    }
    return { kind: "ready" };
  }

  /** Whether every dependency of `s` has succeeded or runs now (none is pending or failed). */
  private depsUnderway(s: StepRun): boolean {
    return s.needs.every((need) => {
      const status = this.steps.get(need)?.status;
      return status === undefined || status === "succeeded" || status === "running";
    });
  }

  /**
   * Starts every step whose dependencies are done, up to the run's concurrency. Up to as many more
   * ready steps are started ahead, waiting for a slot (executeStep's `slot`): their keys, tracking
   * and directories are made, and a local one's sandbox too, while the running steps run, so a
   * slot's opening only has to let the next one go. A step is counted running, and marked so,
   * from its slot on.
   */
  private async schedule(): Promise<void> {
    const running = new Map<string, Promise<void>>();
    /** Steps started ahead, waiting for a slot: the function that gives them theirs (or, false, ends them). */
    const waiting = new Map<string, (go: boolean) => void>();
    const active = () => running.size - waiting.size;
    /** Gives free slots to waiting steps, in the order they began waiting. */
    const fill = () => {
      for (const [id, open] of waiting) {
        if (active() >= limit) return;
        waiting.delete(id);
        open(true);
      }
    };
    /** Ends every waiting step as it was: not started (the driver stops, or lost its lease). */
    const endWaiting = () => {
      for (const open of waiting.values()) open(false);
      waiting.clear();
    };
    const limit = Math.max(1, this.run.concurrency);
    /**
     * Steps held before their dependencies end (speculate.ts), as many as the run's slots with those
     * waiting for one.
     */
    const early = new EarlyHolds(
      (s) => earlyJob(this.deps, this.scopeOf(s), this.pretracked.get(s.id), this.abort.signal),
      this.deps.executor.prepare?.bind(this.deps.executor),
    );
    for (;;) {
      if (this.lostLease) break;
      const stopping = this.abort.signal.aborted;
      if (stopping) endWaiting();
      for (const s of this.steps.values()) {
        const open = waiting.get(s.id);
        if (open && active() < limit) {
          waiting.delete(s.id);
          open(true);
        }
        if (s.status !== "pending" || running.has(s.id)) continue;
        if (stopping) {
          early.giveUp(s.id);
          if (this.cancelRequested)
            await this.updateStep(s, { status: "cancelled", error: "run cancelled", finishedAt: nowMs() });
          continue;
        }
        const b = this.blockedBy(s);
        if (b.kind === "wait") {
          if (!early.has(s.id) && early.size + waiting.size < limit && this.depsUnderway(s)) {
            early.hold(s);
          }
          continue;
        }
        if (b.kind === "failed") {
          early.giveUp(s.id);
          await this.updateStep(s, {
            status: "cancelled",
            error: `upstream step ${b.by} did not succeed`,
            finishedAt: nowMs(),
          });
          continue;
        }
        if (b.kind === "skipped") {
          early.giveUp(s.id);
          await this.updateStep(s, {
            status: "skipped",
            error: `upstream step ${b.by} was skipped`,
            finishedAt: nowMs(),
          });
          continue;
        }
        let slot: Promise<boolean> | undefined;
        if (active() >= limit) {
          if (waiting.size >= limit) continue;
          slot = new Promise<boolean>((resolve) => waiting.set(s.id, resolve));
        }
        // The step's start takes its early hold (the executor's run finds it); one it did not use
        // (a cache hit, a skip, a failure before its command) is given up when the step ends.
        const endHold = early.take(s.id);
        running.set(
          s.id,
          executeStep(
            this.deps,
            this.scopeOf(s),
            this.updateStep,
            this.abort.signal,
            this.deferred.defer,
            this.pretracked.get(s.id),
            slot,
          ).finally(() => {
            running.delete(s.id);
            waiting.delete(s.id); // ended before its slot (a cache hit, a skip, a failure)
            endHold();
          }),
        );
      }
      // Slots freed while this pass awaited a write (steps ended meanwhile) go to those waiting.
      fill();
      if (running.size === 0) {
        // Nothing runs and nothing can start: every step has ended (or this driver is stopping).
        break;
      }
      // A step's start is a pass too: steps that need only it and those running may be held early.
      await Promise.race([...running.values(), new Promise<void>((resolve) => (this.started = resolve))]);
      this.started = null;
    }
    endWaiting();
    early.giveUpAll();
    await Promise.allSettled(running.values());
    this.closeUnusedTracking();
    await this.deferred.settle();
    await this.deps.executor.settle?.().catch(() => undefined);
  }

  private async finish(specDigest: string): Promise<RunStatus> {
    const all = [...this.steps.values()];
    const failed = all.filter((s) => s.status === "failed");
    const unfinished = all.filter((s) => s.status === "pending" || s.status === "running");
    let status: RunStatus;
    let error: string | null = null;
    if (this.cancelRequested) {
      status = "cancelled";
      error = "cancelled";
    } else if (failed.length || unfinished.length || all.some((s) => s.status === "cancelled")) {
      status = "failed";
      error = failed.length ? `step ${failed.map((s) => s.name).join(", ")} failed` : "steps did not finish";
    } else status = "succeeded";
    // A checkout is thrown away with the run (a retry checks the commit out again): no tandem.lock in it.
    const checkout = this.run.code?.checkout ?? null;
    if (status === "succeeded" && this.run.workspace && !checkout)
      await this.writeLock(specDigest).catch(() => undefined);
    if (checkout) await this.deps.git?.release(this.run.id).catch(() => undefined);
    if (this.deps.tracking && this.run.trackingRunId) {
      await this.deps.tracking
        .finishRun(
          this.run.project,
          this.run.trackingRunId,
          status === "succeeded" ? "FINISHED" : status === "failed" ? "FAILED" : "KILLED",
          nowMs(),
        )
        .catch(() => undefined);
    }
    // Before the run shows as ended, so nobody sees an ended run whose token still works.
    await this.endStepApi();
    await this.updateRun({ status, error, finishedAt: nowMs(), leaseExpiresAt: 0 });
    return status;
  }

  private async endStepApi(): Promise<void> {
    await this.deps.stepApiLease?.end(this.run.id).catch(() => undefined);
  }

  private async writeLock(specDigest: string): Promise<void> {
    const steps: Record<string, LockStep> = {};
    for (const s of this.steps.values()) {
      if (s.status !== "succeeded") continue;
      const scope = this.scopeOf(s);
      const inputs = Object.fromEntries(Object.entries(s.inputs).map(([k, v]) => [k, v.manifest]));
      const params = referencedParams(scope);
      steps[s.name] = {
        cmd: renderStep(scope).script ?? `uses: ${this.pipeline.steps[s.step]!.uses}`,
        cache_key: s.cacheKey,
        params,
        deps: Object.fromEntries(
          Object.entries(s.inputs).map(([k, v]) => [k, { source: v.source, sha256: inputs[k]! }]),
        ),
        outs: s.outputs,
        ...(Object.keys(s.metrics).length ? { metrics: s.metrics } : {}),
      };
    }
    await this.deps.workspace.writeLock(this.run.workspace!, this.run.pipeline, {
      spec_digest: specDigest,
      params: this.run.params,
      steps,
    });
  }
}
