/**
 * `uses: tandem/eval` in a real pipeline run (embedded stores): a prompt version on JSON Lines cases
 * through a STAND-IN upstream, every scorer kind, an LLM judge whose unparseable judgement is an
 * error and never a number, metrics on the step's tracking run, the per-case table as its artifact,
 * the evaluation linked to the prompt version, and a prompt policy gating an alias on it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseJudgement } from "../../src/core/llm/scorers.js";
import { startStandin, type Standin } from "../helpers/llm-standin.js";
import { byName, sandbox, type Sandbox } from "../pipelines/helpers.js";

const CASES = [
  { input: "2+2", expected: "4" },
  { input: "capital of France", expected: "Paris", rubric: "Correct city" },
  { input: "json please", expected: { type: "object", required: ["ok"] } },
  { input: "unsure", expected: "x", rubric: "JUDGE-UNSURE" },
];

describe("tandem/eval", () => {
  let box: Sandbox;
  let upstream: Standin;

  beforeAll(async () => {
    upstream = await startStandin({
      answer: (messages) => {
        const last = messages.at(-1)!.content;
        if (messages[0]?.content.startsWith("You grade answers"))
          return last.includes("JUDGE-UNSURE") ? "I think it is fine" : "Looks right.\nSCORE: 4";
        if (last.includes("2+2")) return "4";
        if (last.includes("France")) return "It is Paris";
        if (last.includes("json")) return '{"ok": true}';
        return "no idea";
      },
    });
    box = await sandbox({ TANDEM_OUTBOUND_ALLOW: "127.0.0.1" });
    const prompts = box.opened.services.llm.prompts;
    await prompts.createVersion("admin", "default", "qa", {
      messages: [
        { role: "system", content: "Answer briefly." },
        { role: "user", content: "{{ input }}" },
      ],
      params: { model: "standin-1" },
    });
    box.write("cases/qa.jsonl", CASES.map((c) => JSON.stringify(c)).join("\n") + "\n");
    box.write(
      "scorers/len.sh",
      '#!/bin/sh\nnode -e \'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).answer.length<20?1:0))\'\n',
    );
    await box.apply(`pipelines:
  evaluate:
    steps:
      eval:
        uses: tandem/eval
        inputs:
          cases: cases/qa.jsonl
        with:
          cases: \${{ inputs.cases }}
          cases_ref: qa-cases@1
          prompt: qa@latest
          upstream: ${upstream.url}
          scorers:
            - exact
            - contains
            - regex: "^[0-9A-Z{]"
            - json_schema
            - numeric: { tolerance: 0.5 }
            - command: sh scorers/len.sh
            - llm_judge: { url: "${upstream.url}", model: judge-1, scale: 5 }
policies:
  prompt-quality:
    applies_to: { prompts: [qa] }
    require:
      - metric: "exact.mean >= 0.5"
`);
  }, 60_000);

  afterAll(async () => {
    await box?.close();
    await upstream?.close();
  });

  it("parses judgements strictly", () => {
    expect(parseJudgement("good\nSCORE: 3", 5)).toEqual({ score: 0.6 });
    expect(parseJudgement("SCORE: 1\nSCORE: 2", 2)).toEqual({ score: 1 });
    expect(parseJudgement("looks fine", 5)).toMatchObject({ error: expect.stringMatching(/no "SCORE/) });
    expect(parseJudgement("SCORE: high", 5)).toMatchObject({ error: expect.stringMatching(/not a number/) });
    expect(parseJudgement("SCORE: 7", 5)).toMatchObject({ error: expect.stringMatching(/outside 0..5/) });
  });

  it("runs every scorer, records the run, its case table and the version's evaluation", async () => {
    const run = await box.run("evaluate");
    const step = byName(run).eval!;
    expect(step.status, JSON.stringify(step)).toBe("succeeded");
    const s = box.opened.services;
    const tracking = await s.tracking.getRun("default", step.trackingRunId!);
    const m = Object.fromEntries(tracking.metrics.map((x) => [x.key, x.value]));
    expect(m).toMatchObject({
      cases: 4,
      answer_errors: 0,
      "exact.mean": 0.25,
      "exact.errors": 0,
      "contains.mean": 0.5,
      "numeric.errors": 3,
      "numeric.mean": 1,
      "llm_judge.mean": 0.8,
      // The unsure judgement is an error, not a score; so are the two cases without a rubric.
      "llm_judge.errors": 3,
      "command.mean": 1,
    });
    // "4" and {"ok": true} parse as JSON; the latter validates against its case's schema; prose does not parse.
    expect(m["json_schema.mean"]).toBe(0.5);
    const evaluations = await s.llm.prompts.evaluations("default", "qa", 1);
    expect(evaluations).toHaveLength(1);
    expect(evaluations[0]).toMatchObject({
      dataset: "qa-cases@1",
      runId: step.trackingRunId,
      source: "pipeline",
      pipelineRunId: run.id,
      step: "eval",
    });
    const artifacts = await s.trackingArtifacts.list(
      "default",
      `${tracking.info.experimentId}/${step.trackingRunId}/artifacts/eval`,
    );
    expect(JSON.stringify(artifacts)).toContain("cases.json");
  });

  it("gates the prompt's alias on the evaluation: exact.mean 0.25 < 0.5 is refused with the check", async () => {
    const prompts = box.opened.services.llm.prompts;
    await expect(prompts.setAlias("admin", "default", "qa@1", "production")).rejects.toThrow(
      /policy refused qa@1 → production: exact.mean >= 0.5/,
    );
  });
});
