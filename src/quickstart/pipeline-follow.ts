/** Following a pipeline run over the API, one progress line per step as it changes. */
import type { TandemApi } from "../cli/api.js";
import type { RunWire, StepWire } from "../cli/pipelines-progress.js";
import { TERMINAL } from "../cli/pipelines-progress.js";
import { p } from "./client.js";
import type { Progress } from "./progress.js";

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * How often the quickstart asks the API how a run stands. Each change it sees late is time the loop
 * waits (the approval is given when its step is seen running); a read costs the shared event loop
 * about a millisecond (default 100 ms).
 */
export const POLL_MS = 100;

function stepLine(s: StepWire): string | null {
  const secs = s.started_at && s.finished_at ? ` (${((s.finished_at - s.started_at) / 1000).toFixed(1)} s)` : "";
  switch (s.status) {
    case "succeeded":
      return `✓ ${s.name}${s.cached ? " (cached)" : secs}`;
    case "failed":
      return `✗ ${s.name}${secs}: ${s.error ?? "failed"}`;
    case "skipped":
      return `– ${s.name} skipped`;
    case "cancelled":
      return `■ ${s.name} cancelled`;
    default:
      return null;
  }
}

/**
 * Polls the run until it ends. `onStep` sees every step change (e.g. to approve when `approval`
 * starts waiting); lines for finished steps go to the progress display.
 */
export async function followRun(
  api: TandemApi,
  runId: string,
  progress: Progress,
  onStep?: (s: StepWire, run: RunWire) => Promise<void>,
): Promise<RunWire> {
  const seen = new Map<string, string>();
  for (;;) {
    const run = await api.get<RunWire>(p(`/pipeline-runs/${runId}`));
    for (const s of run.steps ?? []) {
      if (seen.get(s.id) === s.status) continue;
      seen.set(s.id, s.status);
      const line = stepLine(s);
      if (line) progress.line(line);
      else if (s.status === "running") progress.update(`${s.name} running`);
      if (onStep) await onStep(s, run);
    }
    if (TERMINAL.has(run.status)) return run;
    await sleep(POLL_MS);
  }
}

/** The last lines of a step's log (the reason a step failed, a builtin's findings). */
export async function stepLog(api: TandemApi, runId: string, step: string, last = 20): Promise<string[]> {
  const logs = await api.get<{ lines: Array<{ text: string }> }>(p(`/pipeline-runs/${runId}/logs`), {
    step,
    limit: 10_000,
  });
  return logs.lines.slice(-last).map((l) => l.text);
}
