import { z } from "zod";
import { defineRoute, type AnyRoute } from "../route-kit.js";

const projectParams = z.object({ project: z.string() });

const evidenceWire = z.object({
  kind: z.enum(["run", "spec", "decision", "alert", "deployment", "model_version", "endpoint"]),
  id: z.string(),
  href: z.string().describe("The record's page in the UI."),
  note: z.string(),
});

export const maturityWire = z.object({
  project: z.string(),
  level: z.union([z.literal(0), z.literal(1), z.literal(2)]),
  passed: z.number().int(),
  total: z.number().int(),
  criteria: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      level: z.union([z.literal(1), z.literal(2)]),
      passed: z.boolean(),
      evidence: z.array(evidenceWire),
      next_step: z.string().nullable(),
    }),
  ),
  signs: z
    .array(z.object({ id: z.string(), name: z.string(), evidence: z.array(evidenceWire) }))
    .describe(
      "Level-0 signs: a version no run produced, an endpoint without prediction logging, no release in 90 days.",
    ),
  evaluated_at: z.number(),
});

export const maturityRoutes: AnyRoute[] = [
  defineRoute({
    method: "GET",
    url: "/api/v1/projects/:project/maturity",
    summary:
      "The project's MLOps maturity (Google's levels 0–2), graded from the runs, specs, decisions, deployments and alerts it recorded.",
    tags: ["portal"],
    auth: "bearer",
    role: "viewer",
    params: projectParams,
    response: maturityWire,
    handler: async ({ services, project }) => services.maturity.grade(project),
  }),
];
