/**
 * What a remote executor hands `tandem step-agent` (as JSON on its stdin, never a file or a command
 * line: it holds the step's secrets and the run's token), and how the agent reports back: one line
 * `::tandem-result-<nonce>:: {JobResult}` at the end of its output.
 *
 * The nonce alone does not authenticate the report: the step runs as the agent's user and can read
 * what the agent was given (on Slurm, the batch script in slurmd's spool; in a pod, the mounted
 * Secret). So every executor hands the agent a key the step never sees (`reportKeyFile`: a file the
 * agent reads and deletes before the step starts; report-signing.ts), the report is signed,
 * `::tandem-result-<nonce>:: <hmac> {JobResult}`, and only a report with the right HMAC counts; a
 * forged line is ordinary output.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
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
> & {
  nonce: string;
  /** A file holding the report key, which the agent reads and deletes before running the step. */
  reportKeyFile?: string;
  /**
   * Directories the step must not see (hidden by its sandbox, except its own directory below them):
   * on Slurm, the job directory of every run, whose steps all run as the one step user.
   */
  hide?: string[];
};

/** What the agent needs of a step attempt; `env` may be rewritten by the executor (see KubernetesExecutor). */
export function agentJobFor(
  job: StepJob,
  nonce: string,
  env: Record<string, string> = job.env,
  reportKeyFile?: string,
  hide?: string[],
): AgentJob {
  return {
    nonce,
    ...(reportKeyFile ? { reportKeyFile } : {}),
    ...(hide?.length ? { hide } : {}),
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

const signature = (key: Buffer, nonce: string, json: string) =>
  createHmac("sha256", key).update(`${nonce}\n${json}`).digest("hex");

/** The agent's report line; signed when the agent holds a report key. */
export function resultLine(nonce: string, result: JobResult, key?: Buffer): string {
  const json = JSON.stringify(result);
  return `${resultPrefix(nonce)}${key ? `${signature(key, nonce, json)} ` : ""}${json}\n`;
}

/** A signed report in a line of output, or null when the line is not one or its HMAC is wrong. */
export function parseSignedResultLine(nonce: string, key: Buffer, line: string): JobResult | null {
  const prefix = resultPrefix(nonce);
  if (!line.startsWith(prefix)) return null;
  const rest = line.slice(prefix.length).replace(/\n$/, "");
  const space = rest.indexOf(" ");
  if (space !== 64) return null;
  const json = rest.slice(space + 1);
  const given = Buffer.from(rest.slice(0, space), "hex");
  const expected = Buffer.from(signature(key, nonce, json), "hex");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  try {
    return JSON.parse(json) as JobResult;
  } catch {
    return null;
  }
}
