import { describe, expect, it } from "vitest";
import { LoggedCallScorer } from "../../llm/closed-loop.js";
import { policySpecSchema } from "../../pipelines/spec/policies.js";
import { monitorDefinition } from "./definition.js";
import { runSampledEval, sampleFraction, sampledCalls } from "./llm-checks.js";
import type { WindowRow } from "./window.js";

const row = (id: string, answer: string | null, extra: Partial<WindowRow> = {}): WindowRow => ({
  id,
  at: 0,
  features: { variables: { input: id } },
  output: answer === null ? { answer_sha256: "ab".repeat(32) } : { answer, input_tokens: 3, output_tokens: 2 },
  error: null,
  latencyMs: 1,
  ...extra,
});

describe("LLM monitor checks", () => {
  it("names the field of a bad LLM check or trace stream", () => {
    const def = (raw: unknown) => () => monitorDefinition("p", "m", raw);
    expect(def({ endpoint: "bot", checks: [{ tokens: {} }] })).toThrow(
      /monitors\.m\.checks\[0\]\.tokens\.max_per_call: required/,
    );
    expect(def({ endpoint: "bot", checks: [{ sampled_eval: { min: 0.5 } }] })).toThrow(
      /sampled_eval\.scorers: required/,
    );
    expect(def({ endpoint: "bot", checks: [{ sampled_eval: { min: 0.5, percent: 0, scorers: ["exact"] } }] })).toThrow(
      /percent: expected \(0, 100\]/,
    );
    expect(def({ endpoint: "bot", traces: true, checks: ["latency"] })).toThrow(
      /one endpoint, dataset or trace stream/,
    );
    expect(def({ traces: "yes", checks: ["error_rate"] })).toThrow(
      /monitors\.m\.traces: expected true or \{model: NAME\}/,
    );
    expect(
      monitorDefinition("p", "m", { traces: { model: "gpt-4o" }, checks: [{ cost: { max_per_call: 0.01 } }] }),
    ).toMatchObject({ traces: { model: "gpt-4o" }, endpoint: null, checks: [{ kind: "cost", maxPerCall: 0.01 }] });
  });

  it("samples the same calls on every run, about the share asked, and never hashed answers", () => {
    const rows = Array.from({ length: 2000 }, (_, i) => row(`01J${String(i).padStart(8, "0")}`, "Answer"));
    const { calls } = sampledCalls(rows, 10);
    expect(calls.length).toBeGreaterThan(150);
    expect(calls.length).toBeLessThan(250);
    expect(sampledCalls(rows, 10).calls.map((c) => c.id)).toEqual(calls.map((c) => c.id));
    expect(sampleFraction("x")).toBe(sampleFraction("x"));
    const hashed = sampledCalls([row("a", null), row("b", null)], 100);
    expect(hashed).toEqual({ calls: [], hashed: 2 });
  });

  it("skips (never passes silently as scored) when the sample holds only hashes", async () => {
    const r = await runSampledEval(
      "p",
      "m",
      { kind: "sampled_eval", percent: 100, min: 0.5, scorers: ["exact"] },
      [row("a", null)],
      new LoggedCallScorer({ fetcher: fetch, secret: () => Promise.resolve("") }),
    );
    expect(r.summary).toMatch(/skipped: the 1 sampled calls were logged as hashes/);
  });

  it("scores logged answers with tandem/eval's scorers and refuses command scorers in the server", async () => {
    const scorer = new LoggedCallScorer({ fetcher: fetch, secret: () => Promise.resolve("") });
    const calls = [
      { id: "a", variables: {}, answer: "Answer: yes", prompt: "s@1" },
      { id: "b", variables: {}, answer: "no", prompt: "s@2" },
    ];
    expect(await scorer.score("p", [{ regex: "^Answer" }], calls, "w")).toEqual({
      regex: { mean: 0.5, scored: 2, errors: 0 },
    });
    await expect(scorer.score("p", [{ command: "rm -rf /" }], calls, "monitors.m")).rejects.toThrow(
      /monitors\.m\.scorers\[0\]: command scorers run only in tandem\/eval steps/,
    );
  });

  it("refuses a rollback policy that names no prompts", () => {
    const r = policySpecSchema.safeParse({ rollback: { on_alert: "quality" } });
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).toMatch(/name them in applies_to.prompts/);
    expect(
      policySpecSchema.safeParse({ applies_to: { prompts: ["support@production"] }, rollback: { on_alert: "q" } })
        .success,
    ).toBe(true);
  });
});
