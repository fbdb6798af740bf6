/** `tandem step-agent`: the step agent by hand (jobs run its lean entry, executors/agent/main.ts). */
import type { Command } from "commander";
import { UsageError } from "./context.js";

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export function registerStepAgentCommand(program: Command): void {
  program
    .command("step-agent")
    .description(
      "Run one pipeline step on a remote node (what the Slurm and Kubernetes executors start): reads the job on stdin, fetches inputs and uploads outputs through the server's API with the run's token, and ends its output with a report line.",
    )
    .action(async () => {
      const controller = new AbortController();
      // scancel and a pod's deletion send SIGTERM: stop the step's process group, then report.
      process.once("SIGTERM", () => controller.abort());
      const { AgentJobError, runStepAgent } = await import("../executors/agent/step-agent.js");
      try {
        process.exitCode = await runStepAgent(await readStdin(), process, controller.signal);
      } catch (error) {
        throw error instanceof AgentJobError ? new UsageError(error.message) : error;
      }
    });
}
