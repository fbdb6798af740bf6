/**
 * The per-attempt secrets of a remote step's report (agent-job.ts), derived from the server's report
 * key so that every server of an installation, and a server after a restart, derives the same ones:
 * - the nonce, which marks the report line (the step may learn it: it reads what the agent reads);
 * - the signing key, which the agent takes away before the step starts (Slurm: a 0400 file the agent
 *   deletes; Kubernetes: a file an init container copies out of the Secret, which the agent deletes),
 *   so a line the step prints can never pass for the agent's report.
 * The derivations are those the Slurm executor used before they moved here: jobs running across an
 * upgrade keep their keys.
 */
import { createHmac } from "node:crypto";
import type { StepJob } from "../../core/pipelines/ports.js";
import { parseSignedResultLine } from "./agent-job.js";
import type { JobResult } from "../../core/pipelines/ports.js";

type Attempt = Pick<StepJob, "stepId" | "attempt">;

export class ReportSigning {
  constructor(private readonly reportKey: Buffer) {}

  nonce(job: Attempt): string {
    return createHmac("sha256", this.reportKey).update(`${job.stepId}:${job.attempt}`).digest("hex").slice(0, 32);
  }

  key(job: Attempt): Buffer {
    return createHmac("sha256", this.reportKey).update(`key:${job.stepId}:${job.attempt}`).digest();
  }

  /** The attempt's report in a line of output, or null (not a report, or not signed with its key). */
  parse(job: Attempt, line: string): JobResult | null {
    return parseSignedResultLine(this.nonce(job), this.key(job), line);
  }
}
