/**
 * The tandem.yaml schema: the one source of truth for what a spec may say. `tandem validate` checks
 * files against it, `tandem schema` exports it as JSON Schema for editors, and the reference in
 * docs/reference/tandem-yaml.md is generated from it. Semantic checks (needs, cycles, expressions)
 * that a schema cannot express live in validate.ts.
 */
import { z } from "zod";
import { datasetSpecSchema } from "./datasets.js";
import { endpointSpecSchema } from "./endpoints.js";
import { monitorSpecSchema } from "./monitors.js";
import { durationSchema, identSchema, nameSchema, scalarSchema, secretNameSchema } from "./names.js";
import { policySpecSchema } from "./policies.js";
import { llmProjectSpecSchema } from "./llm.js";
import { executionFields } from "./executors.js";

export const PARAM_TYPES = ["string", "number", "integer", "boolean"] as const;
export type ParamType = (typeof PARAM_TYPES)[number];

/** A param: a bare default (its type inferred) or `{type, default, description, choices}`. */
export const paramSpecSchema = z.union([
  scalarSchema,
  z.strictObject({
    type: z.enum(PARAM_TYPES).optional(),
    default: scalarSchema,
    description: z.string().optional(),
    choices: z.array(scalarSchema).optional(),
  }),
]);

export const CONCURRENCY_POLICIES = ["queue", "skip", "cancel-previous"] as const;
export type ConcurrencyPolicy = (typeof CONCURRENCY_POLICIES)[number];

const TRIGGER_KINDS = ["manual", "schedule", "git", "data", "alert"] as const;

/**
 * One trigger: exactly one of `schedule`, `git`, `data`, `alert`, `manual`.
 *   - schedule: "0 3 * * *"        (5- or 6-field cron; `timezone:` IANA name, default UTC)
 *   - git: { branch: main, repo: ., poll: 60s }  (push webhook; `repo` + `poll` also poll a local clone)
 *   - data: flights               (a new version of this dataset)
 *   - alert: flights-drift        (this named alert fires)
 */
export const triggerSpecSchema = z
  .strictObject({
    manual: z.literal(true).optional(),
    schedule: z.string().min(1).optional(),
    timezone: z.string().min(1).optional(),
    git: z
      .strictObject({
        branch: z.string().min(1).default("main"),
        repo: z
          .string()
          .optional()
          .describe("A local clone to poll (relative to tandem.yaml); without it only webhooks start runs."),
        poll: durationSchema.optional().describe("How often to poll `repo` (default 60s)."),
      })
      .optional(),
    data: nameSchema.optional(),
    alert: z.string().min(1).optional(),
    params: z
      .record(identSchema, scalarSchema)
      .optional()
      .describe("Params this trigger's runs use instead of the defaults."),
  })
  .superRefine((t, ctx) => {
    const kinds = TRIGGER_KINDS.filter((k) => t[k] !== undefined);
    if (kinds.length !== 1) {
      ctx.addIssue({
        code: "custom",
        message: `a trigger has exactly one of ${TRIGGER_KINDS.join(", ")} (found ${kinds.length === 0 ? "none" : kinds.join(", ")})`,
      });
    }
    if (t.timezone !== undefined && t.schedule === undefined) {
      ctx.addIssue({ code: "custom", path: ["timezone"], message: "timezone only applies to a schedule trigger" });
    }
  });

export const OUTPUT_KINDS = ["dir", "file"] as const;
export type OutputKind = (typeof OUTPUT_KINDS)[number];

