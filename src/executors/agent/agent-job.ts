/**
 * What a remote executor hands `tandem step-agent` (as JSON on its stdin, never a file or a command
 * line: it holds the step's secrets and the run's token), and how the agent reports back: one line
 * `::tandem-result-<nonce>:: {JobResult}` at the end of its output. The nonce is not in the step's
 * environment, so what the step prints cannot pass for the agent's report.
 */
import type { JobResult, StepJob } from "../../core/pipelines/ports.js";

/** The step attempt as the agent runs it (the workdir's parent is the run's directory, the step user's). */
export type AgentJob = Pick<
  StepJob,
  | "runId"
  | "stepId"
  | "attempt"
  | "workdir"
  | "workspace"
  | "script"
  | "inputs"
  | "outputs"
  | "env"
  | "metricsFile"
  | "timeoutMs"
> & { nonce: string };

/** What the agent needs of a step attempt; `env` may be rewritten by the executor (see KubernetesExecutor). */
export function agentJobFor(job: StepJob, nonce: string, env: Record<string, string> = job.env): AgentJob {
  return {
    nonce,
    runId: job.runId,
    stepId: job.stepId,
    attempt: job.attempt,
    workdir: job.workdir,
    workspace: job.workspace,
    script: job.script,
    inputs: job.inputs,
    outputs: job.outputs,
    env,
    metricsFile: job.metricsFile,
    timeoutMs: job.timeoutMs,
  };
}

export const resultPrefix = (nonce: string) => `::tandem-result-${nonce}:: `;

export function resultLine(nonce: string, result: JobResult): string {
  return `${resultPrefix(nonce)}${JSON.stringify(result)}\n`;
}

/** The agent's report in a line of output, or null when the line is not one. */
export function parseResultLine(nonce: string, line: string): JobResult | null {
  const prefix = resultPrefix(nonce);
  if (!line.startsWith(prefix)) return null;
  try {
    return JSON.parse(line.slice(prefix.length)) as JobResult;
  } catch {
    return null;
  }
}
