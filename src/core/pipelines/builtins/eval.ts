/**
 * `tandem/eval`: evaluates a prompt version (`prompt: support@candidate`, sent to `upstream`) or an
 * LLM endpoint (`endpoint: bot`, called as a client would) on a JSON Lines case set, with scorers
 * (exact, contains, regex, json_schema, numeric, command, llm_judge). The metrics land in the step's
 * tracking run (what policies gate on), the per-case table is the run's artifact `eval/cases.json`
 * (and the step's `table` output when declared), and the evaluation is linked to the prompt version
 * it judged (lineage: `tandem prompts show` lists it).
 *
 *   evaluate:
 *     uses: tandem/eval
 *     with:
 *       cases: dataset://support-cases@latest      # or a file, or ${{ inputs.cases }}
 *       prompt: support@candidate
 *       upstream: https://api.openai.com/v1
 *       api_key_secret: OPENAI_KEY
 *       scorers: [exact, { regex: "^[A-Z]" }, { llm_judge: { url: …, model: …, rubric: … } }]
 */
import { readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import type { UserCodeLauncher } from "../../ports.js";
import type { TrackingArtifacts } from "../../tracking/artifacts.js";
import type { TrackingService } from "../../tracking/service.js";
import { runEvaluation, uniqueNames, type Answerer } from "../../llm/evaluate.js";
import { buildScorer, parseCases, scorerSpecSchema } from "../../llm/scorers.js";
import { renderMessages } from "../../llm/template.js";
import { complete } from "../../llm/upstream.js";
import { defineBuiltin, type BuiltinServices } from "./contract.js";
import { dataRefOf } from "./model-args.js";
import { datasetField } from "./references.js";

declare module "./contract.js" {
  interface BuiltinServices {
    tracking?: TrackingService;
    trackingArtifacts?: TrackingArtifacts;
    /** Where `command:` scorers start (Services.userCode: the steps' sandbox). */
    userCode?: UserCodeLauncher;
  }
}

/** A cases input may be a file or a dataset directory holding one .jsonl file. */
async function casesFile(path: string): Promise<string> {
  if (!(await stat(path)).isDirectory()) return path;
  const files = (await readdir(path)).filter((f) => f.endsWith(".jsonl") || f.endsWith(".json"));
  if (files.length !== 1)
    throw new Error(`with.cases: ${path} is a directory; it must hold exactly one .jsonl file (found ${files.length})`);
  return join(path, files[0]!);
}

const DATASET = "dataset://";

/** The cases as text and what they are called: a `dataset://` version's one JSON Lines file, or a file. */
async function readCases(
  ctx: { project: string; services: BuiltinServices; pinned: Record<string, string | null> },
  cases: string,
): Promise<{ text: string; ref: string | null }> {
  // The cache key pinned `dataset://NAME@latest` to the version it resolved (`NAME@3`) in `with`.
  const dataset = ctx.pinned.cases ?? (cases.startsWith(DATASET) ? cases.slice(DATASET.length) : null);
  if (!dataset) return { text: await readFile(await casesFile(cases), "utf8"), ref: null };
  const v = await ctx.services.data.resolveDatasetVersion(ctx.project, dataset);
  const files = v.entries.filter((e) => e.path.endsWith(".jsonl") || e.path.endsWith(".json"));
  if (files.length !== 1)
    throw new Error(`with.cases: ${cases} must hold exactly one .jsonl file (found ${files.length})`);
  const chunks: Buffer[] = [];
  for await (const chunk of await ctx.services.artifacts.getBlob(files[0]!.sha256)) chunks.push(chunk as Buffer);
  return { text: Buffer.concat(chunks).toString("utf8"), ref: `${v.name}@${v.version}` };
}

export const evalBuiltin = defineBuiltin({
  name: "eval",
  description: "Evaluates a prompt version or an LLM endpoint on JSON Lines cases with scorers; records the run.",
  with: z
    .strictObject({
      cases: z.string().min(1),
      /** What the case set is called in the evaluation record, e.g. support-cases@3 (default: sha256 of it). */
      cases_ref: z.string().optional(),
      prompt: z.string().optional(),
      endpoint: z.string().optional(),
      upstream: z.string().url().optional(),
      model: z.string().optional(),
      api_key_secret: z.string().optional(),
      timeout_seconds: z.number().positive().default(60),
      scorers: z.array(scorerSpecSchema).min(1),
      concurrency: z.number().int().min(1).max(64).default(4),
    })
    .refine((w) => (w.prompt === undefined) !== (w.endpoint === undefined), {
      error: "give exactly one of prompt: or endpoint:",
    })
    .refine((w) => w.endpoint !== undefined || w.upstream !== undefined, {
      error: "a prompt: evaluation needs upstream: (an OpenAI-compatible base URL)",
    }),
  // A dataset version pins the cache key (a new version of the cases runs the evaluation again).
  references: (w) => (typeof w.cases === "string" && w.cases.startsWith(DATASET) ? datasetField(w, "cases") : []),
  async run(ctx) {
    const w = ctx.with;
    const { llm } = ctx.services;
    const source = await readCases(ctx, w.cases);
    const cases = parseCases(source.text, w.cases);
    const dataset = w.cases_ref ?? source.ref ?? (await dataRefOf(ctx, w.cases));
    const secret = async (name: string) =>
      (
        await (
          ctx.services as unknown as { secrets: { values(p: string, n: string[]): Promise<Record<string, string>> } }
        ).secrets.values(ctx.project, [name])
      )[name]!;
    const outbound = (
      ctx.services as unknown as { outbound?: { fetch: (u: string, what: string, init: never) => Promise<Response> } }
    ).outbound;
    const fetcher = outbound
      ? (url: string, init: unknown) => outbound.fetch(url, "evaluation URL", init as never)
      : undefined;
    // A command scorer is the project's code, run while the server runs this step: in the steps'
    // sandbox, in the step's directory (which links to the project's files, as a run: step's does).
    const launch = ctx.services.userCode;
    const commands = launch ? { launch, dir: ctx.workdir, show: ctx.workspace ? [ctx.workspace] : [] } : undefined;
    const scorers = uniqueNames(
      w.scorers.map((s, i) => buildScorer(s, { fetcher, secret, commands, signal: ctx.signal }, `with.scorers[${i}]`)),
    );
    let answer: Answerer;
    let judged: string;
    if (w.prompt) {
      const version = await llm.prompts.resolve(ctx.project, w.prompt);
      judged = `${version.name}@${version.version}`;
      const apiKey = w.api_key_secret ? await secret(w.api_key_secret) : null;
      answer = async (c) => {
        const r = await complete({
          baseUrl: w.upstream!,
          apiKey,
          model: version.params.model ?? w.model ?? "default",
          messages: renderMessages(version.messages, c.variables, judged),
          params: version.params,
          timeoutMs: w.timeout_seconds * 1000,
          fetcher,
        });
        return { answer: r.answer, inputTokens: r.inputTokens, outputTokens: r.outputTokens };
      };
    } else {
      judged = `endpoint ${w.endpoint}`;
      answer = async (c) => {
        const { body } = await llm.gateway.chat({
          project: ctx.project,
          endpoint: w.endpoint!,
          body: { messages: [], metadata: { variables: c.variables } },
          requestId: `eval-${ctx.stepRunId}-${c.line}`,
        });
        const choice = (body.choices as Array<{ message?: { content?: string } }> | undefined)?.[0];
        const usage = body.usage as { prompt_tokens?: number; completion_tokens?: number } | undefined;
        return {
          answer: choice?.message?.content ?? "",
          inputTokens: usage?.prompt_tokens ?? null,
          outputTokens: usage?.completion_tokens ?? null,
        };
      };
    }
    ctx.log(
      `evaluating ${judged} on ${cases.length} cases from ${dataset} with ${scorers.map((s) => s.name).join(", ")}`,
    );
    const outcome = await runEvaluation(cases, answer, scorers, {
      concurrency: w.concurrency,
      onCase: (done, total) => {
        if (done === total || done % Math.max(1, Math.round(total / 10)) === 0) ctx.log(`${done}/${total} cases`);
      },
    });
    for (const r of outcome.rows.filter((x) => x.error || Object.keys(x.score_errors).length).slice(0, 10))
      ctx.log(
        `case line ${r.line}: ${
          r.error ??
          Object.entries(r.score_errors)
            .map(([k, v]) => `${k}: ${v}`)
            .join("; ")
        }`,
      );
    ctx.log(
      Object.entries(outcome.metrics)
        .map(([k, v]) => `${k}=${Number.isInteger(v) ? v : v.toFixed(4)}`)
        .join(" "),
    );
    const table = JSON.stringify({ evaluated: judged, dataset, metrics: outcome.metrics, rows: outcome.rows }, null, 1);
    if (ctx.outputs.table)
      await writeFile(join(ctx.outputs.table, "cases.json"), table).catch(() => writeFile(ctx.outputs.table!, table));
    const { tracking, trackingArtifacts } = ctx.services;
    if (tracking && trackingArtifacts && ctx.trackingRunId) {
      const run = await tracking.getRun(ctx.project, ctx.trackingRunId);
      await trackingArtifacts.put(
        ctx.actor,
        ctx.project,
        `${run.info.experimentId}/${ctx.trackingRunId}/artifacts/eval/cases.json`,
        table,
      );
      await tracking.logBatch(ctx.actor, ctx.project, ctx.trackingRunId, {
        tags: [{ key: "tandem.eval.target", value: judged }],
      });
    }
    if (w.prompt)
      await llm.prompts.recordEvaluation(ctx.actor, ctx.project, judged, {
        dataset,
        metrics: outcome.metrics,
        runId: ctx.trackingRunId,
        // Made by this step, in process: pipeline evidence (the API's evaluations are manual).
        provenance: { pipelineRunId: ctx.runId, step: ctx.step, stepRunId: ctx.stepRunId },
      });
    return { metrics: outcome.metrics };
  },
});
