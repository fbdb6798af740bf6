/**
 * Why a step was (or was not) served from the cache, part by part, in the manner of Bazel's
 * `--explain` and Nx's hash details: each part of the key with its digest, and for a miss, which
 * parts differ from the nearest earlier key of the same step — the earlier run of that step whose
 * key shares the most parts (the most recent of equals), so flipping a param back and forth still
 * points at the param.
 */
import type { CachePart, StepRun } from "./model.js";

export type PartChange = "same" | "changed" | "added" | "removed";

export interface ExplainedPart extends CachePart {
  /** Compared with the nearest earlier key; null when there is none. */
  change: PartChange | null;
  /** The earlier part's digest and value (changed or removed parts). */
  before: { digest: string; value: string } | null;
}

/** An earlier step run of the same step, with its pipeline run. */
export interface EarlierStep {
  runId: string;
  runCreatedAt: number;
  step: StepRun;
}

export interface CacheExplanation {
  step: string;
  stepRunId: string;
  key: string | null;
  decision: "hit" | "miss" | "off" | null;
  /** One sentence: the verdict and its reason. */
  summary: string;
  parts: ExplainedPart[];
  /** The earlier key the parts are compared with. */
  comparedWith: { runId: string; stepRunId: string; createdAt: number; key: string | null; status: string } | null;
}

function differences(now: CachePart[], before: CachePart[]): number {
  const old = new Map(before.map((p) => [p.name, p.digest]));
  let n = 0;
  for (const p of now) if (old.get(p.name) !== p.digest) n++;
  const names = new Set(now.map((p) => p.name));
  for (const p of before) if (!names.has(p.name)) n++;
  return n;
}

function compare(now: CachePart[], before: CachePart[] | null): ExplainedPart[] {
  if (!before) return now.map((p) => ({ ...p, change: null, before: null }));
  const old = new Map(before.map((p) => [p.name, p]));
  const out: ExplainedPart[] = now.map((p) => {
    const was = old.get(p.name);
    if (!was) return { ...p, change: "added", before: null };
    if (was.digest === p.digest) return { ...p, change: "same", before: null };
    return { ...p, change: "changed", before: { digest: was.digest, value: was.value } };
  });
  const names = new Set(now.map((p) => p.name));
  for (const p of before)
    if (!names.has(p.name))
      out.push({
        name: p.name,
        digest: "",
        value: "",
        change: "removed",
        before: { digest: p.digest, value: p.value },
      });
  return out;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** `earlier`: runs of the same step before this one, newest first. */
export function explainCache(step: StepRun, earlier: EarlierStep[]): CacheExplanation {
  const info = step.cacheInfo;
  const base = { step: step.name, stepRunId: step.id, key: step.cacheKey };
  if (!info) {
    const why =
      step.status === "pending" || step.status === "running"
        ? "the step has not made its key yet"
        : step.status === "skipped" || step.status === "cancelled"
          ? `the step was ${step.status} before its key was made`
          : `the step ${step.status} before its key was made${step.error ? `: ${step.error}` : ""}`;
    return { ...base, decision: null, summary: `no key: ${why}`, parts: [], comparedWith: null };
  }
  const keyed = earlier.filter((e) => e.step.cacheInfo !== null);
  let nearest: EarlierStep | null = null;
  if (info.decision === "hit" && info.source) nearest = keyed.find((e) => e.step.id === info.source) ?? null;
  if (!nearest) {
    let best = Infinity;
    for (const e of keyed) {
      const d = differences(info.parts, e.step.cacheInfo!.parts);
      if (d < best) [best, nearest] = [d, e];
    }
  }
  const parts = compare(info.parts, nearest?.step.cacheInfo?.parts ?? null);
  const comparedWith = nearest
    ? {
        runId: nearest.runId,
        stepRunId: nearest.step.id,
        createdAt: nearest.runCreatedAt,
        key: nearest.step.cacheKey,
        status: nearest.step.status,
      }
    : null;
  const changed = parts.filter((p) => p.change !== "same" && p.change !== null);
  const short = (k: string | null) => (k ? k.slice(0, 12) : "none");
  let summary: string;
  switch (info.decision) {
    case "hit":
      summary = `hit: key ${short(step.cacheKey)} was stored by step run ${info.source ?? "?"}${
        nearest ? ` (run ${nearest.runId})` : ""
      }; its outputs and metrics were reused`;
      break;
    case "off":
      summary = `not looked up: ${info.reason ?? "caching is off"}`;
      break;
    case "miss":
      if (!nearest) summary = "miss: no earlier run of this step made a key to compare with";
      else if (changed.length)
        summary = `miss: ${plural(changed.length, "part")} of ${info.parts.length} differ from the nearest earlier key (run ${nearest.runId}): ${changed.map((p) => p.name).join(", ")}`;
      else
        summary = `miss: the key equals run ${nearest.runId}'s, but ${
          info.reason ??
          (nearest.step.status === "succeeded"
            ? "no cache entry was found for it"
            : `that step ${nearest.step.status}, so nothing was cached`)
        }`;
      break;
  }
  return { ...base, decision: info.decision, summary, parts, comparedWith };
}
