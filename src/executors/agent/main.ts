/**
 * The step agent's own entry point, which the Slurm executor's job script runs: it loads the agent
 * and the local executor only, not the whole CLI, since every remote step pays its start-up.
 * `tandem step-agent` runs the same code.
 *
 * The job comes on stdin, or from the file named by the one argument, which is deleted once read:
 * Slurm gives a job's batch script to any process of its user, and every run's steps share that
 * user, so the job (the run's token, its secrets) is kept out of the script.
 */
import { readFile, unlink } from "node:fs/promises";
import { runStepAgent } from "./step-agent.js";

const jobFile = process.argv[2];
const chunks: Buffer[] = [];
if (jobFile) {
  try {
    chunks.push(await readFile(jobFile));
  } finally {
    await unlink(jobFile).catch(() => undefined);
  }
} else for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
const controller = new AbortController();
// scancel and a pod's deletion send SIGTERM: stop the step's process group, then report.
process.once("SIGTERM", () => controller.abort());
try {
  process.exitCode = await runStepAgent(Buffer.concat(chunks).toString("utf8"), process, controller.signal);
} catch (error) {
  process.stderr.write(`tandem step-agent: ${(error as Error).message}\n`);
  process.exitCode = 1;
}
