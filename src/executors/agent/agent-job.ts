/**
 * What a remote executor hands `tandem step-agent` (as JSON on its stdin, never a file or a command
 * line: it holds the step's secrets and the run's token), and how the agent reports back: one line
 * `::tandem-result-<nonce>:: {JobResult}` at the end of its output. The nonce is not in the step's
 * environment, so what the step prints cannot pass for the agent's report.
 */
import type { JobInput, JobOutput, JobResult, StepJob } from "../../core/pipelines/ports.js";

export interface AgentJob {
  nonce: string;
  runId: string;
  stepId: string;
  attempt: number;
  /** The step's private directory on the node; its parent is the run's directory, the step user's. */
  workdir: string;
  /** The project folder, when the node sees it at the same path (shared filesystem); else null. */
  workspace: string | null;
  script: string;
  inputs: JobInput[];
  outputs: JobOutput[];
  env: Record<string, string>;
  metricsFile?: string;
  timeoutMs?: number;
}

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
