/**
 * What a step becomes for sbatch: its job name, resources, time limit and the server's and step's
 * partition, account, qos and extra flags. Pure functions, so the mapping is tested without a cluster.
 */
import type { StepResources } from "../../core/pipelines/ports.js";
import type { SlurmSpec } from "../../core/pipelines/spec/executors.js";

/** `tandem.<project>.<pipeline>.<step>.<run8>`, with characters Slurm or a shell would mangle replaced. */
export function slurmJobName(project: string, pipeline: string, step: string, runId: string): string {
  const safe = (s: string) => s.replace(/[^A-Za-z0-9_.=-]/g, "_");
  return `tandem.${safe(project)}.${safe(pipeline)}.${safe(step)}.${runId.slice(0, 8)}`;
}

const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };
const DECIMAL: Record<string, number> = { k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12 };

/** A Kubernetes-style memory quantity (512Mi, 4Gi, 1G, 1000) in MiB, rounded up (Slurm's --mem unit). */
export function memoryMiB(quantity: string): number {
  const m = /^(\d+(?:\.\d+)?)([KMGT]i|[kKMGT])?B?$/.exec(quantity.trim());
  if (!m) throw new Error(`not a memory size: ${JSON.stringify(quantity)} (expected e.g. 512Mi or 4Gi)`);
  const unit = m[2] ?? "";
  const bytes = Number(m[1]) * (BINARY[unit] ?? DECIMAL[unit] ?? 1);
  return Math.max(1, Math.ceil(bytes / 2 ** 20));
}

/** CPUs as whole cores (Slurm allocates cores): 2 → 2, "500m" → 1, "1.5" → 2. */
export function wholeCpus(cpu: string | number): number {
  const n = typeof cpu === "number" ? cpu : cpu.endsWith("m") ? Number(cpu.slice(0, -1)) / 1000 : Number(cpu);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`not a CPU count: ${JSON.stringify(cpu)}`);
  return Math.max(1, Math.ceil(n));
}

export interface SbatchDefaults {
  partition?: string;
  account?: string;
  qos?: string;
  extra: string[];
}

/**
 * The flags of one job (without output paths or user). `--time` is whole minutes, rounded up: Slurm
 * has no finer limit, so Tandem also cancels the job itself when `timeoutMs` passes.
 */
export function sbatchFlags(options: {
  jobName: string;
  resources: StepResources;
  timeoutMs?: number;
  step: SlurmSpec;
  defaults: SbatchDefaults;
}): string[] {
  const { resources, step, defaults } = options;
  const flags = [`--job-name=${options.jobName}`];
  if (resources.cpu !== undefined) flags.push(`--cpus-per-task=${wholeCpus(resources.cpu)}`);
  if (resources.memory !== undefined) flags.push(`--mem=${memoryMiB(resources.memory)}M`);
  if (resources.gpu) flags.push(`--gres=gpu:${resources.gpu}`);
  if (options.timeoutMs !== undefined) flags.push(`--time=${Math.max(1, Math.ceil(options.timeoutMs / 60_000))}`);
  const partition = step.partition ?? defaults.partition;
  const account = step.account ?? defaults.account;
  const qos = step.qos ?? defaults.qos;
  if (partition) flags.push(`--partition=${partition}`);
  if (account) flags.push(`--account=${account}`);
  if (qos) flags.push(`--qos=${qos}`);
  flags.push(...defaults.extra, ...(step.extra ?? []));
  return flags;
}
