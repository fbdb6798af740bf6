/**
 * A driver that stops without ending its step runs' tracking runs (kill -9, a lost lease) leaves
 * them RUNNING for good: those it made ahead for steps it never reached, and those whose end it had
 * deferred. The driver that takes the run over makes runs of its own for the steps it runs again,
 * so it ends the dead driver's first, each as its step ended.
 */
import { nowMs } from "../../ids.js";
import type { StepRun } from "../model.js";
import type { TrackingLink } from "../ports.js";

/** A step whose remote job is reattached or adopted keeps its run: the job logs to it (MLFLOW_RUN_ID). */
export function keepsTrackingRun(step: StepRun): boolean {
  return (
    step.status === "running" &&
    (step.remoteJob !== null || step.executor === "slurm" || step.executor === "kubernetes")
  );
}

export async function endOrphanedTracking(
  tracking: TrackingLink,
  project: string,
  parentRunId: string,
  steps: Iterable<StepRun>,
): Promise<void> {
  const open = await tracking.openChildRuns(parentRunId);
  if (!open.length) return;
  const stepOf = new Map<string, StepRun>();
  for (const s of steps) if (s.trackingRunId) stepOf.set(s.trackingRunId, s);
  const at = nowMs();
  await Promise.all(
    open.flatMap((runId) => {
      const step = stepOf.get(runId);
      if (step && keepsTrackingRun(step)) return [];
      const status =
        step?.status === "succeeded" || step?.status === "skipped"
          ? "FINISHED"
          : step?.status === "failed"
            ? "FAILED"
            : "KILLED";
      return [
        tracking.finishRun(project, runId, status, at, {
          "tandem.status": step?.status ?? "not started",
          "tandem.ended_by": "takeover",
        }),
      ];
    }),
  );
}
