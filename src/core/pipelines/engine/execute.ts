/**
 * One step instance, start to finish: condition, inputs, cache key, cache lookup, secrets, attempts
 * with backoff, outputs and metrics, its tracking run. Never throws: every problem ends the step as
 * `failed` with a message in its record and its log.
 */
import { hostname } from "node:os";
import { nowMs } from "../../ids.js";
import { findBuiltin } from "../builtins/index.js";
import { evaluate, parseCondition, truthy, type Value } from "../expr/evaluate.js";
import type { InputRecord, StepCacheInfo, StepRun } from "../model.js";
import { released, type JobInput, type StepJob } from "../ports.js";
import type { EngineDeps } from "./deps.js";
import { callBuiltin, pinnedWith, type BuiltinCall } from "./builtin-call.js";
import { describeReference } from "./cache-key.js";
import type { ResolvedInput } from "./inputs.js";
import { attemptEnv, jobOutputs, jobPlace } from "./attempt-env.js";
import { keyStep } from "./keying.js";
import { unusableOutputs } from "./cached-outputs.js";
import { LogSink, gatheredLogWrites, linesSinceSubmitted, maskSecrets, submittedLine } from "./logs.js";
import { latestMetrics, parseMetrics, type MetricValue } from "./metrics.js";
import { referencedParams, resolverFor, runBoundMs, type StepScope } from "./scope.js";
import { durationMs } from "../spec/names.js";
import { stepExecution } from "../spec/executors.js";

export interface StepOutcome {
  status: StepRun["status"];
}

/** Writes a step's new state to memory and the store together. */
export type StepUpdater = (inst: StepRun, patch: Partial<StepRun>) => Promise<void>;

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => (clearTimeout(t), resolve()), { once: true });
  });

function toRecord(r: Record<string, ResolvedInput>): Record<string, InputRecord> {
  return Object.fromEntries(
    Object.entries(r).map(([k, v]) => [k, { manifest: v.manifest, kind: v.kind, source: v.source }]),
  );
}

/**
 * Queues bookkeeping that dependants need not wait for (closing the step's tracking run, logging
 * its params and metrics there). The driver runs it in order and waits for it before the run ends,
 * so a DAG of short steps is not paced by the audit log's fsyncs.
 */
export type Defer = (work: () => Promise<void>) => void;

/**
 * A step's tracking run, created by the driver ahead of time (off the critical path); `closed` is set
 * once this step has queued its end, so the driver closes the runs of steps that never ran.
 */
export interface PretrackedRun {
  id: Promise<string | null>;
  closed: boolean;
}

/** Each store's step log writes, gathered per turn of the event loop (logs.ts gatheredLogWrites). */
const gathered = new WeakMap<EngineDeps["store"], ReturnType<typeof gatheredLogWrites>>();
function logWrites(store: EngineDeps["store"]): ReturnType<typeof gatheredLogWrites> {
  let writes = gathered.get(store);
  if (!writes) {
    writes = gatheredLogWrites((runId, chunks) => store.appendLogs(runId, chunks));
    gathered.set(store, writes);
  }
  return writes;
}

