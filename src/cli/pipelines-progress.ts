/**
 * Following a pipeline run from the CLI: polls the run and prints one line per step change on
 * stderr (stdout stays clean for --json), until the run ends.
 */
import type { RunStatus, StepRun } from "../core/pipelines/model.js";
import type { TandemApi } from "./api.js";
import { projectPath } from "./context.js";
import { info } from "./output.js";
import { colourOn, paint, type Style } from "./colour.js";

export interface StepWire {
  id: string;
  name: string;
  status: string;
  cached: boolean;
  attempt: number;
  started_at: number | null;
  finished_at: number | null;
  error: string | null;
  exit_code: number | null;
  metrics: Record<string, number>;
}

export interface RunWire {
  id: string;
  pipeline: string;
  status: string;
  error: string | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  spec_version: number;
  trigger: { kind: string };
  steps?: StepWire[];
  [key: string]: unknown;
}

export const TERMINAL = new Set(["succeeded", "failed", "cancelled"]);

function seconds(s: StepWire): string {
  if (!s.started_at || !s.finished_at) return "";
  return ` (${((s.finished_at - s.started_at) / 1000).toFixed(1)}s)`;
}

/** One step's transition as a progress line; the mark coloured when stderr takes colour (colour.ts). */
export function describeStep(s: StepWire, colour: boolean = colourOn(process.stderr)): string | null {
  const mark = (style: Style, text: string) => paint(style, text, colour);
  switch (s.status) {
    case "running":
      return `  ▶ ${s.name}${s.attempt > 1 ? ` (attempt ${s.attempt})` : ""}`;
    case "succeeded":
      return s.cached ? `  ${mark("dim", "↺")} ${s.name} (cached)` : `  ${mark("green", "✓")} ${s.name}${seconds(s)}`;
    case "failed":
      return `  ${mark("red", "✗")} ${s.name}${seconds(s)}: ${s.error ?? "failed"}`;
    case "cancelled":
      return `  ${mark("yellow", "■")} ${s.name}: ${s.error ?? "cancelled"}`;
    case "skipped":
      return `  – ${s.name} skipped${s.error ? `: ${s.error}` : ""}`;
    default:
      return null;
  }
}

/** What a run this process drives looks like now (embedded mode), or null once its driver is done. */
export type LiveRun = () => { status: RunStatus; pipeline: string; steps: readonly StepRun[] } | null;

/** The fields of a step that progress lines show, from the driver's own record of it. */
function stepWireOf(s: StepRun): StepWire {
  return {
    id: s.id,
    name: s.name,
    status: s.status,
    cached: s.cached,
    attempt: s.attempt,
    started_at: s.startedAt,
    finished_at: s.finishedAt,
    error: s.error,
    exit_code: s.exitCode,
    metrics: s.metrics,
  };
}

/**
 * Polls until the run ends; prints step transitions unless `quiet`. Returns the final run.
 * `ended`: resolves when this process's driver of the run is done (embedded mode), so the last poll
 * comes at once rather than up to an interval later (100 ms on average: 0.5 ms a step of a 200-step
 * run of `true` steps).
 * `live`: in embedded mode, the driver's own view of the run. Progress is read from it while it
 * drives, and the run through the API once, at its end: a poll through the API read every step's
 * row and serialised it (a 200-step run under load: 145 polls, about 10% of the driving thread).
 */
export async function followRun(
  api: TandemApi,
  project: string,
  runId: string,
  options: { quiet?: boolean; intervalMs?: number; ended?: Promise<unknown>; live?: LiveRun } = {},
): Promise<RunWire> {
  const seen = new Map<string, string>();
  let queuedPolls = 0;
  let ended = false;
  void options.ended?.then(
    () => (ended = true),
    () => (ended = true),
  );
  for (;;) {
    const now = ended ? null : (options.live?.() ?? null);
    const run = now ? null : await api.get<RunWire>(projectPath(project, `/pipeline-runs/${runId}`));
    const status = now?.status ?? run!.status;
    if (!options.quiet) {
      // A run is "queued" for a moment before its driver starts; say so only when it really waits.
      queuedPolls = status === "queued" ? queuedPolls + 1 : 0;
      if (queuedPolls === 10)
        info(
          `run ${runId} waits for an earlier run of ${now?.pipeline ?? run!.pipeline} to finish (concurrency: queue)`,
        );
      for (const s of now ? now.steps.map(stepWireOf) : (run!.steps ?? [])) {
        const key = `${s.status}:${s.attempt}`;
        if (seen.get(s.id) === key) continue;
        seen.set(s.id, key);
        const line = describeStep(s);
        if (line) info(line);
      }
    }
    if (run && TERMINAL.has(run.status)) return run;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, options.intervalMs ?? 200);
      // Once ended, polls go on at the interval (a driver that stopped without ending the run).
      const wake = () => {
        clearTimeout(timer);
        resolve();
      };
      if (options.ended && !ended) void options.ended.then(wake, wake);
    });
  }
}

/**
 * Whether a running run has nobody driving it: its driver released the lease on the way out (a
 * signal) or let it expire (killed). Nothing moves until `tandem run --resume ID` or a server's
 * takeover loop picks it up, and `runs ls` would otherwise say "running" for ever.
 */
export function driverGone(run: RunWire, now = Date.now()): boolean {
  if (run.status !== "running") return false;
  const expires = run.lease_expires_at;
  return typeof expires !== "number" || expires < now;
}

/** What to do about a run with no driver, for `runs show` and the signal handler of `tandem run`. */
export function resumeHint(runId: string): string {
  return `continue it with tandem run --resume ${runId} (steps cut short run again; finished ones are kept)`;
}

/**
 * `run R succeeded in 2.1s: 1 ran, 0 cached, 2 steps`. `kept`: ids of steps a retry kept from the
 * earlier attempt (they did not run again), counted as kept rather than ran.
 */
export function summarize(run: RunWire, kept: ReadonlySet<string> = new Set()): string {
  const steps = run.steps ?? [];
  const cached = steps.filter((s) => s.cached).length;
  const keptCount = steps.filter((s) => kept.has(s.id) && !s.cached).length;
  const ran = steps.filter((s) => s.status === "succeeded" && !s.cached && !kept.has(s.id)).length;
  const took =
    run.started_at && run.finished_at ? ` in ${((run.finished_at - run.started_at) / 1000).toFixed(1)}s` : "";
  return `run ${run.id} ${run.status}${took}: ${ran} ran, ${cached} cached, ${keptCount ? `${keptCount} kept, ` : ""}${steps.length} step${steps.length === 1 ? "" : "s"}${run.error && run.status !== "succeeded" ? ` — ${run.error}` : ""}`;
}
