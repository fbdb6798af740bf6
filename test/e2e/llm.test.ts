/**
 * The LLM pages in Chromium against a real server: the prompt list, a prompt's versions, alias
 * history and evaluations, a version, the side-by-side diff, an evaluation's per-case table (from a
 * real tandem/eval run through a STAND-IN upstream), the trace list filtered by model and status, and
 * a trace's waterfall with its spans' attributes — each compared with what the API answers.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStandin, type Standin } from "../helpers/llm-standin.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { checkPage, ensureWebBuilt, openBrowser, signIn, type Browser } from "./browser.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- wire answers read by field in assertions
type Wire = Record<string, any>;
const P = "default";
const hex = (n: number, c: string) => c.repeat(n);

function otlpTrace(traceId: string, model: string, failed: boolean) {
  const t0 = BigInt(Date.now() - 5000) * 1_000_000n;
  const span = (
    id: string,
    parent: string | null,
    name: string,
    from: number,
    to: number,
    attrs: Wire,
    error = false,
  ) => ({
    traceId,
    spanId: id,
    ...(parent ? { parentSpanId: parent } : {}),
    name,
    kind: 1,
    startTimeUnixNano: String(t0 + BigInt(from) * 1_000_000n),
    endTimeUnixNano: String(t0 + BigInt(to) * 1_000_000n),
    attributes: Object.entries(attrs).map(([key, v]) => ({
      key,
      value: typeof v === "number" ? { intValue: v } : { stringValue: String(v) },
    })),
    status: error ? { code: 2, message: "tool failed" } : { code: 1 },
  });
  const root = traceId.slice(0, 16);
  return {
    resourceSpans: [
      {
        resource: { attributes: [{ key: "service.name", value: { stringValue: "agent" } }] },
        scopeSpans: [
          {
            spans: [
              span(root, null, "invoke_agent helper", 0, 900, {
                "gen_ai.operation.name": "invoke_agent",
                "gen_ai.request.model": model,
              }),
              span(hex(16, "1"), root, `chat ${model}`, 50, 600, {
                "gen_ai.operation.name": "chat",
                "gen_ai.request.model": model,
                "gen_ai.usage.input_tokens": 120,
                "gen_ai.usage.output_tokens": 30,
              }),
              span(
                hex(16, "2"),
                root,
                "execute_tool lookup",
                650,
                880,
                { "gen_ai.operation.name": "execute_tool" },
                failed,
              ),
            ],
          },
        ],
      },
    ],
  };
}

describe("LLM pages (e2e, Chromium)", () => {
  let t: TestServer;
  let upstream: Standin;
  let browser: Browser;
  const okTrace = hex(32, "a");
  const badTrace = hex(32, "b");

  beforeAll(async () => {
    ensureWebBuilt();
    upstream = await startStandin({ answer: (m) => (m.at(-1)!.content.includes("2+2") ? "4" : "no idea") });
    t = await startTestServer({ env: { TANDEM_OUTBOUND_ALLOW: "127.0.0.1" } });
    const s = t.server.opened.services;
    const versions = [
      [
        { role: "system", content: "Answer briefly.\nBe kind." },
        { role: "user", content: "{{ input }}" },
      ],
      [
        { role: "system", content: "Answer in one word.\nBe kind." },
        { role: "user", content: "{{ input }}" },
      ],
    ];
    for (const messages of versions)
      expect(
        (await t.api("POST", `/api/v1/projects/${P}/prompts/qa/versions`, { messages, params: { model: "standin-1" } }))
          .status,
      ).toBe(201);
    for (const version of [1, 2])
      expect((await t.api("PUT", `/api/v1/projects/${P}/prompts/qa/aliases/production`, { version })).status).toBe(200);
    const cases = ["2+2", "capital of France", "3+3"].map((input) =>
      JSON.stringify({ input, expected: input === "2+2" ? "4" : "x" }),
    );
    const blob = await s.artifacts.putBlob(cases.join("\n"));
    await s.data.createVersion("admin", P, "qa-cases", {
      kind: "file",
      entries: [{ path: "qa.jsonl", sha256: blob.sha256, size: blob.size }],
    });
    const spec = `project: ${P}
pipelines:
  evaluate:
    steps:
      eval:
        uses: tandem/eval
        inputs: { cases: dataset://qa-cases@latest }
        with:
          cases: \${{ inputs.cases }}
          prompt: qa@2
          upstream: "${upstream.url}"
          scorers: [exact, { regex: "^[0-9]" }]
`;
    expect(
      (await t.api("POST", `/api/v1/projects/${P}/specs`, { source: spec, file: "tandem.yaml" })).status,
    ).toBeLessThan(300);
    const run = await t.api<Wire>("POST", `/api/v1/projects/${P}/pipelines/evaluate/runs`, {});
    await s.pipelines.settled(run.body.id as string);
    for (const [id, model, failed] of [
      [okTrace, "gpt-4o-mini", false],
      [badTrace, "claude-haiku", true],
    ] as const) {
      const r = await fetch(`${t.url}/v1/traces`, {
        method: "POST",
        headers: { authorization: `Bearer ${t.adminToken}`, "content-type": "application/json" },
        body: JSON.stringify(otlpTrace(id, model, failed)),
      });
      expect(r.status).toBe(200);
    }
    browser = await openBrowser();
    await signIn(browser.page, t.url, t.adminToken);
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await t?.stop();
    await upstream?.close();
  });

  it("lists prompts, shows versions, alias history and a side-by-side diff as the API says", async () => {
    const { page } = browser;
    await page.getByRole("link", { name: "Prompts" }).click();
    await page.getByTestId("prompts-table").waitFor();
    await expect(page.getByTestId("prompts-table").locator('td[data-col="aliases"]').textContent()).resolves.toBe(
      "production → v2",
    );
    expect(await checkPage(page, "prompts")).toEqual([]);

    await page.getByRole("link", { name: "qa", exact: true }).click();
    await page.getByTestId("alias-history").locator("tbody tr").first().waitFor();
    const history = (await t.api<{ events: Wire[] }>("GET", `/api/v1/projects/${P}/prompts/qa/history`)).body.events;
    const shown = await page.getByTestId("alias-history").locator('td[data-col="move"]').allTextContents();
    expect(shown).toEqual(history.map((e) => `${e.from_version ? `v${e.from_version}` : "—"} → v${e.to_version}`));
    expect(await page.getByTestId("prompt-versions").locator("tbody tr").count()).toBe(2);
    expect(await checkPage(page, "prompt")).toEqual([]);

    await page.getByRole("button", { name: "Compare side by side" }).click();
    await page.getByTestId("prompt-diff").first().waitFor();
    const changed = page.getByTestId("prompt-diff").first().locator("tbody tr").first();
    await expect(changed.locator('td[data-col="a"]').textContent()).resolves.toBe("Answer briefly.");
    await expect(changed.locator('td[data-col="b"]').textContent()).resolves.toBe("Answer in one word.");
    await expect(
      page.getByTestId("prompt-diff").first().locator("tbody tr").nth(1).locator('td[data-col="b"]').textContent(),
    ).resolves.toBe("Be kind.");
    expect(await checkPage(page, "prompt-diff")).toEqual([]);
  });

  it("shows a version and its evaluation's per-case table with the run's scores", async () => {
    const { page } = browser;
    await page.goto(`${t.url}/p/${P}/prompts/qa/versions/2`);
    await expect.poll(() => page.getByTestId("prompt-message").count()).toBe(2);
    await expect(page.getByTestId("version-aliases").textContent()).resolves.toBe("production");
    await page.getByTestId("version-evaluations").locator("tbody a").first().click();
    await page.getByTestId("eval-cases").waitFor();
    const prompt = (await t.api<Wire>("GET", `/api/v1/projects/${P}/prompts/qa`)).body;
    const cases = (
      await t.api<Wire>("GET", `/api/v1/projects/${P}/prompts/qa/evaluations/${prompt.evaluations[0].id}/cases`)
    ).body;
    expect(cases.rows).toHaveLength(3);
    const answers = await page.getByTestId("eval-cases").locator('td[data-col="answer"]').allTextContents();
    expect(answers).toEqual(cases.rows.map((r: Wire) => r.answer));
    const exact = await page.getByTestId("eval-cases").locator('td[data-col="score-exact"]').allTextContents();
    expect(exact).toEqual(["1", "0", "0"]);
    expect(await checkPage(page, "eval-cases")).toEqual([]);
  });

  it("filters traces by model and status and shows a trace's waterfall with span attributes", async () => {
    const { page } = browser;
    await page.getByRole("link", { name: "Traces" }).click();
    await expect.poll(() => page.getByTestId("traces-table").locator("tbody tr").count()).toBe(2);
    expect(await checkPage(page, "traces")).toEqual([]);
    await page.getByLabel("Status").selectOption("error");
    await expect.poll(() => page.getByTestId("traces-table").locator("tbody tr").count()).toBe(1);
    await expect(page.getByTestId("traces-table").locator('td[data-col="model"]').textContent()).resolves.toBe(
      "claude-haiku",
    );
    await page.getByLabel("Status").selectOption("");
    await page.getByLabel("Model").fill("gpt-4o-mini");
    await page.getByRole("button", { name: "Filter" }).click();
    await expect.poll(() => page.getByTestId("traces-table").locator("tbody tr").count()).toBe(1);
    expect(page.url()).toContain("model=gpt-4o-mini");

    await page.getByRole("link", { name: "invoke_agent helper" }).click();
    await expect.poll(() => page.getByTestId("waterfall").locator("li").count()).toBe(3);
    const names = await page.getByTestId("waterfall").locator(".span-name").allTextContents();
    expect(names).toEqual(["invoke_agent helper", "chat gpt-4o-mini", "execute_tool lookup"]);
    await page.getByRole("button", { name: "chat gpt-4o-mini" }).click();
    const attrs = page.getByTestId("span-attributes");
    await expect.poll(() => attrs.locator('td[data-col="k"]').allTextContents()).toContain("gen_ai.usage.input_tokens");
    await expect(page.getByTestId("span-facts").textContent()).resolves.toContain("120 / 30");
    expect(await checkPage(page, "trace")).toEqual([]);
    expect(browser.errors).toEqual([]);
  });
});
