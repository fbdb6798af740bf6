/**
 * The Kubernetes objects of one step attempt: a batch/v1 Job that runs `tandem step-agent` in the
 * step's image, and the per-attempt Secret that carries the agent's job (the step's environment with
 * its secrets and the run's token), so no secret is ever in the Job's manifest. Pure functions: the
 * contract tests validate what they make against Kubernetes' published schemas.
 */
import { createHash } from "node:crypto";
import type { StepJob, StepResources } from "../../core/pipelines/ports.js";
import type { KubernetesSpec } from "../../core/pipelines/spec/executors.js";

/** Where the agent's job is mounted in the container (a Secret volume). */
export const AGENT_JOB_DIR = "/var/run/tandem";
export const AGENT_JOB_KEY = "job.json";
/**
 * The report key (report-signing.ts): in the Secret as `report.key`, which only the init container
 * mounts; it copies the key into an in-memory emptyDir at REPORT_KEY_FILE, where the agent reads it
 * and deletes it before the step starts. The step container never mounts the key in the Secret (a
 * Secret volume is read-only: the agent could not take the key away from the step).
 */
export const REPORT_KEY_KEY = "report.key";
const REPORT_KEY_SOURCE_DIR = "/var/run/tandem-key-source";
export const REPORT_KEY_DIR = "/var/run/tandem-key";
export const REPORT_KEY_FILE = `${REPORT_KEY_DIR}/${REPORT_KEY_KEY}`;
/** Where step directories live in the pod (an emptyDir). */
export const POD_WORK_ROOT = "/tandem/work";

export const LABELS = {
  project: "tandem.dev/project",
  run: "tandem.dev/run",
  step: "tandem.dev/step",
  stepId: "tandem.dev/step-id",
  attempt: "tandem.dev/attempt",
} as const;

/** The server's defaults, which a step's `kubernetes:` overrides. */
export interface KubernetesDefaults {
  /** TANDEM_K8S_NAMESPACE (default "default"). */
  namespace: string;
  /** TANDEM_K8S_SERVICE_ACCOUNT: the step pods' account (default: the namespace's default). */
  serviceAccount?: string;
  /** TANDEM_K8S_AGENT: the command that starts the step agent inside the image (default "tandem"). */
  agentCommand: string;
  /** TANDEM_K8S_TTL_S: how long a finished Job stays for inspection (default 3600 s). */
  ttlSecondsAfterFinished: number;
}

/** A DNS-1123 label (lowercase alphanumerics and '-', at most `max`), with a hash when it had to change length. */
export function dnsLabel(text: string, max = 63): string {
  const clean = text
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/-+/g, "-")
    .replace(/^-|-$/g, "");
  if (clean.length <= max && clean.length > 0) return clean;
  const hash = createHash("sha256").update(text).digest("hex").slice(0, 8);
  return `${clean.slice(0, max - 9).replace(/-$/, "")}-${hash}`.replace(/^-/, "");
}

/** A label value: at most 63 of [A-Za-z0-9-_.], starting and ending alphanumeric. */
export function labelValue(text: string): string {
  const clean = text.replace(/[^A-Za-z0-9._-]+/g, "_").replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, "");
  if (clean.length <= 63) return clean;
  return `${clean.slice(0, 54)}-${createHash("sha256").update(text).digest("hex").slice(0, 8)}`;
}

/** `tandem-<run8>-<step>-<attempt>`: one Job per attempt, since a finished Job stays until its TTL. */
export function jobName(job: Pick<StepJob, "runId" | "stepName" | "attempt">): string {
  const suffix = `-${job.attempt}`;
  return `${dnsLabel(`tandem-${job.runId.slice(0, 8)}-${job.stepName}`, 63 - suffix.length)}${suffix}`;
}

export function secretName(name: string): string {
  return `${name}-env`;
}

export function jobLabels(job: Pick<StepJob, "project" | "runId" | "stepName" | "stepId" | "attempt">) {
  return {
    [LABELS.project]: labelValue(job.project),
    [LABELS.run]: labelValue(job.runId),
    [LABELS.step]: labelValue(job.stepName),
    [LABELS.stepId]: labelValue(job.stepId),
    [LABELS.attempt]: String(job.attempt),
  };
}

/** `a=b,c=d`, for list and watch calls. */
export function selector(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
}

/**
 * `resources:` as requests and limits. CPU and memory are requested and limited alike (a step gets
 * what it asked for, and is OOMKilled past its memory); GPUs are `nvidia.com/gpu`, which Kubernetes
 * only takes as a limit (the request follows it).
 */