export const stepSpecSchema = z
  .strictObject({
    description: z.string().optional(),
    run: z
      .string()
      .min(1)
      .optional()
      .describe("A shell script (bash where present, else sh). Expressions are substituted shell-quoted."),
    uses: z
      .string()
      .regex(/^tandem\/[a-z][a-z0-9-]*$/, { error: 'expected "tandem/<name>", e.g. tandem/register' })
      .optional()
      .describe("A built-in step, `tandem/<name>` (see docs/guides/pipelines.md for the list)."),
    with: z
      .record(z.string(), z.unknown())
      .optional()
      .describe("Arguments of a built-in step; expressions are substituted as plain values."),
    needs: z
      .union([nameSchema, z.array(nameSchema)])
      .optional()
      .describe("Steps that must finish first (steps whose outputs this step references are added implicitly)."),
    inputs: z
      .record(identSchema, z.string().min(1))
      .optional()
      .describe(
        "Inputs materialised in the step's private directory: `${{ steps.X.outputs.Y }}`, `dataset://name@version`, or a path inside the project folder (hashed, so editing it invalidates the cache).",
      ),
    outputs: z
      .record(identSchema, z.enum(OUTPUT_KINDS))
      .optional()
      .describe("Outputs the step writes to `$TANDEM_OUTPUT_<NAME>` (a directory, or a file path)."),
    metrics: z
      .string()
      .min(1)
      .optional()
      .describe("A JSON file (relative to the step's directory): `{name: number}` or `[{name, value, step}]`."),
    retries: z
      .number()
      .int()
      .min(0)
      .max(20)
      .optional()
      .describe("Extra attempts after a failure, with exponential backoff (default 0)."),
    timeout: durationSchema
      .optional()
      .describe(
        "Kill the step's whole process tree after this long (Slurm --time, Kubernetes activeDeadlineSeconds; default: none).",
      ),
    ...executionFields,
    resources: z
      .strictObject({
        cpu: z
          .union([
            z.string().regex(/^\d+(\.\d+)?m?$/, { error: 'expected a CPU count such as 2, "0.5" or "500m"' }),
            z.number().positive(),
          ])
          .optional()
          .describe("CPUs (Slurm --cpus-per-task, rounded up; Kubernetes requests and limits)."),
        memory: z
          .string()
          .regex(/^\d+(\.\d+)?([KMGT]i?|[kMGT]B?)?$/, { error: 'expected a memory size such as "512Mi" or "4Gi"' })
          .optional()
          .describe("Memory, Kubernetes-style (512Mi, 4Gi; Slurm --mem in MiB)."),
        gpu: z.number().int().min(0).optional().describe("GPUs (Slurm --gres=gpu:N; Kubernetes nvidia.com/gpu)."),
        image: z.string().optional().describe("Deprecated: use the step's image: (tandem validate warns)."),
      })
      .optional()
      .describe("What the step needs; Slurm and Kubernetes enforce it, the local executor does not."),
    secrets: z
      .array(secretNameSchema)
      .optional()
      .describe(
        "Secrets put into the step's environment under their own names (`tandem secrets set NAME`); masked in logs.",
      ),
    if: z
      .union([z.string().min(1), z.boolean()])
      .optional()
      .describe(
        "Skip the step (status `skipped`) unless this is true: `${{ params.deploy && env.BRANCH == 'main' }}`.",
      ),
    matrix: z
      .record(identSchema, z.array(scalarSchema).min(1))
      .optional()
      .describe(
        "Fan out one step run per combination: `{ learning_rate: [0.01, 0.1] }` (overrides params of those names).",
      ),
    env: z
      .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), scalarSchema)
      .optional()
      .describe("Environment variables of this step (values may use `${{ params.x }}`, substituted as plain text)."),
    cache: z
      .union([
        z.boolean(),
        z.strictObject({
          files: z
            .array(z.string().min(1))
            .min(1)
            .describe("Globs of project files the step reads (`steps/**/*.py`): their content is part of the key."),
        }),
      ])
      .optional()
      .describe(
        "false: run every time (a step with side effects, e.g. a deploy). `{ files: [globs] }`: also key the step on those project files, for what a `run:` script reads that is not an input (default true).",
      ),
  })
  .superRefine((s, ctx) => {
    if ((s.run === undefined) === (s.uses === undefined)) {
      ctx.addIssue({ code: "custom", message: "a step has exactly one of run: or uses:" });
    }
    if (s.with !== undefined && s.uses === undefined) {
      ctx.addIssue({ code: "custom", path: ["with"], message: "with: only applies to a uses: step" });
    }
  });

export const pipelineSpecSchema = z.strictObject({
  description: z.string().optional(),
  params: z
    .record(identSchema, paramSpecSchema)
    .optional()
    .describe(
      "Params with their defaults; override per run with `tandem run -p key=value` (checked against the type).",
    ),
  triggers: z
    .array(triggerSpecSchema)
    .optional()
    .describe("What starts the pipeline besides `tandem run`: schedule, git, data, alert."),
  concurrency: z
    .enum(CONCURRENCY_POLICIES)
    .optional()
    .describe("What a new run does while another run of this pipeline is active (default queue)."),
  env: z
    .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), scalarSchema)
    .optional()
    .describe("Environment for every step (a step's own env: wins)."),
  ...executionFields,
  steps: z
    .record(nameSchema, stepSpecSchema)
    .refine((s) => Object.keys(s).length > 0, { error: "a pipeline needs at least one step" })
    .describe("The steps, by name; they form a DAG through `needs:` and the outputs they reference."),
});

export const tandemSpecSchema = z.strictObject({
  project: nameSchema
    .optional()
    .describe('The project this spec belongs to (default: the CLI\'s --project, else "default").'),
  description: z.string().optional(),
  repository: z
    .string()
    .regex(/^(https:\/\/|\/)/, "an https:// URL or an absolute folder on the server")
    .optional()
    .describe(
      "The git repository runs of a commit (a push, `tandem run --at`) fetch it from: an https:// URL (checked by the outbound guard) or a folder on the server (default: the git repository holding tandem.yaml's folder). A trigger's `repo:` wins for that trigger.",
    ),
  datasets: z
    .record(nameSchema, datasetSpecSchema)
    .optional()
    .describe("Named datasets, for `dataset://name@version` inputs."),
  pipelines: z.record(nameSchema, pipelineSpecSchema).optional().describe("Pipelines, by name."),
  policies: z
    .record(nameSchema, policySpecSchema)
    .optional()
    .describe("Gates a model version must pass before an alias or a deployment."),
  endpoints: z.record(nameSchema, endpointSpecSchema).optional().describe("Served models following an alias."),
  monitors: z
    .record(nameSchema, monitorSpecSchema)
    .optional()
    .describe("Scheduled checks on an endpoint or a dataset."),
  llm: llmProjectSpecSchema
    .optional()
    .describe("Project LLM settings: the per-model price table and how long traces are kept."),
});

export type TandemSpec = z.infer<typeof tandemSpecSchema>;
export type PipelineSpec = z.infer<typeof pipelineSpecSchema>;
export type StepSpec = z.infer<typeof stepSpecSchema>;
export type TriggerSpec = z.infer<typeof triggerSpecSchema>;
export type ParamSpec = z.infer<typeof paramSpecSchema>;

/** The JSON Schema editors use (`tandem schema`), from the same zod schema. */
export function tandemJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(tandemSpecSchema, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
  return { ...schema, $id: "https://tandem.dev/schemas/tandem.yaml.json", title: "tandem.yaml" };
}
