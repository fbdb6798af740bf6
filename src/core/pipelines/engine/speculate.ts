/**
 * A step held before its last dependencies have ended: the job its first attempt will be, made while
 * they run, so that the executor can make its directory and hold its process (Executor.prepare,
 * held-step.ts) and the step starts held instead of cold when they end.
 *
 * Why: a step of a layered DAG is ready only when the last of its dependencies ends (a join, the
 * first steps of the next layer), so it could not be held while waiting for a slot, and started cold:
 * a new sandbox on the DAG's critical path. 200 `sleep 0.1` steps in 20 blocks of 9 joined by one,
 * -j2 (bench pipeline-overhead), end of one step to the command of the next on the same slot,
 * medians: 40 ms cold (32 of them the sandbox's start), 9 ms held; 58 of the 200 starts were cold
 * (load 2-4, issue 18).
 *
 * Nothing about the step is decided here: its cache key and lookup, its `if:`, and its record come
 * after its dependencies have ended, in executeStep, as for any step. What is held is a process that
 * has not run the step's command: a cached, skipped or cancelled step drops it, and the executor
 * lets it go only for a job that asks for the same start (same command, environment, directory,
 * inputs and outputs), else drops it and starts the step as usual.
 */
import type { StepRun } from "../model.js";
import type { StepJob } from "../ports.js";
import { stepExecution } from "../spec/executors.js";
import { stepReferences } from "../spec/references.js";
import { durationMs } from "../spec/names.js";
import type { EngineDeps } from "./deps.js";
import { attemptEnv, jobOutputs, jobPlace } from "./attempt-env.js";
import type { PretrackedRun } from "./execute.js";
import { runBoundMs, type StepScope } from "./scope.js";

/**
 * Whether a step's first attempt can be known before its dependencies end: a command (not a
 * built-in, which runs in this process), no inputs (they may be the dependencies' outputs), no
 * `if:` (it may not run) and no reference to another step (its outputs or metrics are not there yet).
 */
export function mayHoldEarly(scope: StepScope): boolean {
  const { spec, inst } = scope;
  if (spec.run === undefined || spec.uses !== undefined || spec.if !== undefined) return false;
  if (Object.keys(spec.inputs ?? {}).length) return false;
  if (inst.remoteJob || scope.resumeAttempt) return false;
  return !stepReferences(spec).refs.some((f) => f.ref.root === "steps");
}

/**
 * The job of the step's first attempt as executeStep will make it, or null where it cannot be
 * known yet. Call it only while a dependency of the step is running: executeStep has then asked for
 * the run's step token (stepApi), so asking again makes nothing new.
 */
export async function earlyJob(
  deps: EngineDeps,
  scope: StepScope,
  pretracked: PretrackedRun | undefined,
  signal: AbortSignal,
): Promise<StepJob | null> {
  const { run, spec, inst } = scope;
  if (!mayHoldEarly(scope)) return null;
  // executeStep's tracking run is the one made ahead; without one it would make it, after the cache.
  if (deps.tracking && !pretracked) return null;
  try {
    const trackingRunId = pretracked ? await pretracked.id : null;
    if (deps.tracking && !trackingRunId) return null;
    const secretEnv = await deps.secrets(run.project, spec.secrets ?? []);
    const api = await deps.stepApi({ id: run.id, project: run.project, boundMs: runBoundMs(scope) });
    const execution = stepExecution(spec, scope.pipeline);
    const attempt = inst.attempt + 1;
    const workdir = deps.executor.workdir(run.id, inst.id, attempt, execution.executor);
    const material = { inputs: {}, refs: {}, api, trackingRunId, secretEnv };
    const { rendered, env } = attemptEnv(scope, attempt, workdir, material);
    return {
      ...jobPlace(scope, attempt, workdir, execution),
      remoteJob: null,
      script: rendered.script ?? "",
      inputs: [],
      outputs: jobOutputs(spec),
      env,
      metricsFile: spec.metrics,
      timeoutMs: spec.timeout !== undefined ? durationMs(spec.timeout) : undefined,
      signal,
      onOutput: () => undefined,
    };
  } catch {
    return null; // a missing secret, a reference that cannot render yet: the step starts as usual
  }
}

/** A step held before its dependencies end (EarlyHolds). */
interface EarlyHold {
  /** Set once the hold is given up or taken by the step's start: no preparation begins after. */
  stopped: boolean;
  /** Undoes the executor's preparation (Executor.prepare); a no-op once the step has run. */
  undo: (() => void) | null;
}

function stopHold(hold: EarlyHold): void {
  hold.stopped = true;
  hold.undo?.();
  hold.undo = null;
}

/**
 * The steps of one run held before their dependencies end, as many as the driver allows (it holds
 * as many as the run's slots with those waiting for one). A hold is given up when its step ends
 * without using it (a cache hit, a skip, a failure), when a dependency fails, and when the driver
 * stops; the step's start takes it (the executor's run finds what was prepared).
 */
export class EarlyHolds {
  private readonly holds = new Map<string, EarlyHold>();

  constructor(
    /** The job of the step's first attempt (earlyJob), or null where it cannot be known yet. */
    private readonly jobOf: (s: StepRun) => Promise<StepJob | null>,
    /** The executor's preparation (Executor.prepare): answers how to undo it. */
    private readonly prepare: ((job: StepJob) => () => void) | undefined,
  ) {}

  get size(): number {
    return this.holds.size;
  }

  has(id: string): boolean {
    return this.holds.has(id);
  }

  /** Holds `s`: its job is made now, and the executor prepares it unless the hold was given up meanwhile. */
  hold(s: StepRun): void {
    const hold: EarlyHold = { stopped: false, undo: null };
    this.holds.set(s.id, hold);
    void this.jobOf(s).then((job) => {
      if (job && !hold.stopped) hold.undo = this.prepare?.(job) ?? null;
    });
  }

  /** The step will not use its hold (it was cancelled or skipped, or the driver stops). */
  giveUp(id: string): void {
    const hold = this.holds.get(id);
    if (!hold) return;
    this.holds.delete(id);
    stopHold(hold);
  }

  giveUpAll(): void {
    for (const id of [...this.holds.keys()]) this.giveUp(id);
  }

  /**
   * The step starts: no preparation begins for it after this. Answers what to call when the step
   * ends, which undoes a preparation it did not use (a cache hit, a skip, a failure before its
   * command); one it used is undone already.
   */
  take(id: string): () => void {
    const hold = this.holds.get(id);
    if (!hold) return () => undefined;
    this.holds.delete(id);
    hold.stopped = true;
    return () => stopHold(hold);
  }
}
