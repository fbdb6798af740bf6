/**
 * The step agent's own entry point, which the Slurm executor's job script runs: it loads the agent
 * and the local executor only, not the whole CLI, since every remote step pays its start-up.
 * `tandem step-agent` runs the same code.
 */
import { runStepAgent } from "./step-agent.js";

const chunks: Buffer[] = [];
for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
const controller = new AbortController();
// scancel and a pod's deletion send SIGTERM: stop the step's process group, then report.
process.once("SIGTERM", () => controller.abort());
try {
  process.exitCode = await runStepAgent(Buffer.concat(chunks).toString("utf8"), process, controller.signal);
} catch (error) {
  process.stderr.write(`tandem step-agent: ${(error as Error).message}\n`);
  process.exitCode = 1;
}
