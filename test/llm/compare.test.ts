/**
 * `tandem prompts compare` through the real CLI against a real server: two versions answer the same
 * cases through a STAND-IN upstream, and the output pairs them case by case (changed answers,
 * better/worse by scorer, each version's metrics); bad input is refused with the field named.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PromptComparison } from "../../src/core/llm/compare.js";
import { startStandin, type Standin } from "../helpers/llm-standin.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { cli } from "../pipelines/cli.js";

describe("tandem prompts compare", () => {
  let t: TestServer;
  let upstream: Standin;
  let dir: string;
  const run = (args: string[]) => cli(args, { cwd: dir, env: { TANDEM_URL: t.url, TANDEM_TOKEN: t.adminToken } });

  beforeAll(async () => {
    upstream = await startStandin({
      answer: (m) => {
        const q = m.at(-1)!.content;
        const terse = m[0]!.content.includes("terse");
        if (q.includes("2+2")) return terse ? "4" : "The answer is 4";
        if (q.includes("capital")) return terse ? "Lyon" : "Paris";
        return "no idea";
      },
    });
    t = await startTestServer({ env: { TANDEM_OUTBOUND_ALLOW: "127.0.0.1" } });
    for (const system of ["Answer fully.", "Be terse."])
      await t.api("POST", "/api/v1/projects/default/prompts/qa/versions", {
        messages: [
          { role: "system", content: system },
          { role: "user", content: "{{ input }}" },
        ],
        params: { model: "standin-1" },
      });
    dir = mkdtempSync(join(tmpdir(), "llm-compare-"));
    writeFileSync(
      join(dir, "cases.jsonl"),
      [
        '{"input": "2+2", "expected": "4"}',
        '{"input": "capital of France", "expected": "Paris"}',
        '{"input": "why", "expected": "x"}',
      ].join("\n"),
    );
  }, 60_000);
  afterAll(async () => {
    await t?.stop();
    await upstream?.close();
  });

  it("shows each version's metrics and the cases whose answers changed, better or worse", async () => {
    const r = await run(["prompts", "compare", "qa@1", "qa@2", "--cases", "cases.jsonl", "--upstream", upstream.url]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/exact\.mean\s+0\.333\d*\s+→ 0\.333/);
    expect(r.stdout).toMatch(/2 of 3 answers changed; exact: 1 better, 1 worse; contains: 0 better, 1 worse/);
    expect(r.stdout).toMatch(
      /\+ line 1: .*\n {4}qa@1: The answer is 4 {2}exact=0 contains=1\n {4}qa@2: 4 {2}exact=1 contains=1/,
    );
    expect(r.stdout).toMatch(/- line 2: /);
    expect(r.stdout).not.toMatch(/line 3:/);

    const json = await run([
      "prompts",
      "compare",
      "qa@1",
      "2",
      "--cases",
      "cases.jsonl",
      "--upstream",
      upstream.url,
      "--scorers",
      "[exact]",
      "--json",
    ]);
    expect(json.code, json.stderr).toBe(0);
    const c = JSON.parse(json.stdout) as PromptComparison;
    expect(c.cases.map((x) => [x.line, x.changed, x.delta.exact])).toEqual([
      [1, true, 1],
      [2, true, -1],
      [3, false, 0],
    ]);
    expect(Object.keys(c.summary.better)).toEqual(["exact"]);
  });

  it("refuses bad input with the field or line named", async () => {
    writeFileSync(join(dir, "bad.jsonl"), '{"input": "ok"}\nnot json\n');
    const bad = await run(["prompts", "compare", "qa@1", "qa@2", "--cases", "bad.jsonl", "--upstream", upstream.url]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/bad\.jsonl:2: not JSON/);
    const cmd = await run([
      "prompts",
      "compare",
      "qa@1",
      "qa@2",
      "--cases",
      "cases.jsonl",
      "--upstream",
      upstream.url,
      "--scorers",
      "[{command: 'rm -rf /'}]",
    ]);
    expect(cmd.stderr).toMatch(/scorers\[0\]: command scorers run only in tandem\/eval steps/);
    const other = await run([
      "prompts",
      "compare",
      "qa@1",
      "other@2",
      "--cases",
      "cases.jsonl",
      "--upstream",
      upstream.url,
    ]);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/name two prompts/);
  });

  it("a variable named like an Object.prototype member is the case's own or missing", async () => {
    // Before, a case without `constructor` rendered Object's function (as "undefined") instead of failing.
    const created = await t.api("POST", "/api/v1/projects/default/prompts/proto/versions", {
      messages: [{ role: "user", content: "{{ constructor }} {{ toString }}: {{ input }}" }],
      params: { model: "standin-1" },
    });
    expect(created.status).toBe(201);
    writeFileSync(
      join(dir, "proto.jsonl"),
      ['{"input": "2+2"}', '{"variables": {"input": "2+2", "constructor": "c", "toString": "t"}}'].join("\n"),
    );
    const r = await run([
      "prompts",
      "compare",
      "proto@1",
      "proto@1",
      "--cases",
      "proto.jsonl",
      "--upstream",
      upstream.url,
      "--json",
    ]);
    expect(r.code, r.stderr).toBe(0);
    const c = JSON.parse(r.stdout) as PromptComparison;
    expect(c.cases.map((x) => x.a.error)).toEqual([
      'prompt proto@1 needs variables "constructor", "toString"; got "input"',
      null,
    ]);
    // `{{ __proto__ }}` no JSON body can fill (the server refuses that key): refused when written.
    const reserved = await t.api<{ error: { message: string } }>(
      "POST",
      "/api/v1/projects/default/prompts/proto/versions",
      {
        messages: [{ role: "user", content: "{{ __proto__ }}" }],
      },
    );
    expect(reserved.status).toBe(400);
    expect(reserved.body.error.message).toMatch(/messages\[0\]\.content: placeholder "\{\{ __proto__ \}\}".*reserved/);
  });
});