export async function executeStep(
  deps: EngineDeps,
  scope: StepScope,
  update: StepUpdater,
  signal: AbortSignal,
  defer: Defer = (work) => void work(),
  pretracked?: PretrackedRun,
  slot?: Promise<boolean>,
): Promise<void> {
  const { run, spec, inst } = scope;
  /** Undoes what the executor made ready for the step while it waited for `slot` (if run never came). */
  let unprepare: (() => void) | undefined;
  let secretValues: string[] = [];
  const sink = new LogSink({
    stepId: inst.id,
    secrets: [],
    write: (chunks) => logWrites(deps.store)(run.id, chunks),
    tee: deps.onLog ? (line, stream) => deps.onLog!(run.id, inst.name, line, stream) : undefined,
  });
  const fail = async (error: string, extra: Partial<StepRun> = {}) => {
    sink.system(`step failed: ${error}`);
    await update(inst, {
      status: "failed",
      error: maskSecrets(error, secretValues),
      finishedAt: nowMs(),
      waiting: null,
      ...extra,
    });
  };
  // Tracking bookkeeping that can happen after dependants have started (see Defer).
  const end: TrackingEnd = { runId: null, tags: {}, params: {}, metrics: [], status: null };
  let params: Record<string, unknown> = {};
  /** The step's tracking run (a child of the pipeline's), created once the cache verdict is known. */
  const createTracking = async (cacheHit: boolean, envDigest: string): Promise<string | null> => {
    if (!deps.tracking) return null;
    if (pretracked) pretracked.closed = true;
    const early = pretracked
      ? await pretracked.id.catch(() => null)
      : inst.remoteJob || scope.resumeAttempt
        ? inst.trackingRunId // a reattached or adopted job logs to the run it was given (orphan-tracking)
        : null;
    const id =
      early ??
      (await deps.tracking.createRun({
        project: run.project,
        name: inst.name,
        parentRunId: run.trackingRunId,
        user: run.createdBy,
        tags: {
          "tandem.pipeline": run.pipeline,
          "tandem.pipeline_run": run.id,
          "tandem.step": inst.step,
          "tandem.step_run": inst.id,
          "tandem.cache_hit": String(cacheHit),
          "tandem.host": hostname(),
          "tandem.env_digest": envDigest,
        },
        params: {},
      }));
    end.runId = id;
    if (early)
      end.tags = { "tandem.cache_hit": String(cacheHit), "tandem.host": hostname(), "tandem.env_digest": envDigest };
    end.params = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)]));
    return id;
  };
  try {
    if (spec.if !== undefined) {
      const ok = truthy(evaluate(parseCondition(spec.if), resolverFor({ ...scope, paths: null })));
      if (!ok) {
        sink.system(`skipped: if: ${String(spec.if)} is false`);
        await update(inst, { status: "skipped", finishedAt: nowMs(), error: null });
        return;
      }
    }
    const keyed = await keyStep(deps, scope);
    const { inputs, refs, pins, key, parts, environment } = keyed;
    params = referencedParams(scope);

    const startedAt = nowMs();
    const recordedInputs = {
      ...toRecord(inputs),
      ...Object.fromEntries(Object.entries(toRecord(refs)).map(([k, v]) => [`\${{ ${k} }}`, v])),
    };
    const references = pins.map((p) => p.resolved);
    for (const r of references)
      sink.system(`with.${r.field}: ${r.kind} ${describeReference(r)}${r.digest ? ` (${r.digest.slice(0, 19)})` : ""}`);

    const cacheable = spec.cache !== false && !run.noCache;
    let cacheInfo: StepCacheInfo = {
      parts,
      decision: cacheable ? "miss" : "off",
      reason: cacheable ? null : run.noCache ? "the run was started with --no-cache" : "the step says cache: false",
      source: null,
    };
    if (cacheable) {
      const hit = await deps.store.getCache(run.project, key);
      const unusable = hit ? await unusableOutputs(deps.artifacts, hit.outputs) : null;
      if (hit && unusable === null) {
        sink.system(`cache hit ${key.slice(0, 12)} (outputs of step run ${hit.stepRunId})`);
        const id = await createTracking(true, environment.digest);
        Object.assign(end, { metrics: hit.metrics, status: "FINISHED" });
        await update(inst, {
          status: "succeeded",
          startedAt,
          cacheKey: key,
          inputs: recordedInputs,
          references,
          environment,
          cacheInfo: { ...cacheInfo, decision: "hit", source: hit.stepRunId },
          trackingRunId: id,
          cached: true,
          outputs: hit.outputs,
          metrics: hit.metrics,
          finishedAt: nowMs(),
          command: keyed.command,
        });
        return;
      }
      if (hit) {
        sink.system(`cache entry ${key.slice(0, 12)} not reused: ${unusable}`);
        cacheInfo = {
          ...cacheInfo,
          reason: `the key matched, but the cached outputs are gone from the artifact store (${unusable})`,
        };
      }
    }

    const trackingRunId = await createTracking(false, environment.digest);
    // One write marks the step running with everything known so far (each write is on the DAG's
    // critical path); the first attempt's command joins it below.
    let starting: Partial<StepRun> | null = {
      status: "running",
      startedAt,
      cacheKey: key,
      inputs: recordedInputs,
      references,
      environment,
      cacheInfo,
      trackingRunId,
      leaseOwner: deps.owner,
      leaseExpiresAt: nowMs() + deps.leaseMs,
      error: null,
    };
    const secretEnv = await deps.secrets(run.project, spec.secrets ?? []);
    const api = await deps.stepApi({ id: run.id, project: run.project, boundMs: runBoundMs(scope) });
    // The run's token is a secret like any other: a step that prints its environment shows ***.
    secretValues = [...Object.values(secretEnv), ...(api.token ? [api.token] : [])];
    sink.setSecrets(secretValues);
    const builtin = spec.uses ? findBuiltin(spec.uses.slice("tandem/".length)) : undefined;
    if (spec.uses && !builtin) return await fail(`unknown built-in step ${spec.uses}`);
    const maxAttempts = 1 + (spec.retries ?? 0);
    // A built-in step (uses:) runs inside the server, with its services, wherever its pipeline's steps run.
    const execution = { ...stepExecution(spec, scope.pipeline), ...(builtin ? { executor: "local" as const } : {}) };
    // A remote job a dead driver submitted: this attempt attaches to it instead of running again.
    let reattach = inst.remoteJob;
    const remoteJobAtStart = reattach;
    let loggedLines = 0;
    if (reattach) {
      loggedLines = await loggedSinceSubmitted(deps, run.id, inst.id, reattach);
      sink.system(`reattaching to ${inst.executor ?? "remote"} job ${reattach} (attempt ${inst.attempt})`);
    }

    // Resumed: sbatch (or the Job's create) may have gone through under this attempt's number, and
    // the executor adopts a job of that name and attempt instead of submitting another.
    const first = reattach || scope.resumeAttempt ? Math.max(1, inst.attempt) : inst.attempt + 1;
    for (let attempt = first; ; attempt++) {
      const workdir = deps.executor.workdir(run.id, inst.id, attempt, execution.executor);
      const { paths, rendered, env } = attemptEnv(scope, attempt, workdir, {
        inputs,
        refs,
        api,
        trackingRunId,
        secretEnv,
      });

      const call: BuiltinCall | null = builtin
        ? {
            builtin,
            rendered: rendered.with,
            pins,
            inputs,
            refs,
            outputs: paths.outputs,
            trackingRunId,
            log: (line) => sink.write("stdout", `${line}\n`),
          }
        : null;
      const command = rendered.script ?? `uses: ${spec.uses} with: ${JSON.stringify(pinnedWith(call!, workdir).with)}`;
      let builtinMetrics: Record<string, number> | undefined;
      const files = pins.flatMap((p) => (p.file ? [p.file] : []));
      const jobInputs: JobInput[] = [...Object.values(inputs), ...Object.values(refs), ...files].map((i) => ({
        path: i.relPath,
        manifest: i.manifest,
        kind: i.kind,
      }));
      const remoteJob = reattach;
      reattach = null;
      const job: StepJob = {
        ...jobPlace(scope, attempt, workdir, execution),
        remoteJob,
        ...(remoteJob ? { loggedLines } : {}),
        script: rendered.script ?? "",
        inputs: jobInputs,
        outputs: jobOutputs(spec),
        env,
        metricsFile: builtin ? undefined : spec.metrics,
        timeoutMs: spec.timeout !== undefined ? durationMs(spec.timeout) : undefined,
        signal,
        onOutput: (stream, text) => sink.write(stream, text),
        onStarted: (info) => {
          // A held process was recorded with the running write (heldProcess below).
          if (inst.pid === info.pid && inst.host === info.host && inst.pidStart === info.startTime) return;
          void update(inst, { pid: info.pid, host: info.host, pidStart: info.startTime });
        },
        onSubmitted: async (id) => {
          sink.system(submittedLine(execution.executor ?? "remote", id));
          await update(inst, { remoteJob: id });
        },
        onWaiting: (reason) => {
          if (reason) sink.system(reason);
          void update(inst, { waiting: reason });
        },
        inProcess: call
          ? async (dir, abort) => {
              builtinMetrics = await callBuiltin(deps, scope, call, dir, abort);
            }
          : undefined,
      };
      if (slot && starting) {
        // Everything above is done while the step waits for a slot of its run, and the executor
        // makes the step ready to start (held-step.ts); it starts, and counts as running, from here.
        unprepare = deps.executor.prepare?.(job);
        if (!(await slot)) {
          // The driver stops first: the step never started, and is left as it was (pending), its
          // tracking run to the driver (closed with those of steps that never ran).
          if (pretracked) {
            pretracked.closed = false;
            end.runId = null;
          } else end.status = released(signal) ? null : "KILLED";
          return;
        }
        starting = { ...starting, startedAt: nowMs(), leaseExpiresAt: nowMs() + deps.leaseMs };
      }
      // The process the executor holds for the step (if any) is the one it will let go: recorded
      // now, a takeover finds it from the step's first running write on.
      const held = remoteJob ? null : (deps.executor.heldProcess?.(job) ?? null);
      await update(inst, {
        ...(starting ?? {}),
        attempt,
        command: maskSecrets(command, secretValues),
        exitCode: null,
        pid: held?.pid ?? null,
        host: held?.host ?? null,
        pidStart: held?.startTime ?? null,
        ...(remoteJob ? {} : { remoteJob: null }),
        executor: execution.executor ?? deps.executors?.defaultExecutor ?? "local",
        waiting: null,
      });
      starting = null;
      if (attempt > 1) {
        const line = attemptLine(
          attempt,
          maxAttempts,
          attempt === first,
          Boolean(remoteJobAtStart || scope.resumeAttempt),
        );
        if (line) sink.system(line);
      }

      const result = await deps.executor.run(job);
      if (result.imageId) await update(inst, { environment: { ...environment, imageId: result.imageId } });

      if (result.outcome === "succeeded") {
        let points: MetricValue[] = [];
        if (builtinMetrics) points = Object.entries(builtinMetrics).map(([k, value]) => ({ key: k, value, step: 0 }));
        if (result.metricsText !== undefined) points = parseMetrics(result.metricsText, spec.metrics!);
        const metrics = latestMetrics(points);
        const at = nowMs();
        Object.assign(end, { metrics: points.map((p) => ({ ...p, timestamp: at })), status: "FINISHED" });
        if (cacheable) {
          await deps.store.putCache({
            project: run.project,
            key,
            outputs: result.outputs,
            metrics,
            stepRunId: inst.id,
            createdAt: nowMs(),
          });
        }
        sink.system(`succeeded${result.exitCode !== null ? " (exit 0)" : ""}`);
        await update(inst, {
          status: "succeeded",
          exitCode: result.exitCode,
          outputs: result.outputs,
          metrics,
          finishedAt: nowMs(),
          cached: false,
          waiting: null,
        });
        return;
      }
      const why = result.error ?? result.outcome;
      if (released(signal)) {
        // This process lets the run go (it stops, or lost its lease): the step is not over, and
        // the driver that takes the run over carries on (a remote job is reattached to).
        sink.system(result.error ?? "interrupted: the driving process stopped");
        await update(inst, { status: "cancelled", exitCode: result.exitCode, error: why, waiting: null });
        return;
      }
      if (result.outcome === "cancelled" || signal.aborted) {
        sink.system("cancelled");
        end.status = "KILLED";
        await update(inst, {
          status: "cancelled",
          exitCode: result.exitCode,
          error: "cancelled",
          finishedAt: nowMs(),
          waiting: null,
        });
        return;
      }
      if (attempt >= maxAttempts) {
        end.status = "FAILED";
        return await fail(why, { exitCode: result.exitCode });
      }
      const delay = Math.min(deps.backoffMs * 2 ** (attempt - 1), 60_000);
      sink.system(`attempt ${attempt} failed: ${why}; retrying in ${delay} ms`);
      await update(inst, { exitCode: result.exitCode, error: why });
      await sleep(delay, signal);
    }
  } catch (error) {
    // Before the fix the step's tracking run stayed RUNNING after the step (and its pipeline) failed.
    // A driver letting the run go leaves it as it is: the one that takes over ends it (orphan-tracking).
    if (!released(signal)) end.status = signal.aborted ? "KILLED" : "FAILED";
    await fail((error as Error).message ?? String(error), end.runId ? { trackingRunId: end.runId } : {});
  } finally {
    unprepare?.(); // nothing once the executor has run the step
    // Log lines and tracking bookkeeping land before the run ends, not before dependants start.
    defer(async () => {
      await sink.close();
      await endTracking(deps, run.project, end);
    });
  }
}

