/**
 * KubernetesExecutor: a step attempt becomes a batch/v1 Job that runs `tandem step-agent` in the
 * step's image (manifests.ts). The agent fetches inputs and uploads outputs through Tandem's API with
 * the run's token, and ends its log with its report, which this executor reads from the pod's log.
 *
 * - State comes from a watch that re-lists (job-watch.ts); pods are looked at while the Job runs, for
 *   what Kubernetes says about a pod that cannot start: ImagePullBackOff and unschedulable fail the
 *   step with Kubernetes' reason and message (after a grace for unschedulable, which an autoscaler may
 *   cure), OOMKilled names itself.
 * - The agent's job, with the step's secrets and token, is a per-attempt Secret, deleted afterwards.
 * - Cancel deletes the Job with foreground propagation. A timeout is the Job's activeDeadlineSeconds.
 * - A restarted server reattaches: by the recorded `namespace/name`, or by the attempt's labels when
 *   the server died between creating the Job and recording it. It never creates a second Job.
 */
import { released, type Executor, type JobResult, type StepJob, type StepProcess } from "../../core/pipelines/ports.js";
import { agentJobFor } from "../agent/agent-job.js";
import type { ReportSigning } from "../agent/report-signing.js";
import { JobWatch } from "./job-watch.js";
import { KubeApiError, type KubeApi, type KubeJob, type KubePod } from "./kube-api.js";
import {
  attemptObjects,
  jobLabels,
  POD_WORK_ROOT,
  REPORT_KEY_FILE,
  secretName,
  selector,
  type KubernetesDefaults,
} from "./manifests.js";

export interface KubernetesExecutorOptions {
  api: KubeApi;
  defaults: KubernetesDefaults;
  /**
   * Signs the agent's report (derived from the server's secret key, so the same after a restart and
   * on every server): a report line the step prints itself never counts.
   */
  reports: ReportSigning;
  /** How often pods are looked at while the Job has not finished (default 1000 ms). */
  pollMs?: number;
  /** How long a pod may stay unschedulable before the step fails with the scheduler's message (default 120 s). */
  unschedulableGraceMs?: number;
  /**
   * The server's API as step pods reach it (a Service address); it replaces the server's own URL in
   * the step's environment (TANDEM_URL, MLFLOW_TRACKING_URI) (default: the URL as the step got it).
   */
  serverUrl?: string;
  /** Why Kubernetes steps cannot work from this server, or null (validate's warning). */
  problem?: () => string | null | Promise<string | null>;
}

/** Waiting reasons of a container that will not start by waiting longer. */
const HOPELESS_WAITING = new Set(["ImagePullBackOff", "ErrImageNeverPull", "InvalidImageName"]);

const failed = (error: string, exitCode: number | null = null): JobResult => ({
  outcome: "failed",
  exitCode,
  outputs: {},
  error,
});

function condition(job: KubeJob, type: string): { reason?: string; message?: string } | null {
  const c = job.status?.conditions?.find((x) => x.type === type && x.status === "True");
  return c ? { reason: c.reason, message: c.message } : null;
}

export class KubernetesExecutor implements Executor {
  readonly name = "kubernetes";

  constructor(private readonly o: KubernetesExecutorOptions) {}

  async problem(): Promise<string | null> {
    return (await this.o.problem?.()) ?? null;
  }

  /** Inside the pod: an emptyDir the agent makes the step's directory in. */
  workdir(runId: string, stepId: string, attempt: number): string {
    return `${POD_WORK_ROOT}/${runId}/${stepId}-${attempt}`;
  }

  killOrphan(info: StepProcess): Promise<string> {
    return Promise.resolve(`left process ${info.pid} alone: Kubernetes steps have no local process`);
  }

