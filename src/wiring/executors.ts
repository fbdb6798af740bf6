/** Which executors this server has: always local; Slurm and Kubernetes when configured and usable. */
import type { Config } from "../config.js";
import { ExecutorSet } from "../executors/executor-set.js";
import type { LocalExecutor } from "../executors/local/local-executor.js";

export async function wireExecutors(config: Config, local: LocalExecutor): Promise<ExecutorSet> {
  return Promise.resolve(
    new ExecutorSet({
      local,
      remote: {},
      missing: {
        slurm: "the Slurm executor is not available yet",
        kubernetes: "the Kubernetes executor is not available yet",
      },
      defaultExecutor: config.executors.defaultExecutor,
    }),
  );
}
