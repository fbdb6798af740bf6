/**
 * `tandem step-agent`, on a Slurm node or in a container: reads its AgentJob on stdin, then runs the
 * step with the local executor's own code (the same directory layout, input verification, process
 * group, timeout and output collection), with the server's API as its artifact store. Its last line
 * of output is its report (agent-job.ts); it exits with the step's exit code.
 */
import { constants } from "node:fs";
import { access, readFile, unlink } from "node:fs/promises";
import { dirname } from "node:path";
import { LocalExecutor } from "../local/local-executor.js";
import { resultLine, type AgentJob } from "./agent-job.js";
import { HttpRunArtifactStore } from "./http-artifacts.js";

/** The job on stdin is not one a Tandem executor wrote (the CLI answers it as a usage error, exit 2). */
export class AgentJobError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AgentJobError";
  }
}

export interface AgentStreams {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

export async function runStepAgent(input: string, streams: AgentStreams, signal: AbortSignal): Promise<number> {
  let job: AgentJob;
  try {
    job = JSON.parse(input) as AgentJob;
  } catch {
    throw new AgentJobError("stdin is not JSON: the step agent reads the job a Tandem executor sends it");
  }
  if (typeof job !== "object" || job === null || typeof job.env !== "object" || typeof job.workdir !== "string")
    throw new AgentJobError("stdin is not a step-agent job (env and workdir missing): it comes from a Tandem executor");
  const { TANDEM_URL: url, TANDEM_TOKEN: token, TANDEM_PROJECT: project } = job.env;
  if (!url || !token || !project)
    throw new Error("the job names no server API (TANDEM_URL, TANDEM_TOKEN, TANDEM_PROJECT)");
  // The report key is taken away before the step starts: the step, running as this user, must not
  // find it, or it could sign a report of its own.
  let reportKey: Buffer | undefined;
  if (job.reportKeyFile) {
    try {
      reportKey = Buffer.from((await readFile(job.reportKeyFile, "utf8")).trim(), "hex");
    } catch (error) {
      throw new Error(
        `the report key ${job.reportKeyFile} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): was this job started twice?`,
        { cause: error },
      );
    } finally {
      await unlink(job.reportKeyFile).catch(() => undefined);
    }
  }
  const local = await LocalExecutor.create({
    root: dirname(job.workdir),
    artifacts: new HttpRunArtifactStore(url, token, project, job.runId),
    hide: Array.isArray(job.hide) ? job.hide.filter((h) => typeof h === "string") : [],
  });
  // The project folder shows in the step directory only where this node can read it (a shared
  // filesystem, readable by the step user); otherwise the step has its inputs alone, and says so.
  let workspace = job.workspace;
  if (
    workspace &&
    !(await access(workspace, constants.R_OK | constants.X_OK).then(
      () => true,
      () => false,
    ))
  ) {
    streams.stderr.write(
      `tandem step-agent: the project folder ${workspace} is not readable on this node by this user; the step sees only its inputs\n`,
    );
    workspace = null;
  }
  let endsWithNewline = true;
  // An error of the agent's own (an upload the server refused) is its report too: the step says why.
  const result = await local
    .run({
      ...job,
      workspace,
      project,
      pipeline: job.env.TANDEM_PIPELINE ?? "",
      stepName: job.env.TANDEM_STEP ?? "",
      execution: { executor: "local", image: null, slurm: {}, kubernetes: {} },
      resources: {},
      signal,
      onOutput(stream, text) {
        if (stream === "stdout") {
          if (text) endsWithNewline = text.endsWith("\n");
          streams.stdout.write(text);
        } else streams.stderr.write(text);
      },
    })
    .catch((error: Error) => ({
      outcome: "failed" as const,
      exitCode: null,
      outputs: {},
      error: `the step agent failed: ${error.message}`,
    }));
  streams.stdout.write(`${endsWithNewline ? "" : "\n"}${resultLine(job.nonce, result, reportKey)}`);
  return result.outcome === "succeeded" ? 0 : (result.exitCode ?? 1) || 1;
}
