/**
 * Taking a run over from a driver that died (or stopped): its steps left `running` are made
 * pending again, each as its executor needs, and the step's log says what was done.
 */
import { nowMs } from "../../ids.js";
import type { StepRun } from "../model.js";
import type { EngineDeps } from "./deps.js";
import type { StepUpdater } from "./execute.js";

/**
 * Makes every step of `steps` left running pending again: a remote job is kept (the step attaches
 * to it again), a remote step whose job id was not stored goes on under its attempt number (added
 * to `resumeAttempts`), and a local step's leftover process is killed when it is still the one
 * recorded.
 */
export async function takeOverSteps(
  deps: EngineDeps,
  runId: string,
  steps: Iterable<StepRun>,
  update: StepUpdater,
  resumeAttempts: Set<string>,
): Promise<void> {
  const note = (s: StepRun, text: string) =>
    deps.store.appendLogs(runId, [{ stepId: s.id, stream: "system", text, at: nowMs() }]);
  for (const s of steps) {
    if (s.status !== "running") continue;
    if (s.remoteJob) {
      // The scheduler still has the job: the step attaches to it again (executeStep), never resubmits.
      await note(
        s,
        `taken over from ${s.leaseOwner ?? "a stopped driver"}; ${s.executor ?? "remote"} job ${s.remoteJob} is kept`,
      );
      await update(s, { status: "pending" });
      continue;
    }
    if (s.executor === "slurm" || s.executor === "kubernetes") {
      // The dead driver counted the attempt and stopped before storing its job's id: around sbatch
      // (or the Job's create), which may have gone through. A new number would submit the step a
      // second time beside that job; the same number lets the executor adopt it by name and attempt.
      await note(
        s,
        `taken over from ${s.leaseOwner ?? "a stopped driver"}; no ${s.executor} job id was stored for attempt ${s.attempt}: a job the scheduler has for it is adopted, else it is submitted`,
      );
      resumeAttempts.add(s.id);
      await update(s, { status: "pending" });
      continue;
    }
    // Only the process recorded for the step (same pid and start time) is killed; whatever else has
    // that pid now is a stranger, and the log says it was left alone.
    const leftovers =
      s.pid !== null && s.host !== null
        ? await deps.executor
            .killOrphan({ pid: s.pid, host: s.host, startTime: s.pidStart })
            .catch((error: Error) => `could not stop process ${s.pid}: ${error.message}`)
        : null;
    await note(
      s,
      `taken over from ${s.leaseOwner ?? "a stopped driver"}; ${leftovers ? `${leftovers}; ` : ""}running again`,
    );
    await update(s, { status: "pending", pid: null, host: null, pidStart: null });
  }
}
