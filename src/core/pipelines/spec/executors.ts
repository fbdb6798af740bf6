/**
 * Where a step runs: `executor`, `image`, `slurm` and `kubernetes`, allowed on a pipeline (defaults
 * for its steps) and on a step (which wins). `stepExecution()` merges the two, so the engine and the
 * executors read one resolved value and never the raw spec.
 */
import { z } from "zod";
import { EXECUTOR_NAMES, type ExecutorName } from "./executor-names.js";

export { EXECUTOR_NAMES, type ExecutorName };

/** Slurm submission options; unset fields fall back to the server's `TANDEM_SLURM_*` defaults. */
export const slurmSpecSchema = z.strictObject({
  partition: z.string().min(1).optional().describe("`--partition` (default: TANDEM_SLURM_PARTITION, else Slurm's)."),
  account: z.string().min(1).optional().describe("`--account` (default: TANDEM_SLURM_ACCOUNT)."),
  qos: z.string().min(1).optional().describe("`--qos` (default: TANDEM_SLURM_QOS)."),
  extra: z
    .array(
      z.string().regex(/^--?[A-Za-z]/, { error: 'an extra sbatch flag starts with "-", e.g. "--constraint=a100"' }),
    )
    .optional()
    .describe('More sbatch flags, each one argument: ["--constraint=a100", "--exclusive"] (after TANDEM_SLURM_EXTRA).'),
});
export type SlurmSpec = z.infer<typeof slurmSpecSchema>;

export const tolerationSchema = z.strictObject({
  key: z.string().optional(),
  operator: z.enum(["Exists", "Equal"]).optional(),
  value: z.string().optional(),
  effect: z.enum(["NoSchedule", "PreferNoSchedule", "NoExecute"]).optional(),
  tolerationSeconds: z.number().int().optional(),
});

/** Kubernetes Job options; unset fields fall back to the server's `TANDEM_K8S_*` defaults. */
export const kubernetesSpecSchema = z.strictObject({
  namespace: z.string().min(1).optional().describe("Namespace of the step's Job (default: TANDEM_K8S_NAMESPACE)."),
  service_account: z.string().min(1).optional().describe("The pod's service account (default: the namespace's)."),
  node_selector: z.record(z.string(), z.string()).optional().describe("Node labels the pod must match."),
  tolerations: z.array(tolerationSchema).optional().describe("Taints the pod tolerates (Kubernetes' own fields)."),
});
export type KubernetesSpec = z.infer<typeof kubernetesSpecSchema>;

/** The fields a pipeline and a step both accept (the step's win). */
export const executionFields = {
  executor: z
    .enum(EXECUTOR_NAMES)
    .optional()
    .describe("Where the step runs: local (default, or the server's TANDEM_EXECUTOR), slurm or kubernetes."),
  image: z
    .string()
    .min(1)
    .optional()
    .describe("The container image (required for kubernetes; part of the environment digest). Pin it with @sha256:."),
  slurm: slurmSpecSchema.optional().describe("Slurm options: partition, account, qos, extra sbatch flags."),
  kubernetes: kubernetesSpecSchema
    .optional()
    .describe("Kubernetes options: namespace, service_account, node_selector, tolerations."),
};

interface ExecutionSource {
  executor?: ExecutorName;
  image?: string;
  slurm?: SlurmSpec;
  kubernetes?: KubernetesSpec;
  resources?: { image?: string };
}

/** A step's resolved execution settings (step over pipeline; `resources.image` as the old spelling of `image`). */
export interface StepExecution {
  /** null: the server's default executor. */
  executor: ExecutorName | null;
  image: string | null;
  slurm: SlurmSpec;
  kubernetes: KubernetesSpec;
}

export function stepExecution(step: ExecutionSource, pipeline?: ExecutionSource): StepExecution {
  return {
    executor: step.executor ?? pipeline?.executor ?? null,
    image: step.image ?? step.resources?.image ?? pipeline?.image ?? null,
    // Field by field: a step that only names its partition keeps the pipeline's account.
    slurm: { ...pipeline?.slurm, ...step.slurm },
    kubernetes: { ...pipeline?.kubernetes, ...step.kubernetes },
  };
}