  async run(job: StepJob): Promise<JobResult> {
    if (!job.execution.image) return failed("a kubernetes step needs an image: set image: on the step or its pipeline");
    if (!job.env.TANDEM_URL || !job.env.TANDEM_TOKEN)
      return failed("a kubernetes step needs the server's API (TANDEM_URL) for its inputs and outputs; none is set");
    const json = JSON.stringify(agentJobFor(job, this.o.reports.nonce(job), this.podEnv(job.env), REPORT_KEY_FILE));
    const objects = attemptObjects(job, this.o.defaults, json, this.o.reports.key(job).toString("hex"));
    const { namespace, name } = objects;
    const labelSelector = selector(jobLabels(job));
    try {
      if (!job.remoteJob) {
        const existing = (await this.o.api.listJobs(namespace, labelSelector)).items.find(
          (j) => j.metadata?.name === name,
        );
        if (!existing) {
          await this.o.api.deleteSecret(namespace, secretName(name));
          await this.o.api.createSecret(namespace, objects.secret);
          await this.o.api.createJob(namespace, objects.job).catch((error: unknown) => {
            // Created by a server that died before recording it: attach to that one.
            if (!(error instanceof KubeApiError && error.status === 409)) throw error;
          });
        }
        await job.onSubmitted?.(`${namespace}/${name}`);
      }
    } catch (error) {
      await this.o.api.deleteSecret(namespace, secretName(name)).catch(() => undefined);
      return failed(`Kubernetes refused the Job: ${(error as Error).message}`);
    }
    try {
      return await this.follow(job, namespace, name, labelSelector);
    } finally {
      await this.o.api.deleteSecret(namespace, secretName(name)).catch(() => undefined);
    }
  }

  /** The step's environment with the server's address replaced by the one pods reach. */
  private podEnv(env: Record<string, string>): Record<string, string> {
    const own = env.TANDEM_URL;
    const reachable = this.o.serverUrl?.replace(/\/+$/, "");
    if (!own || !reachable) return env;
    return Object.fromEntries(
      Object.entries(env).map(([k, v]) => [k, v.startsWith(own) ? reachable + v.slice(own.length) : v]),
    );
  }