export function resourceRequirements(r: StepResources): {
  requests?: Record<string, string>;
  limits?: Record<string, string>;
} {
  const amounts: Record<string, string> = {};
  if (r.cpu !== undefined) amounts.cpu = String(r.cpu);
  if (r.memory !== undefined) amounts.memory = r.memory;
  const limits = { ...amounts, ...(r.gpu ? { "nvidia.com/gpu": String(r.gpu) } : {}) };
  return {
    ...(Object.keys(amounts).length ? { requests: amounts } : {}),
    ...(Object.keys(limits).length ? { limits } : {}),
  };
}

export interface AttemptObjects {
  namespace: string;
  name: string;
  job: Record<string, unknown>;
  secret: Record<string, unknown>;
}

/**
 * The Job and Secret of one attempt; `agentJob` is the JSON the agent reads (it holds the secrets),
 * `reportKey` the key that signs its report (hex).
 */
export function attemptObjects(
  job: StepJob & { execution: { image: string | null; kubernetes: KubernetesSpec } },
  defaults: KubernetesDefaults,
  agentJob: string,
  reportKey: string,
): AttemptObjects {
  const k = job.execution.kubernetes;
  const namespace = k.namespace ?? defaults.namespace;
  const name = jobName(job);
  const labels = jobLabels(job);
  const serviceAccount = k.service_account ?? defaults.serviceAccount;
  const command = `exec ${defaults.agentCommand} step-agent < ${AGENT_JOB_DIR}/${AGENT_JOB_KEY}`;
  const podSpec: Record<string, unknown> = {
    restartPolicy: "Never",
    ...(serviceAccount ? { serviceAccountName: serviceAccount } : {}),
    // The step calls Tandem's API with the run's token, never Kubernetes' with the pod's.
    automountServiceAccountToken: false,
    ...(k.node_selector ? { nodeSelector: k.node_selector } : {}),
    ...(k.tolerations ? { tolerations: k.tolerations } : {}),
    initContainers: [
      {
        name: "report-key",
        image: job.execution.image,
        command: ["/bin/sh", "-c", `cp ${REPORT_KEY_SOURCE_DIR}/${REPORT_KEY_KEY} ${REPORT_KEY_FILE}`],
        volumeMounts: [
          { name: "report-key-source", mountPath: REPORT_KEY_SOURCE_DIR, readOnly: true },
          { name: "report-key", mountPath: REPORT_KEY_DIR },
        ],
      },
    ],
    containers: [
      {
        name: "step",
        image: job.execution.image,
        command: ["/bin/sh", "-c", command],
        resources: resourceRequirements(job.resources),
        volumeMounts: [
          { name: "agent-job", mountPath: AGENT_JOB_DIR, readOnly: true },
          { name: "report-key", mountPath: REPORT_KEY_DIR },
          { name: "work", mountPath: POD_WORK_ROOT },
        ],
      },
    ],
    volumes: [
      // Readable by whatever user the image runs as: the file holds only what the step is given anyway
      // (its environment, its secrets, its run's token), and the pod is the step's alone.
      {
        name: "agent-job",
        secret: {
          secretName: secretName(name),
          defaultMode: 0o444,
          items: [{ key: AGENT_JOB_KEY, path: AGENT_JOB_KEY }],
        },
      },
      {
        name: "report-key-source",
        secret: {
          secretName: secretName(name),
          defaultMode: 0o400,
          items: [{ key: REPORT_KEY_KEY, path: REPORT_KEY_KEY }],
        },
      },
      { name: "report-key", emptyDir: { medium: "Memory" } },
      { name: "work", emptyDir: {} },
    ],
  };
  return {
    namespace,
    name,
    job: {
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name, namespace, labels },
      spec: {
        // Retries are Tandem's own: one pod per attempt.
        backoffLimit: 0,
        ...(job.timeoutMs !== undefined ? { activeDeadlineSeconds: Math.max(1, Math.ceil(job.timeoutMs / 1000)) } : {}),
        ttlSecondsAfterFinished: defaults.ttlSecondsAfterFinished,
        template: { metadata: { labels }, spec: podSpec },
      },
    },
    secret: {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: secretName(name), namespace, labels },
      type: "Opaque",
      stringData: { [AGENT_JOB_KEY]: agentJob, [REPORT_KEY_KEY]: reportKey },
    },
  };
}
