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
