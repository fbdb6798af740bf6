/**
 * `POST /api/v1/projects/:project/prompts/:name/compare`: two versions of a prompt on the same
 * cases (JSON Lines in the body), through one upstream (checked by the outbound guard), scored by
 * tandem/eval's scorers; answers the per-case pairs and each version's metrics.
 */
import { z } from "zod";
import { InvalidInputError } from "../../core/errors.js";
import { comparePromptVersions } from "../../core/llm/compare.js";
import { buildScorer, parseCases, scorerSpecSchema } from "../../core/llm/scorers.js";
import { defineRoute, type AnyRoute } from "../route-kit.js";

/** Compared cases at most per request: each costs two upstream calls while the request waits. */
export const MAX_COMPARE_CASES = 500;

export const promptCompareRoutes: AnyRoute[] = [
  defineRoute({
    method: "POST",
    url: "/api/v1/projects/:project/prompts/:name/compare",
    summary: "Run two versions on the same cases through one upstream and compare them case by case.",
    tags: ["prompts"],
    auth: "bearer",
    role: "member",
    params: z.object({ project: z.string(), name: z.string() }),
    body: z.object({
      a: z.string().min(1).describe("A version: number, alias or latest."),
      b: z.string().min(1),
      cases: z.string().min(1).describe("JSON Lines: {variables | input, expected, rubric} per line."),
      cases_file: z.string().default("cases"),
      upstream: z.string().url(),
      model: z.string().optional(),
      api_key_secret: z.string().optional(),
      scorers: z.array(scorerSpecSchema).min(1).default(["exact", "contains"]),
      timeout_seconds: z.number().positive().max(600).default(60),
    }),
    handler: async ({ services, project, params, body }) => {
      const cases = parseCases(body.cases, body.cases_file);
      if (cases.length > MAX_COMPARE_CASES)
        throw new InvalidInputError(
          `${body.cases_file}: ${cases.length} cases, more than ${MAX_COMPARE_CASES} per compare`,
        );
      await services.outbound.check(body.upstream, "upstream");
      const secret = async (n: string) => (await services.secrets.values(project, [n]))[n]!;
      const fetcher = (url: string, init: Parameters<typeof services.outbound.fetch>[2]) =>
        services.outbound.fetch(url, "LLM upstream", init);
      const scorers = body.scorers.map((s, i) => {
        if (typeof s === "object" && "command" in s)
          throw new InvalidInputError(
            `scorers[${i}]: command scorers run only in tandem/eval steps, not in the server`,
          );
        return buildScorer(s, { fetcher, secret }, `scorers[${i}]`);
      });
      const prompts = services.llm.prompts;
      return comparePromptVersions({
        a: await prompts.resolve(project, `${params.name}@${body.a}`),
        b: await prompts.resolve(project, `${params.name}@${body.b}`),
        cases,
        scorers,
        upstream: body.upstream,
        apiKey: body.api_key_secret ? await secret(body.api_key_secret) : null,
        model: body.model ?? null,
        timeoutMs: body.timeout_seconds * 1000,
        fetcher,
      });
    },
  }),
];