/** What a step's tracking run gets once the step has ended. */
interface TrackingEnd {
  runId: string | null;
  /** Tags known only once the cache verdict is (a run made ahead of the step lacks them). */
  tags: Record<string, string>;
  params: Record<string, string>;
  /** A cache hit's metrics (timestamped when written), or the points the step logged. */
  metrics: Record<string, number> | Array<{ key: string; value: number; step: number; timestamp: number }>;
  /** null: the step is not over (its driver let it go); its run gets its tags and params only. */
  status: "FINISHED" | "FAILED" | "KILLED" | null;
}

/**
 * Writes a step's tracking end: its params, metrics, tags and final status. The calls are made in
 * one go (not each after the last has committed), so the tracking link writes them in one audited
 * transaction: one statement batch and one audit event per step rather than two, each of which
 * advanced the audit head file (read, lock, write, fsync) — about 2 ms of the driving process's CPU.
 */
async function endTracking(deps: EngineDeps, project: string, end: TrackingEnd): Promise<void> {
  const { runId, tags, params, status } = end;
  if (!deps.tracking || !runId) return;
  const at = nowMs();
  const points = Array.isArray(end.metrics)
    ? end.metrics
    : Object.entries(end.metrics).map(([key, value]) => ({ key, value, step: 0, timestamp: at }));
  const hasTags = Object.keys(tags).length > 0;
  const writes: Array<Promise<void>> = [];
  if (Object.keys(params).length) writes.push(deps.tracking.logParams(project, runId, params));
  if (status === null) {
    if (hasTags) writes.push(deps.tracking.setTags(project, runId, tags));
  } else {
    if (points.length) writes.push(deps.tracking.logMetrics(project, runId, points));
    writes.push(deps.tracking.finishRun(project, runId, status, at, hasTags ? tags : undefined));
  }
  await Promise.all(writes);
}

/** The step log's lines of remote job `job` so far, read page by page (only on a reattach). */
async function loggedSinceSubmitted(deps: EngineDeps, runId: string, stepId: string, job: string): Promise<number> {
  let count = 0;
  for (let afterSeq = 0; ;) {
    const page = await deps.store.readLogs(runId, { afterSeq, stepId, limit: 5000 });
    count = linesSinceSubmitted(page, job, count);
    if (page.length < 5000) return count;
    afterSeq = page[page.length - 1]!.seq;
  }
}

export type { Value };

/**
 * The log's line for an attempt after the first. A retry says how many attempts the step has. The
 * first attempt of a takeover says why the step runs again (its driver stopped): "attempt 2 of 1", as
 * it used to say, read as a bug. An adopted attempt (a remote job reattached) has said so already.
 */
function attemptLine(attempt: number, maxAttempts: number, firstHere: boolean, adopted: boolean): string | null {
  if (!firstHere) return `attempt ${attempt} of ${maxAttempts}`;
  if (adopted) return null;
  return `attempt ${attempt}: attempt ${attempt - 1} was interrupted when its driver stopped, so the step runs again`;
}