  private follow(job: StepJob, namespace: string, name: string, labelSelector: string) {
    const api = this.o.api;
    return new Promise<JobResult>((resolve) => {
      let report: JobResult | null = null;
      let partial = "";
      // A pod's log is read from its start again after a reattach: the lines a previous driver
      // delivered are skipped, not logged twice.
      let skip = job.remoteJob ? (job.loggedLines ?? 0) : 0;
      let stopLog: (() => void) | null = null;
      let logDone: Promise<void> | null = null;
      let waiting: string | null | undefined;
      let unschedulableSince: number | null = null;
      let finished = false;
      let stopping: JobResult | null = null;
      /** What the kubelet says it ran (status.containerStatuses[0].imageID: the tag's digest), once known. */
      let imageId: string | undefined;
      const seen = (pod: KubePod | null) => {
        imageId = pod?.status?.containerStatuses?.[0]?.imageID || imageId;
        return pod;
      };

      const onText = (text: string) => {
        const lines = (partial + text).split("\n");
        partial = lines.pop() ?? "";
        for (const line of lines) {
          const parsed = this.o.reports.parse(job, line);
          if (parsed) report = parsed;
          else if (skip > 0) skip--;
          else job.onOutput("stdout", `${line}\n`);
        }
      };
      const startLog = (pod: string) => {
        if (logDone) return;
        logDone = new Promise<void>((done) => {
          api
            .followLog(namespace, pod, "step", onText, () => done())
            .then((stop) => (stopLog = stop))
            .catch(() => done());
        });
      };
      const setWaiting = (reason: string | null) => {
        if (reason === waiting) return;
        waiting = reason;
        job.onWaiting?.(reason);
      };

      const finish = async (result: JobResult) => {
        if (finished) return;
        finished = true;
        watch.stop();
        clearInterval(podTimer);
        job.signal.removeEventListener("abort", onAbort);
        // The log stream ends with the container; give it a moment to deliver the report line.
        if (logDone) await Promise.race([logDone, new Promise((r) => setTimeout(r, 5000))]);
        stopLog?.();
        if (partial) onText("\n");
        // The engine records it in the step's environment: no registry is reachable to resolve a tag.
        resolve(imageId && !result.imageId ? { ...result, imageId } : result);
      };
      /** Stops the Job for a reason of Tandem's (cancel, a pod that cannot start) and ends with `result`. */
      const stop = (result: JobResult) => {
        if (stopping || finished) return;
        stopping = result;
        void api
          .deleteJob(namespace, name)
          .catch(() => undefined)
          .then(() => finish(result));
      };
      // Let go (this server stops, or another took the run): the Job runs on for the next driver.
      const onAbort = () =>
        released(job.signal)
          ? void finish({
              outcome: "cancelled",
              exitCode: null,
              outputs: {},
              error: `Kubernetes Job ${name} left running for the server that takes the run over`,
            })
          : stop({ outcome: "cancelled", exitCode: null, outputs: {} });
      job.signal.addEventListener("abort", onAbort, { once: true });

      const onJob = (k: KubeJob | null) => {
        if (finished || stopping) return;
        if (!k) return void finish(failed(`Kubernetes Job ${namespace}/${name} was deleted outside Tandem`));
        if (condition(k, "Complete")) {
          void (async () => {
            const pod = seen(await this.lookAtPods(namespace, labelSelector));
            if (pod) startLog(pod.metadata!.name!);
            if (logDone) await Promise.race([logDone, new Promise((r) => setTimeout(r, 5000))]);
            void finish(report ?? failed("the Job completed but the step agent sent no report"));
          })();
          return;
        }
        const failure = condition(k, "Failed");
        if (failure) {
          void (async () => {
            const pod = seen(await this.lookAtPods(namespace, labelSelector).catch(() => null));
            if (failure.reason === "DeadlineExceeded")
              return void finish({
                outcome: "timed_out",
                exitCode: null,
                outputs: {},
                error: `Kubernetes: DeadlineExceeded: ${failure.message ?? "the Job ran past activeDeadlineSeconds"}`,
              });
            const terminated = pod?.status?.containerStatuses?.[0]?.state?.terminated;
            if (terminated?.reason === "OOMKilled")
              return void finish(
                failed("Kubernetes: OOMKilled: the step used more memory than its limit", terminated.exitCode ?? 137),
              );
            if (pod) startLog(pod.metadata!.name!);
            if (logDone) await Promise.race([logDone, new Promise((r) => setTimeout(r, 5000))]);
            void finish(
              report ??
                failed(
                  `Kubernetes: ${failure.reason ?? "Failed"}: ${terminated?.message ?? failure.message ?? "the pod failed"}`,
                  terminated?.exitCode ?? null,
                ),
            );
          })();
        }
      };

      const checkPod = async () => {
        if (finished || stopping) return;
        const pod = seen(await this.lookAtPods(namespace, labelSelector).catch(() => null));
        if (!pod || finished || stopping) return;
        const status = pod.status ?? {};
        const scheduled = status.conditions?.find((c) => c.type === "PodScheduled");
        if (scheduled?.status === "False" && scheduled.reason === "Unschedulable") {
          unschedulableSince ??= Date.now();
          const message = scheduled.message ?? "no node fits the pod";
          setWaiting(`waiting for Kubernetes: Unschedulable: ${message}`);
          if (Date.now() - unschedulableSince >= (this.o.unschedulableGraceMs ?? 120_000))
            stop(failed(`Kubernetes: Unschedulable: ${message}`));
          return;
        }
        unschedulableSince = null;
        const container = status.containerStatuses?.[0];
        const waitingState = container?.state?.waiting;
        if (waitingState?.reason && HOPELESS_WAITING.has(waitingState.reason))
          return stop(failed(`Kubernetes: ${waitingState.reason}: ${waitingState.message ?? job.execution.image}`));
        if (waitingState?.reason) setWaiting(`waiting for Kubernetes: ${waitingState.reason}`);
        else if (status.phase === "Pending") setWaiting("waiting for Kubernetes: Pending");
        if (container?.state?.running || container?.state?.terminated) {
          setWaiting(null);
          startLog(pod.metadata!.name!);
        }
      };
      const podTimer = setInterval(() => void checkPod(), this.o.pollMs ?? 1000);

      const watch = new JobWatch({ api, namespace, name, labelSelector, onJob, retryMs: this.o.pollMs ?? 1000 });
      watch.start();
      if (job.signal.aborted) onAbort();
    });
  }

  /** The attempt's pod (one: backoffLimit 0), or null before it exists. */
  private async lookAtPods(namespace: string, labelSelector: string): Promise<KubePod | null> {
    const pods = await this.o.api.listPods(namespace, labelSelector);
    return pods.items[0] ?? null;
  }
}
