/**
 * Which executors this server has: always local; Slurm when its client commands are on PATH;
 * Kubernetes when a cluster is configured (wiring/kubernetes.ts)
 * (whether the cluster answers, and whether its nodes can reach this server, is validate's warning
 * and the step's error, not a reason to refuse to start).
 */
import { createHmac } from "node:crypto";
import { existsSync } from "node:fs";
import { hostname } from "node:os";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Config } from "../config.js";
import type { Services } from "../server/services.js";
import { ExecutorSet } from "../executors/executor-set.js";
import type { LocalExecutor } from "../executors/local/local-executor.js";
import { nodeNames, slurmProblem } from "../executors/slurm/slurm-cli.js";
import { SlurmExecutor } from "../executors/slurm/slurm-executor.js";
import { wireKubernetesExecutor } from "./kubernetes.js";

const onPath = (command: string) =>
  (process.env.PATH ?? "").split(delimiter).some((dir) => dir && existsSync(join(dir, command)));

const LOCAL_NAMES = new Set(["localhost", hostname(), hostname().split(".")[0]]);

/** Why Slurm steps cannot work from this server, or null. */
async function slurmReachability(services: Pick<Services, "config">, sharedDirSet: boolean): Promise<string | null> {
  const down = await slurmProblem();
  if (down) return down;
  const url = services.config.serverUrl;
  if (!url) return "the server's URL is not known (run tandem server, or set TANDEM_URL), so nodes cannot fetch inputs";
  const remote = (await nodeNames()).filter((n) => !LOCAL_NAMES.has(n));
  if (!remote.length) return null;
  const host = new URL(url).hostname;
  if (host === "localhost" || host.startsWith("127.") || host === "[::1]")
    return `nodes ${remote.slice(0, 3).join(", ")} cannot reach the server at ${url}: listen on an address they reach (TANDEM_HOST) and set TANDEM_URL to it`;
  if (!sharedDirSet)
    return "TANDEM_SLURM_DIR is not set: job output must be on a path every node shares (e.g. an NFS mount)";
  return null;
}

export async function wireExecutors(
  config: Config,
  services: Pick<Services, "config">,
  local: LocalExecutor,
  secretKey: Buffer,
): Promise<ExecutorSet> {
  const remote: ConstructorParameters<typeof ExecutorSet>[0]["remote"] = {};
  const missing: Partial<Record<"slurm" | "kubernetes", string>> = {};
  const kubernetes = await wireKubernetesExecutor(
    config,
    services,
    createHmac("sha256", secretKey).update("tandem step-agent report").digest(),
  );
  if (typeof kubernetes === "string") missing.kubernetes = kubernetes;
  else remote.kubernetes = kubernetes;
  if (onPath("sbatch")) {
    const slurm = config.executors.slurm;
    remote.slurm = await SlurmExecutor.create({
      dir: slurm.dir ?? `${config.workDir}-slurm`,
      defaults: slurm,
      // A root server never runs steps as root: nobody unless TANDEM_STEP_USER names someone.
      stepUser: process.getuid?.() === 0 ? (config.executors.stepUser ?? "nobody") : null,
      // The compiled agent entry (from src/ or dist/ alike: both sit beside dist/).
      agentArgv: [process.execPath, fileURLToPath(new URL("../../dist/executors/agent/main.js", import.meta.url))],
      reportKey: createHmac("sha256", secretKey).update("tandem step-agent report").digest(),
      pollMs: slurm.pollMs,
      watch: { sacctGraceMs: slurm.sacctGraceS * 1000, lostAfterMs: slurm.lostAfterS * 1000 },
      problem: () => slurmReachability(services, slurm.dir !== undefined),
    });
  } else missing.slurm = "sbatch is not on this server's PATH";
  return new ExecutorSet({ local, remote, missing, defaultExecutor: config.executors.defaultExecutor });
}
