/**
 * Kubernetes dispatch overhead (informational, issue 17): what KubernetesExecutor adds per step
 * against the stand-in API server of the contract tests (test/helpers/kubernetes-standin.ts), whose
 * Jobs finish at once: create the Secret and the Job, follow the watch, read the pod and its log,
 * delete the Secret. A real cluster adds scheduling and image pulls, which this does not measure.
 */
import { randomBytes } from "node:crypto";
import { cpus, loadavg } from "node:os";
import type { StepJob } from "../../src/core/pipelines/ports.js";
import { resultLine } from "../../src/executors/agent/agent-job.js";
import { ReportSigning } from "../../src/executors/agent/report-signing.js";
import { KubeApi } from "../../src/executors/kubernetes/kube-api.js";
import { KubernetesExecutor } from "../../src/executors/kubernetes/kubernetes-executor.js";
import { KubernetesStandIn } from "../../test/helpers/kubernetes-standin.js";

export async function kubernetesDispatchOverhead(steps: number): Promise<{ measure: string; perStepMs: number }> {
  const standIn = await new KubernetesStandIn().start();
  standIn.stepMs = 0;
  const reports = new ReportSigning(randomBytes(32));
  // The agent's signed report, as the pod would print it (the stand-in runs no container).
  const report = (stepId: string) =>
    resultLine(
      reports.nonce({ stepId, attempt: 1 }),
      { outcome: "succeeded", exitCode: 0, outputs: {} },
      reports.key({ stepId, attempt: 1 }),
    ).trimEnd();
  standIn.scenario = (job) => ({ kind: "succeed", log: [report(String(job.metadata.labels["tandem.dev/step-id"]))] });
  const executor = new KubernetesExecutor({
    api: KubeApi.forServer(standIn.url),
    defaults: { namespace: "bench", agentCommand: "tandem", ttlSecondsAfterFinished: 60 },
    reports,
    pollMs: 20,
  });
  const job = (i: number): StepJob => ({
    runId: `benchrun${i}`,
    stepId: `s${i}`,
    attempt: 1,
    project: "bench",
    pipeline: "p",
    stepName: `s${i}`,
    execution: { executor: "kubernetes", image: "busybox", slurm: {}, kubernetes: {} },
    resources: {},
    workdir: `/tandem/work/${i}`,
    workspace: null,
    script: "true",
    inputs: [],
    outputs: [],
    env: { TANDEM_URL: "http://tandem", TANDEM_TOKEN: "t" },
    signal: new AbortController().signal,
    onOutput: () => undefined,
  });
  try {
    const started = performance.now();
    for (let i = 0; i < steps; i++) {
      const result = await executor.run(job(i));
      if (result.outcome !== "succeeded") throw new Error(`step ${i}: ${result.error}`);
    }
    const perStep = (performance.now() - started) / steps;
    return {
      measure: `Kubernetes dispatch per step, ${steps} steps one after another on the stand-in API server (${cpus().length} CPUs, load ${loadavg()[0]!.toFixed(1)})`,
      perStepMs: Number(perStep.toFixed(1)),
    };
  } finally {
    await standIn.stop();
  }
}
