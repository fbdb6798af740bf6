/**
 * The checks for LLM calls (an LLM endpoint's prediction log or a trace stream): tokens and cost per
 * call, the feedback score, and the sampled evaluation — tandem/eval's scorers run on a share of the
 * logged calls, which is how a quality drop without errors (a prompt that answers worse) is seen.
 */
import type { CheckConfig, CheckResult } from "./model.js";
import type { WindowData, WindowRow } from "./window.js";

type LlmCheck = Extract<CheckConfig, { kind: "tokens" | "cost" | "feedback" }>;

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

function skipped(check: CheckConfig["kind"], reason: string): CheckResult {
  return { check, passed: true, summary: `skipped: ${reason}`, details: { skipped: reason } };
}

export function runLlmCheck(check: LlmCheck, window: WindowData): CheckResult {
  const { tokens, costs, feedback } = window.llm;
  switch (check.kind) {
    case "tokens": {
      if (tokens.length === 0) return skipped(check.kind, "no answered LLM calls in the window");
      const value = mean(tokens);
      return {
        check: check.kind,
        passed: value <= check.maxPerCall,
        summary: `${value.toFixed(1)} tokens per call (max ${check.maxPerCall}) over ${tokens.length} calls`,
        details: { tokens_per_call: value, max_per_call: check.maxPerCall, calls: tokens.length },
      };
    }
    case "cost": {
      if (costs.length === 0) return skipped(check.kind, "no priced LLM calls in the window (no price for the model?)");
      const value = mean(costs);
      return {
        check: check.kind,
        passed: value <= check.maxPerCall,
        summary: `cost ${value.toPrecision(3)} per call (max ${check.maxPerCall}) over ${costs.length} calls`,
        details: {
          cost_per_call: value,
          max_per_call: check.maxPerCall,
          calls: costs.length,
          total: value * costs.length,
        },
      };
    }
    case "feedback": {
      if (feedback.length === 0) return skipped(check.kind, "no feedback on the window's calls");
      const value = mean(feedback);
      return {
        check: check.kind,
        passed: value >= check.min,
        summary: `feedback score ${value.toFixed(3)} (min ${check.min}) from ${feedback.length} calls`,
        details: { feedback_score: value, min: check.min, rated_calls: feedback.length },
      };
    }
  }
}

/** One logged call to score: its variables (the case) and its answer. */
export interface SampledCall {
  id: string;
  variables: Record<string, unknown>;
  answer: string;
  /** `support@2`: the prompt version that answered, when the log says. */
  prompt: string | null;
}

/** Per scorer: the mean over the calls it scored, and how many it could not score. */
export type SampleScores = Record<string, { mean: number | null; scored: number; errors: number }>;

/** Runs tandem/eval's scorers on logged calls (the LLM area implements it). */
export interface CallScorer {
  score(project: string, scorers: unknown[], calls: SampledCall[], where: string): Promise<SampleScores>;
}

/**
 * The id hashed into [0, 1): a call is in an N% sample when this is below N/100, on every rerun.
 * FNV-1a, then MurmurHash3's finalizer: ids made one after another differ in a few characters, and
 * FNV alone leaves its high bits nearly equal for them (33 of 41 such ids fell in a 50% sample).
 */
export function sampleFraction(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 0x1_0000_0000;
}

/** The answered calls of a window in the sample, with what a scorer needs. */
export function sampledCalls(rows: WindowRow[], percent: number): { calls: SampledCall[]; hashed: number } {
  const calls: SampledCall[] = [];
  let hashed = 0;
  for (const row of rows) {
    if (row.error !== null || !row.id || sampleFraction(row.id) >= percent / 100) continue;
    const o = row.output as { answer?: unknown; answer_sha256?: unknown; prompt?: unknown } | null;
    if (typeof o?.answer !== "string") {
      // `log_content: false` endpoints keep only hashes: nothing to score.
      if (o?.answer_sha256) hashed++;
      continue;
    }
    const variables = (row.features as { variables?: Record<string, unknown> }).variables ?? {};
    calls.push({ id: row.id, variables, answer: o.answer, prompt: typeof o.prompt === "string" ? o.prompt : null });
  }
  return { calls, hashed };
}

export async function runSampledEval(
  project: string,
  monitor: string,
  check: Extract<CheckConfig, { kind: "sampled_eval" }>,
  rows: WindowRow[],
  scorer: CallScorer | null,
): Promise<CheckResult> {
  if (!scorer) return skipped(check.kind, "this server has no LLM area to run scorers");
  const { calls, hashed } = sampledCalls(rows, check.percent);
  if (calls.length === 0)
    return skipped(
      check.kind,
      hashed
        ? `the ${hashed} sampled calls were logged as hashes (log_content: false): nothing to score`
        : `no answered calls in the ${check.percent}% sample`,
    );
  const scores = await scorer.score(project, check.scorers, calls, `monitors.${monitor}.checks.sampled_eval`);
  const low = Object.entries(scores).filter(([, s]) => s.mean !== null && s.mean < check.min);
  const prompts: Record<string, number> = {};
  for (const c of calls) if (c.prompt) prompts[c.prompt] = (prompts[c.prompt] ?? 0) + 1;
  const means = Object.entries(scores)
    .map(([name, s]) => `${name} ${s.mean === null ? "-" : s.mean.toFixed(3)}`)
    .join(", ");
  return {
    check: check.kind,
    passed: low.length === 0,
    summary: `${means} on ${calls.length} sampled calls (min ${check.min})${low.length ? ` — below: ${low.map(([n]) => n).join(", ")}` : ""}`,
    details: { percent: check.percent, sampled_calls: calls.length, min: check.min, scores, prompts },
  };
}
