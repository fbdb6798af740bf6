/**
 * The executors' part of the configuration (read by config.ts, the only reader of process.env):
 * which executor steps use when they name none, and the server's Slurm and Kubernetes defaults.
 */
import { EXECUTOR_NAMES, type ExecutorName } from "./core/pipelines/spec/executor-names.js";

export interface SlurmConfig {
  /** TANDEM_SLURM_PARTITION, _ACCOUNT, _QOS: defaults a step's `slurm:` overrides (default: Slurm's own). */
  partition?: string;
  account?: string;
  qos?: string;
  /** TANDEM_SLURM_EXTRA: sbatch flags for every job, space-separated, before the step's own `extra`. */
  extra: string[];
  /**
   * TANDEM_SLURM_DIR: a directory every node sees at the same path (a shared filesystem), for job
   * output files and step directories (default <work dir>/slurm, which only works for a one-host cluster).
   */
  dir?: string;
  /** TANDEM_SLURM_POLL_MS: how often job state and output are read (default 500). */
  pollMs: number;
  /**
   * TANDEM_SLURM_SACCT_GRACE_S: how long sacct may lag or fail after squeue lists a job as ended,
   * before squeue's own state and exit status are taken (default 15).
   */
  sacctGraceS: number;
  /**
   * TANDEM_SLURM_LOST_AFTER_S: how long a job's state may stay unknown (squeue failing or forgetting
   * the job while sacct fails) before its step fails, saying why (default 300).
   */
  lostAfterS: number;
}

export interface KubernetesConfig {
  /** TANDEM_K8S_NAMESPACE: where step Jobs go when a step names no namespace (default: the server pod's, else "default"). */
  namespace: string;
  /** TANDEM_K8S_SERVICE_ACCOUNT: the step pods' service account (default: the namespace's default). */
  serviceAccount?: string;
  /** TANDEM_K8S_AGENT: the command that starts `tandem step-agent` inside a step's image (default "tandem"). */
  agentCommand: string;
  /**
   * TANDEM_K8S_SERVER_URL: the server's API as step pods reach it (default in a cluster:
   * http://tandem-server.<POD_NAMESPACE>.svc, the Service of deploy/; else the URL the server listens on).
   */
  serverUrl?: string;
  /** TANDEM_K8S_TTL_S: how long a finished Job stays for inspection (default 3600). */
  ttlSecondsAfterFinished: number;
  /** TANDEM_K8S_UNSCHEDULABLE_S: how long a pod may stay unschedulable before its step fails (default 120). */
  unschedulableGraceS: number;
}

export interface ExecutorsConfig {
  /** TANDEM_EXECUTOR: the executor of steps that name none (default local). */
  defaultExecutor: ExecutorName;
  /**
   * TANDEM_STEP_USER: the user remote steps run as (sbatch --uid/--gid; needs a root server). Never
   * root: a server running as root without it runs Slurm steps as `nobody` (default unset).
   */
  stepUser?: string;
  slurm: SlurmConfig;
  kubernetes: KubernetesConfig;
}

type Env = Record<string, string | undefined>;

export function parseExecutorsConfig(env: Env, fail: (variable: string, message: string) => Error): ExecutorsConfig {
  const name = env.TANDEM_EXECUTOR || "local";
  if (!(EXECUTOR_NAMES as readonly string[]).includes(name))
    throw fail("TANDEM_EXECUTOR", `expected one of ${EXECUTOR_NAMES.join(", ")}, got ${JSON.stringify(name)}`);
  if (env.TANDEM_STEP_USER === "root" || env.TANDEM_STEP_USER === "0")
    throw fail("TANDEM_STEP_USER", "steps never run as root: name an unprivileged user");
  const pollRaw = env.TANDEM_SLURM_POLL_MS;
  const pollMs = pollRaw ? Number(pollRaw) : 500;
  if (!Number.isFinite(pollMs) || pollMs < 50)
    throw fail("TANDEM_SLURM_POLL_MS", `expected a number of milliseconds ≥ 50, got ${JSON.stringify(pollRaw)}`);
  const seconds = (variable: string, fallback: number) => {
    const raw = env[variable];
    const n = raw ? Number(raw) : fallback;
    if (!Number.isInteger(n) || n < 0)
      throw fail(variable, `expected a whole number of seconds ≥ 0, got ${JSON.stringify(raw)}`);
    return n;
  };
  return {
    kubernetes: {
      namespace: env.TANDEM_K8S_NAMESPACE || env.POD_NAMESPACE || "default",
      serviceAccount: env.TANDEM_K8S_SERVICE_ACCOUNT || undefined,
      agentCommand: env.TANDEM_K8S_AGENT || "tandem",
      serverUrl:
        env.TANDEM_K8S_SERVER_URL || (env.POD_NAMESPACE ? `http://tandem-server.${env.POD_NAMESPACE}.svc` : undefined),
      ttlSecondsAfterFinished: seconds("TANDEM_K8S_TTL_S", 3600),
      unschedulableGraceS: seconds("TANDEM_K8S_UNSCHEDULABLE_S", 120),
    },
    defaultExecutor: name as ExecutorName,
    stepUser: env.TANDEM_STEP_USER || undefined,
    slurm: {
      partition: env.TANDEM_SLURM_PARTITION || undefined,
      account: env.TANDEM_SLURM_ACCOUNT || undefined,
      qos: env.TANDEM_SLURM_QOS || undefined,
      extra: (env.TANDEM_SLURM_EXTRA ?? "").split(/\s+/).filter(Boolean),
      dir: env.TANDEM_SLURM_DIR || undefined,
      pollMs,
      sacctGraceS: seconds("TANDEM_SLURM_SACCT_GRACE_S", 15),
      lostAfterS: seconds("TANDEM_SLURM_LOST_AFTER_S", 300),
    },
  };
}
